// /etc/hostname, /etc/hosts and /etc/resolv.conf for a container, written as docker writes them.
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname as hostHostname } from 'node:os';
import type { Container } from './model.ts';
import type { ContainerPaths } from './paths.ts';

const LOCAL_HOSTS = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

function readHostFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function extraHostLines(extra: string[] | null): string[] {
  return (extra ?? []).map((entry) => {
    const at = entry.indexOf(':');
    if (at <= 0) throw new Error(`invalid argument "${entry}" for "--add-host" flag: bad format for add-host: "${entry}"`);
    return `${entry.slice(at + 1).replace(/^\[(.*)\]$/, '$1')}\t${entry.slice(0, at)}`;
  });
}

export function hostsFile(c: Container, addresses: string[] = []): string {
  if (c.HostConfig.NetworkMode === 'host') {
    return readHostFile('/etc/hosts') + extraHostLines(c.HostConfig.ExtraHosts).map((l) => l + '\n').join('');
  }
  const name = c.Config.Domainname ? `${c.Config.Hostname}.${c.Config.Domainname} ${c.Config.Hostname}` : c.Config.Hostname;
  const lines = [...LOCAL_HOSTS, ...extraHostLines(c.HostConfig.ExtraHosts), ...addresses.map((a) => `${a}\t${name}`)];
  return lines.join('\n') + '\n';
}

/** The host's resolver config as a container sees it: local stub resolvers cannot be reached from another netns. */
export function resolvConf(c: Container, embeddedDns: string[] = []): string {
  const stub = readHostFile('/etc/resolv.conf');
  const source = /^nameserver\s+127\.0\.0\.53\s*$/m.test(stub) ? readHostFile('/run/systemd/resolve/resolv.conf') || stub : stub;
  const hostNet = c.HostConfig.NetworkMode === 'host';
  let nameservers: string[] = [];
  let search: string[] = [];
  let options: string[] = [];
  const other: string[] = [];
  for (const line of source.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key === 'nameserver' && rest[0]) {
      if (hostNet || !/^(127\.|::1$)/.test(rest[0])) nameservers.push(rest[0]);
    } else if (key === 'search' || key === 'domain') search = rest;
    else if (key === 'options') options = rest;
    else if (line.trim() && !line.trim().startsWith('#')) other.push(line.trim());
  }
  // on a user-defined network, hull-dns answers (other containers' names) and forwards the rest
  // to the container's --dns servers, or the host's resolvers
  if (embeddedDns.length) nameservers = embeddedDns;
  else if (c.HostConfig.Dns.length) nameservers = c.HostConfig.Dns;
  else if (nameservers.length === 0 && !hostNet) nameservers = ['8.8.8.8', '8.8.4.4'];
  if (c.HostConfig.DnsSearch.length) search = c.HostConfig.DnsSearch.filter((s) => s !== '.');
  if (c.HostConfig.DnsOptions.length) options = c.HostConfig.DnsOptions;
  const out = [...nameservers.map((n) => `nameserver ${n}`)];
  if (search.length) out.push(`search ${search.join(' ')}`);
  if (options.length) out.push(`options ${options.join(' ')}`);
  return out.join('\n') + '\n';
}

/** What the container's networks add: the DNS servers of its user-defined networks, and its own addresses. */
export interface EtcNetwork {
  dns?: string[];
  addresses?: string[];
}

export function writeEtcFiles(c: Container, p: ContainerPaths, net: EtcNetwork = {}): void {
  const name = c.HostConfig.NetworkMode === 'host' ? hostHostname() : c.Config.Hostname;
  writeFileSync(p.hostname, name + '\n', { mode: 0o644 });
  writeFileSync(p.hosts, hostsFile(c, net.addresses), { mode: 0o644 });
  writeFileSync(p.resolvConf, resolvConf(c, net.dns), { mode: 0o644 });
}
