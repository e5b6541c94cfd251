// The kernel side of hull's networks: a network's bridge and firewall rules, and a container's
// network namespace, veth pairs, addresses, published ports and DNS records. Every step has its
// undo, and every undo is safe to run again: a cleanup after a kill -9 runs them blind.
import { checksum64, randomBytes } from '../../crypto.ts';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { transaction } from '../../image/store/metadata.ts';
import { formatPrefix, overlaps, parsePrefix } from '../../network/cidr.ts';
import { checkNftables, Firewall } from '../../network/firewall/index.ts';
import { dnsBinary, hostForwarders, notifyDns, removeNetworkDns, writeNetworkDns, type DnsRecord } from '../../network/dns/index.ts';
import { createNetns, removeNetns } from '../../network/netns.ts';
import { NetlinkError } from '../../network/netlink/message.ts';
import { attachVeth, deleteLink, detachVeth, ensureBridge, linkExists } from '../../network/veth.ts';
import { loadEngineConfig } from '../config.ts';
import type { ContainerEnv } from '../containers/lifecycle.ts';
import type { Container } from '../containers/model.ts';
import { allocate, completePool, DEFAULT_POOLS, hostRoutes, macFor, pickSubnet } from './ipam.ts';
import { BRIDGE_NAME_OPTION, MTU_OPTION, type Network } from './model.ts';
import { rootTag, type Endpoint } from './store.ts';
import { publishedPorts, type PortMap } from './ports.ts';

export function firewall(env: ContainerEnv): Firewall {
  const tag = rootTag(env.roots);
  return new Firewall({ table: tag ? `hull-${tag}` : 'hull' });
}

export function dnsDir(env: ContainerEnv): string {
  return join(env.roots.runroot, 'dns');
}

export function netnsPath(env: ContainerEnv, id: string): string {
  return join(env.roots.runroot, 'netns', id);
}

/** The host end of a container's veth on a network: derived, so a cleanup finds it with no state. */
export function vethName(containerId: string, networkId: string): string {
  return 'veth' + checksum64(`${containerId}/${networkId}`).slice(0, 11);
}

export function isBridgeNetwork(n: Network): boolean {
  return n.Driver === 'bridge';
}

/** The default bridge has no DNS between containers (docker's legacy links are not supported). */
export function hasDns(n: Network): boolean {
  return isBridgeNetwork(n) && n.Options['com.docker.network.bridge.default_bridge'] !== 'true';
}

function writeSysctl(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch (e) {
    throw new Error(`cannot set ${path.replace('/proc/sys/', '').replaceAll('/', '.')} to ${value}: ${(e as Error).message}`);
  }
}

/**
 * Makes a network's bridge, its addresses and its firewall rules, if the bridge is not there yet
 * (a new network, or the first start after a reboot). A bridge that is there is taken as set up.
 */
export function bridgeUp(env: ContainerEnv, n: Network): void {
  if (!isBridgeNetwork(n)) return;
  const dev = n.Options[BRIDGE_NAME_OPTION]!;
  if (linkExists(dev)) return;
  n = movedIfClashing(env, n, dev);
  const addresses = n.IPAM.Config.map((p) => `${p.Gateway}/${parsePrefix(p.Subnet).bits}`);
  checkNftables();
  const fw = firewall(env);
  // the rules go first: a bridge that exists is taken as set up, so it must never exist without them
  fw.addNetwork({ id: n.Id, bridge: dev, subnets: n.IPAM.Config.map((p) => p.Subnet), internal: n.Internal });
  try {
    ensureBridge({ name: dev, mtu: Number(n.Options[MTU_OPTION] ?? 1500), addresses });
    // forwarded IPv6 would stall while the new bridge checks its own link-local address
    if (n.EnableIPv6) writeSysctl(`/proc/sys/net/ipv6/conf/${dev}/accept_dad`, '0');
    // published ports must answer on 127.0.0.1 too: the kernel routes loopback sources out of the bridge only with this
    writeSysctl(`/proc/sys/net/ipv4/conf/${dev}/route_localnet`, '1');
    if (!n.Internal) {
      if (n.IPAM.Config.some((p) => parsePrefix(p.Subnet).family === 4)) writeSysctl('/proc/sys/net/ipv4/ip_forward', '1');
      if (n.IPAM.Config.some((p) => parsePrefix(p.Subnet).family === 6)) writeSysctl('/proc/sys/net/ipv6/conf/all/forwarding', '1');
    }
  } catch (e) {
    removeBridge(env, n);
    throw e;
  }
}

/**
 * A subnet hull picked for the default bridge may have been taken meanwhile (another engine,
 * a VPN): while no container holds an address on it, it moves to a free one.
 */
function movedIfClashing(env: ContainerEnv, n: Network, dev: string): Network {
  const routes = hostRoutes([dev]);
  const clash = n.IPAM.Config.map((p) => parsePrefix(p.Subnet)).flatMap((s) => routes.filter((r) => overlaps(r.prefix, s)).map((r) => ({ s, r })));
  if (!clash.length) return n;
  const cfg = loadEngineConfig();
  const movable = n.Name === 'bridge' && !cfg.bip && !env.networks.endpoints(n.Id).some((e) => e.ip4 || e.ip6);
  const { s, r } = clash[0]!;
  if (!movable) throw new Error(`network ${n.Name}: its subnet ${formatPrefix(s)} overlaps ${formatPrefix(r.prefix)}, which the host routes through ${r.dev}`);
  const taken = [...routes.map((x) => x.prefix), ...env.networks.list().filter((x) => x.Id !== n.Id).flatMap((x) => x.IPAM.Config.map((p) => parsePrefix(p.Subnet)))];
  const subnet = pickSubnet(cfg.defaultAddressPools.length ? cfg.defaultAddressPools : DEFAULT_POOLS, taken);
  const moved: Network = { ...n, IPAM: { ...n.IPAM, Config: [completePool({ Subnet: formatPrefix(subnet) })] } };
  env.networks.update(moved);
  return moved;
}

/**
 * Removes the firewall rules of networks and containers this state root no longer has running
 * (a network row deleted by a crashed `network rm`, ports of a container whose teardown died).
 * It reads the ruleset, so prune runs it, not every command.
 */
export function reconcileFirewall(env: ContainerEnv): void {
  const fw = firewall(env);
  let owners;
  try {
    owners = fw.owners();
  } catch {
    return; // no nftables: nothing of ours can be there
  }
  for (const id of owners.networks) if (!env.networks.get(id)) fw.removeNetwork(id);
  for (const id of owners.containers) {
    const c = env.containers.get(id);
    if (!c?.State.Running && !c?.State.Restarting) fw.removePorts(id);
  }
}

/** Deletes a network's bridge, firewall rules and DNS file; each part may already be gone. */
export function removeBridge(env: ContainerEnv, n: Network): void {
  if (!isBridgeNetwork(n)) return;
  firewall(env).removeNetwork(n.Id);
  deleteLink(n.Options[BRIDGE_NAME_OPTION]!);
  removeNetworkDns(dnsDir(env), n.Id);
}

/** What a container's start made on its networks: the netns to join, and the ports it got. */
export interface Sandbox {
  netns: string;
  ports: PortMap;
  addresses: string[];
}

/**
 * Addresses every endpoint of the container, in one transaction so two starts never take the
 * same address; the endpoint settings then hold what inspect shows.
 */
export function addressEndpoints(env: ContainerEnv, c: Container, endpoints: Endpoint[]): Endpoint[] {
  return transaction(env.networks.db, () => endpoints.map((e) => {
    const n = env.networks.get(e.network);
    if (!n) throw new Error(`network ${e.network} not found`);
    const others = env.networks.endpoints(n.Id).filter((x) => x.container !== c.Id);
    const out: Endpoint = { ...e, ip4: null, ip6: null, settings: { ...e.settings } };
    for (const pool of n.IPAM.Config) {
      const v6 = parsePrefix(pool.Subnet).family === 6;
      const used = new Set(others.map((x) => (v6 ? x.ip6 : x.ip4)).filter((x): x is string => !!x));
      const requested = v6 ? e.settings.IPAMConfig?.IPv6Address : e.settings.IPAMConfig?.IPv4Address;
      const { address, prefixLen } = allocate(pool, used, requested || undefined);
      if (v6) {
        out.ip6 = address;
        Object.assign(out.settings, { GlobalIPv6Address: address, GlobalIPv6PrefixLen: prefixLen, IPv6Gateway: n.Internal ? '' : pool.Gateway ?? '' });
      } else {
        out.ip4 = address;
        Object.assign(out.settings, { IPAddress: address, IPPrefixLen: prefixLen, Gateway: n.Internal ? '' : pool.Gateway ?? '' });
      }
    }
    out.settings.MacAddress = e.settings.MacAddress || macFor(out.ip4 ?? undefined);
    out.settings.EndpointID = randomBytes(32).toString('hex');
    out.settings.DNSNames = hasDns(n) ? [c.Name, c.Id.slice(0, 12), ...(e.settings.Aliases ?? [])] : null;
    env.networks.setAddresses(out);
    return out;
  }));
}

/**
 * Sets up a starting container's networking: its netns, a veth into each network (eth0, eth1, ...
 * in the order it joined), its published ports and its names in the networks' DNS. Returns the
 * netns for the spec. Undone by tearDownSandbox, also when it fails half way.
 */
export async function setUpSandbox(env: ContainerEnv, c: Container): Promise<Sandbox | undefined> {
  const endpoints = env.networks.containerEndpoints(c.Id);
  const mode = c.HostConfig.NetworkMode;
  if (!['none', 'host'].includes(mode) && !mode.startsWith('container:') && !endpoints.some((e) => env.networks.get(e.network)?.Name === mode)) {
    // its network was removed while it was stopped, as docker allows
    throw new Error(`network ${mode} not found`);
  }
  if (!endpoints.length) return undefined;
  const netns = netnsPath(env, c.Id);
  try {
    const networks = endpoints.map((e) => {
      const n = env.networks.get(e.network);
      if (!n) throw new Error(`network ${e.network} not found`);
      bridgeUp(env, n);
      return env.networks.get(n.Id)!;
    });
    const addressed = addressEndpoints(env, c, endpoints);
    mkdirSync(join(env.roots.runroot, 'netns'), { recursive: true, mode: 0o700 });
    createNetns(netns);
    let routed = false;
    addressed.forEach((e, i) => {
      const n = networks[i]!;
      const addresses = endpointAddresses(n, e);
      // the first network that leads out gives the default routes
      const gateways = !routed && !n.Internal ? n.IPAM.Config.map((p) => p.Gateway!).filter(Boolean) : [];
      if (gateways.length) routed = true;
      attachFresh({
        hostName: vethName(c.Id, n.Id), bridge: n.Options[BRIDGE_NAME_OPTION]!, netnsPath: netns, ifname: `eth${i}`,
        mtu: Number(n.Options[MTU_OPTION] ?? 1500), mac: e.settings.MacAddress, addresses, gateways,
      });
    });
    const ports = await publishedPorts(env, c, addressed, networks);
    if (ports.forwards.length) firewall(env).addPorts(c.Id, ports.forwards);
    env.containers.setPorts(c.Id, ports.map);
    refreshDns(env, networks.filter(hasDns));
    return { netns, ports: ports.map, addresses: addressed.flatMap((e) => [e.ip4, e.ip6]).filter((x): x is string => !!x) };
  } catch (e) {
    tearDownSandbox(env, c.Id);
    throw e;
  }
}

/** An endpoint's addresses with their networks' prefix lengths, as the container's link gets them. */
export function endpointAddresses(n: Network, e: Endpoint): string[] {
  return n.IPAM.Config.map((p) => {
    const subnet = parsePrefix(p.Subnet);
    return `${subnet.family === 6 ? e.ip6 : e.ip4}/${subnet.bits}`;
  });
}

/**
 * attachVeth; a host end of that name that an earlier run of the container left (its netns is
 * still held somewhere) is deleted and the attach tried again.
 */
export function attachFresh(o: Parameters<typeof attachVeth>[0]): void {
  try {
    attachVeth(o);
  } catch (e) {
    if (!(e instanceof NetlinkError && e.code === 'EEXIST') || !linkExists(o.hostName)) throw e;
    detachVeth(o.hostName);
    attachVeth(o);
  }
  // a container reaching its own published port sends the packet back out of the port it came in by
  try {
    writeFileSync(`/sys/class/net/${o.hostName}/brport/hairpin_mode`, '1');
  } catch (e) {
    detachVeth(o.hostName);
    throw new Error(`cannot set hairpin mode on ${o.hostName}: ${(e as Error).message}`);
  }
}

/** Undoes setUpSandbox; safe to run more than once and after a crash at any point. */
export function tearDownSandbox(env: ContainerEnv, id: string): void {
  const c = env.containers.get(id);
  const endpoints = env.networks.containerEndpoints(id);
  // Deleting a veth waits for the kernel's RCU grace periods (~15 ms here); dropping the last
  // reference to the netns makes the kernel delete its veths in the background instead. A veth a
  // netns still held elsewhere keeps is deleted by the next attach of that name (attachFresh).
  removeNetns(netnsPath(env, id));
  // a container that published nothing has no rules: no nft run
  if (Object.values(c?.Ports ?? {}).some((list) => list?.length)) firewall(env).removePorts(id);
  const held = endpoints.filter((e) => e.ip4 || e.ip6);
  releaseAddresses(env, held);
  if (c) env.containers.setPorts(id, null);
  refreshDns(env, held.map((e) => env.networks.get(e.network)).filter((n): n is Network => !!n && hasDns(n)));
}

function hasDnsId(env: ContainerEnv, id: string): boolean {
  const n = env.networks.get(id);
  return !!n && hasDns(n);
}

export function releaseAddresses(env: ContainerEnv, endpoints: Endpoint[]): void {
  if (!endpoints.length) return;
  transaction(env.networks.db, () => {
    for (const e of endpoints) {
      env.networks.setAddresses({ ...e, ip4: null, ip6: null, settings: { ...e.settings, EndpointID: '', IPAddress: '', IPPrefixLen: 0, Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, IPv6Gateway: '', DNSNames: null } });
    }
  });
}

/** Rewrites the DNS records of these networks from who is on them now, and tells hull-dns. */
export function refreshDns(env: ContainerEnv, changed: Network[]): void {
  if (!changed.length) return;
  // a network's file also holds, for its members on other networks, those networks' names
  const byId = new Map(changed.map((n) => [n.Id, n]));
  for (const n of changed) {
    for (const e of env.networks.endpoints(n.Id)) {
      for (const other of env.networks.containerEndpoints(e.container)) {
        const m = byId.has(other.network) ? undefined : env.networks.get(other.network);
        if (m && hasDns(m)) byId.set(m.Id, m);
      }
    }
  }
  const networks = [...byId.values()];
  const dir = dnsDir(env);
  // an upstream that is one of hull-dns's own addresses (a gateway) would send questions round in a circle
  const gateways = new Set(env.networks.list().flatMap((x) => x.IPAM.Config.map((p) => p.Gateway)));
  const upstreams = (list: string[]) => list.filter((f) => !gateways.has(f.replace(/#\d+$/, '')));
  const forward = upstreams(hostForwarders());
  for (const n of networks) {
    const records: DnsRecord[] = [];
    const members = env.networks.endpoints(n.Id);
    for (const e of members) {
      for (const name of e.settings.DNSNames ?? []) {
        if (e.ip4) records.push({ name, ip: e.ip4 });
        if (e.ip6) records.push({ name, ip: e.ip6 });
      }
    }
    // a container on several networks asks this network's server (its first nameserver) for
    // the names of its other networks too: those records answer it alone, as docker's do
    for (const e of members) {
      const clients = [e.ip4, e.ip6].filter((x): x is string => !!x);
      if (!clients.length) continue;
      for (const other of env.networks.containerEndpoints(e.container)) {
        if (other.network === n.Id || !hasDnsId(env, other.network)) continue;
        for (const peer of env.networks.endpoints(other.network)) {
          if (peer.container === e.container) continue;
          for (const name of peer.settings.DNSNames ?? []) {
            for (const ip of [peer.ip4, peer.ip6]) if (ip) for (const client of clients) records.push({ name, ip, client });
          }
        }
      }
    }
    // a container's --dns servers are its upstreams, as docker's embedded DNS forwards to them
    const clientForward = n.Internal ? [] : members.flatMap((e) => {
      const servers = upstreams(env.containers.get(e.container)?.HostConfig.Dns ?? []);
      return servers.length ? [e.ip4, e.ip6].filter((x): x is string => !!x).map((client) => ({ client, forward: servers.slice(0, 8) })) : [];
    });
    if (!records.length) removeNetworkDns(dir, n.Id);
    else writeNetworkDns(dir, n.Id, { listen: n.IPAM.Config.map((p) => p.Gateway!).filter(Boolean), forward: n.Internal ? [] : forward, records, clientForward });
  }
  if (existsSync(dir)) notifyDns(dir, dnsBinary());
}
