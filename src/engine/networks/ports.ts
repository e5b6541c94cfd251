// Published ports: which host port each of a container's published ports gets (docker's
// PortBindings and -P), and the forwards the firewall installs for them.
import { readFileSync } from 'node:fs';
import { transaction } from '../../image/store/metadata.ts';
import { parseAddress, formatAddress } from '../../network/cidr.ts';
import type { PortForward } from '../../network/firewall/index.ts';
import type { ContainerEnv } from '../containers/lifecycle.ts';
import type { Container } from '../containers/model.ts';
import { BRIDGE_NAME_OPTION, type Network } from './model.ts';
import type { Endpoint } from './store.ts';

export type PortMap = Record<string, { HostIp: string; HostPort: string }[] | null>;

/** The host's ephemeral port range, where random host ports come from (docker's choice too). */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo! > 0 && hi! >= lo!) return [lo!, hi!];
  } catch {
    // fall back to the kernel's default
  }
  return [32768, 60999];
}

/** Ports some process of the host holds now: listening TCP sockets and bound UDP ones. */
function hostBoundPorts(proto: 'tcp' | 'udp'): Set<number> {
  const out = new Set<number>();
  for (const file of [`/proc/net/${proto}`, `/proc/net/${proto}6`]) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4) continue;
      if (proto === 'tcp' && f[3] !== '0A') continue;
      out.add(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return out;
}

interface Wanted {
  key: string;
  proto: 'tcp' | 'udp';
  containerPort: number;
  hostIp: string;
  range: [number, number] | null;
}

/** Checks a new container's published ports (PortBindings, -P), so that a bad one fails create rather than start. */
export function checkPublishedPorts(c: Pick<Container, 'Config' | 'HostConfig'>): void {
  wantedPorts(c);
}

function wantedPorts(c: Pick<Container, 'Config' | 'HostConfig'>): Wanted[] {
  const out: Wanted[] = [];
  const bindings = c.HostConfig.PortBindings ?? {};
  const keys = new Set(Object.keys(bindings));
  if (c.HostConfig.PublishAllPorts) for (const k of Object.keys(c.Config.ExposedPorts ?? {})) keys.add(k);
  for (const key of keys) {
    const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(key);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new Error(`invalid port specification: "${key}"`);
    const proto = (m[2] ?? 'tcp') as 'tcp' | 'udp' | 'sctp';
    if (proto === 'sctp') throw new Error(`publishing sctp ports is not supported: ${key}`);
    const list = bindings[key]?.length ? bindings[key]! : [{ HostIp: '', HostPort: '' }];
    for (const b of list) {
      let hostIp = '';
      if (b.HostIp && b.HostIp !== '0.0.0.0' && b.HostIp !== '::') {
        const a = parseAddress(b.HostIp);
        if (!a) throw new Error(`invalid host IP address ${JSON.stringify(b.HostIp)} for port ${key}`);
        hostIp = formatAddress(a);
      } else if (b.HostIp === '::') hostIp = '::';
      let range: [number, number] | null = null;
      if (b.HostPort) {
        const r = /^(\d+)(?:-(\d+))?$/.exec(b.HostPort);
        const lo = r ? Number(r[1]) : NaN;
        const hi = r?.[2] ? Number(r[2]) : lo;
        if (!r || lo < 1 || hi > 65535 || hi < lo) throw new Error(`invalid host port ${JSON.stringify(b.HostPort)} for port ${key}`);
        range = [lo, hi];
      }
      out.push({ key, proto, containerPort: Number(m[1]), hostIp, range });
    }
  }
  return out;
}

/** Host ports other running hull containers hold, as "proto/ip/port" ('' is every address). */
function hullHeld(env: ContainerEnv, except: string): Map<string, string> {
  const held = new Map<string, string>();
  const rows = env.containers.db.prepare('SELECT id, ports FROM containers WHERE ports IS NOT NULL AND id != ?').all(except) as { id: string; ports: string }[];
  for (const r of rows) {
    const map = JSON.parse(r.ports) as PortMap;
    for (const [key, list] of Object.entries(map)) {
      const proto = key.split('/')[1] ?? 'tcp';
      for (const b of list ?? []) held.set(`${proto}/${b.HostIp === '0.0.0.0' || b.HostIp === '::' ? '' : b.HostIp}/${b.HostPort}`, r.id);
    }
  }
  return held;
}

function clashes(held: Map<string, string>, proto: string, ip: string, port: number): boolean {
  // a wildcard binding clashes with every address, and any address with a wildcard binding
  if (held.has(`${proto}/${ip}/${port}`) || held.has(`${proto}//${port}`)) return true;
  if (ip === '') for (const k of held.keys()) if (k.startsWith(`${proto}/`) && k.endsWith(`/${port}`)) return true;
  return false;
}

/**
 * Picks the host ports and records them as the container's (in one transaction, so that two
 * starts never get the same port), and returns the forwards for the firewall.
 */
export async function publishedPorts(env: ContainerEnv, c: Container, endpoints: Endpoint[], networks: Network[]): Promise<{ map: PortMap; forwards: PortForward[] }> {
  const wanted = wantedPorts(c);
  const map: PortMap = {};
  for (const k of Object.keys(c.Config.ExposedPorts ?? {})) map[k] = null;
  if (!wanted.length) return { map, forwards: [] };
  // ports lead to the first network's address, as docker's gateway endpoint
  const i = endpoints.findIndex((e) => e.ip4 || e.ip6);
  if (i < 0) return { map, forwards: [] };
  const ep = endpoints[i]!;
  const bridge = networks[i]!.Options[BRIDGE_NAME_OPTION]!;
  const forwards: PortForward[] = [];
  transaction(env.containers.db, () => {
    const held = hullHeld(env, c.Id);
    const bound = { tcp: hostBoundPorts('tcp'), udp: hostBoundPorts('udp') };
    const [elo, ehi] = ephemeralRange();
    for (const w of wanted) {
      const [lo, hi] = w.range ?? [elo, ehi];
      // random ports start at a random place, so that two engines rarely race for one
      const span = hi - lo + 1;
      const start = w.range ? 0 : Math.floor(Math.random() * span);
      let port = 0;
      for (let k = 0; k < span; k++) {
        const p = lo + ((start + k) % span);
        if (clashes(held, w.proto, w.hostIp, p) || bound[w.proto].has(p)) continue;
        port = p;
        break;
      }
      const shownIp = w.hostIp || '0.0.0.0';
      if (!port) {
        if (w.range && lo === hi) {
          const by = held.get(`${w.proto}/${w.hostIp}/${lo}`) ?? held.get(`${w.proto}//${lo}`);
          throw new Error(by ? `Bind for ${shownIp}:${lo} failed: port is already allocated` : `failed to bind host port for ${shownIp}:${lo}:${w.containerPort}/${w.proto}: address already in use`);
        }
        throw new Error(`no free host port for ${w.key} in ${lo}-${hi}`);
      }
      held.set(`${w.proto}/${w.hostIp}/${port}`, c.Id);
      const v6Host = w.hostIp.includes(':');
      const containerIp = v6Host ? ep.ip6 : ep.ip4;
      const list = (map[w.key] ??= []);
      if (w.hostIp === '' ) {
        list.push({ HostIp: '0.0.0.0', HostPort: String(port) });
        if (ep.ip4) forwards.push({ proto: w.proto, hostIp: '', hostPort: port, containerIp: ep.ip4, containerPort: w.containerPort, bridge, family: 4 });
        if (ep.ip6) {
          list.push({ HostIp: '::', HostPort: String(port) });
          forwards.push({ proto: w.proto, hostIp: '', hostPort: port, containerIp: ep.ip6, containerPort: w.containerPort, bridge, family: 6 });
        }
      } else {
        if (!containerIp) throw new Error(`cannot publish ${w.key} on ${w.hostIp}: the container has no IPv${v6Host ? 6 : 4} address`);
        list.push({ HostIp: w.hostIp, HostPort: String(port) });
        forwards.push({ proto: w.proto, hostIp: w.hostIp === '::' ? '' : w.hostIp, hostPort: port, containerIp, containerPort: w.containerPort, bridge, family: v6Host ? 6 : 4 });
      }
    }
    env.containers.setPorts(c.Id, map);
  });
  return { map, forwards };
}
