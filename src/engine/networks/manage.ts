// The engine's network verbs: create, list, inspect, remove and prune networks, with docker's
// rules and messages. The kernel side (bridge, firewall, DNS) is in plumbing.ts.
import { transaction } from '../../image/store/metadata.ts';
import { formatPrefix, overlaps, parsePrefix, type Prefix } from '../../network/cidr.ts';
import type { EngineConfig } from '../config.ts';
import type { ContainerEnv } from '../containers/lifecycle.ts';
import { parseFilterTime } from '../filter-time.ts';
import { matchLabels } from '../volumes/filters.ts';
import { completePool, DEFAULT_POOLS, hostRoutes, pickSubnet, randomUlaSubnet } from './ipam.ts';
import { BRIDGE_NAME_OPTION, MTU_OPTION, type IpamPool, type Network } from './model.ts';
import { linkExists } from '../../network/veth.ts';
import { bridgeUp, reconcileFirewall, removeBridge } from './plumbing.ts';
import { checkNetworkName, newNetworkId, PREDEFINED, rootTag } from './store.ts';

export interface NetworkCreateRequest {
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv4?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: IpamPool[]; Options?: Record<string, string> };
  Options?: Record<string, string>;
  Labels?: Record<string, string>;
}

export class NetworkError extends Error {
  /** The HTTP status the API gives it: 400 bad request, 403 forbidden, 404, 409 conflict. */
  readonly status: number;
  constructor(message: string, status = 400) {
    super(message);
    this.status = status;
  }
}

const now = () => new Date().toISOString();

function pools(cfg: EngineConfig): { base: string; size: number }[] {
  return cfg.defaultAddressPools.length ? cfg.defaultAddressPools : DEFAULT_POOLS;
}

/** The subnets no new network may overlap: every hull network's, and what the host routes. */
function takenSubnets(env: ContainerEnv, exceptDevs: string[] = []): Prefix[] {
  const taken = hostRoutes(exceptDevs).map((r) => r.prefix);
  for (const n of env.networks.list()) for (const p of n.IPAM.Config) taken.push(parsePrefix(p.Subnet));
  return taken;
}

export function defaultBridgeName(env: ContainerEnv): string {
  const tag = rootTag(env.roots);
  return tag ? `hull0-${tag}` : 'hull0';
}

/** The rows of bridge, host and none, made on first use. The default bridge takes `bip` or a free subnet. */
export function ensureBuiltinNetworks(env: ContainerEnv, cfg: EngineConfig): void {
  if (env.networks.byName('bridge')) return;
  const bridgeDev = defaultBridgeName(env);
  let pool: IpamPool;
  if (cfg.bip) {
    const p = parsePrefix(cfg.bip, 'bip');
    pool = { Subnet: formatPrefix({ ...p, value: p.value & ~((1n << BigInt(32 - p.bits)) - 1n) }), Gateway: cfg.bip.split('/')[0]! };
  } else {
    pool = { Subnet: formatPrefix(pickSubnet(pools(cfg), takenSubnets(env, [bridgeDev]))) };
  }
  const base = (name: string, driver: string, extra: Partial<Network> = {}): Network => ({
    Name: name, Id: newNetworkId(), Created: now(), Scope: 'local', Driver: driver, EnableIPv4: true, EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [] }, Internal: false, Attachable: false, Ingress: false,
    ConfigFrom: { Network: '' }, ConfigOnly: false, Options: {}, Labels: {}, ...extra,
  });
  const bridge = base('bridge', 'bridge', {
    IPAM: { Driver: 'default', Options: null, Config: [completePool(pool)] },
    Options: {
      'com.docker.network.bridge.default_bridge': 'true',
      'com.docker.network.bridge.enable_icc': 'true',
      'com.docker.network.bridge.enable_ip_masquerade': 'true',
      'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
      [BRIDGE_NAME_OPTION]: bridgeDev,
      [MTU_OPTION]: String(cfg.mtu),
    },
  });
  transaction(env.networks.db, () => {
    if (env.networks.byName('bridge')) return;
    env.networks.insert(bridge);
    if (!env.networks.byName('host')) env.networks.insert(base('host', 'host'));
    if (!env.networks.byName('none')) env.networks.insert(base('none', 'null'));
  });
}

/** An API body's Labels or Options: an object of strings. */
function stringMap(value: Record<string, string> | undefined, what: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new NetworkError(`invalid ${what}: expected an object of strings`);
  }
  return { ...value };
}

/** `network create`: the row, then the bridge and its firewall rules; a failure leaves neither. */
export function createNetwork(env: ContainerEnv, cfg: EngineConfig, req: NetworkCreateRequest): Network {
  ensureBuiltinNetworks(env, cfg);
  if (typeof req.Name !== 'string' || req.Name === '') throw new NetworkError('network name must not be empty');
  checkNetworkName(req.Name);
  if (PREDEFINED.includes(req.Name)) throw new NetworkError(`network with name ${req.Name} already exists`, 409);
  const driver = req.Driver || 'bridge';
  if (driver === 'host' || driver === 'null') throw new NetworkError(`only one instance of "${driver}" network is allowed`, 403);
  if (driver !== 'bridge') throw new NetworkError(`plugin "${driver}" not found`, 404);
  if (req.IPAM?.Driver && req.IPAM.Driver !== 'default') throw new NetworkError(`plugin "${req.IPAM.Driver}" not found`, 404);
  const options = stringMap(req.Options, 'options');
  const labels = stringMap(req.Labels, 'labels');
  const id = newNetworkId();
  const dev = options[BRIDGE_NAME_OPTION] ?? `hull-${id.slice(0, 10)}`;
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(dev) || dev === '.' || dev === '..') throw new NetworkError(`invalid bridge name "${dev}": at most 15 of [a-zA-Z0-9_.-]`);
  if (env.networks.list().some((n) => n.Options[BRIDGE_NAME_OPTION] === dev)) throw new NetworkError(`bridge name ${dev} is already used by another network`, 409);
  // a link hull did not make (docker0, podman0, the host's own) is never taken over: rm would delete it
  if (linkExists(dev)) throw new NetworkError(`bridge name ${dev} is already in use on the host by a link hull did not make`, 409);
  const mtu = options[MTU_OPTION] ?? String(cfg.mtu);
  if (!/^\d+$/.test(mtu) || Number(mtu) < 68 || Number(mtu) > 65535) throw new NetworkError(`invalid MTU ${JSON.stringify(mtu)}: expected a number from 68 to 65535`);
  const enable6 = req.EnableIPv6 === true;
  const enable4 = req.EnableIPv4 !== false;
  if (!enable4 && !enable6) throw new NetworkError('IPv4 or IPv6 must be enabled');
  const asked = (req.IPAM?.Config ?? []).map((p) => {
    if (typeof p !== 'object' || p === null) throw new NetworkError('invalid IPAM config: expected a list of objects');
    if (!p.Subnet) {
      if (p.Gateway || p.IPRange) throw new NetworkError('IPAM config: a gateway or ip-range needs a subnet');
      throw new NetworkError('IPAM config: a subnet is required');
    }
    try {
      return completePool(p);
    } catch (e) {
      // docker's ValidateIPAM wording
      throw new NetworkError(`invalid network config:\n${(e as Error).message.replace(/: invalid CIDR address: .*$/, ': invalid CIDR block notation')}`);
    }
  });
  const v4 = asked.filter((p) => parsePrefix(p.Subnet).family === 4);
  const v6 = asked.filter((p) => parsePrefix(p.Subnet).family === 6);
  if (v4.length > 1 || v6.length > 1) throw new NetworkError('hull networks take at most one IPv4 and one IPv6 subnet');
  if (v6.length && !enable6) throw new NetworkError('an IPv6 subnet needs --ipv6');
  if (v4.length && !enable4) throw new NetworkError('an IPv4 subnet needs IPv4 enabled');
  const taken = env.networks.list().flatMap((n) => n.IPAM.Config.map((p) => parsePrefix(p.Subnet)));
  for (const p of asked) {
    if (taken.some((t) => overlaps(t, parsePrefix(p.Subnet)))) throw new NetworkError(`invalid pool request: Pool overlaps with other one on this address space`, 403);
  }
  const config: IpamPool[] = [];
  if (enable4) config.push(v4[0] ?? completePool({ Subnet: formatPrefix(pickSubnet(pools(cfg), takenSubnets(env))) }));
  if (enable6) config.push(v6[0] ?? completePool({ Subnet: formatPrefix(randomUlaSubnet()) }));
  const n: Network = {
    Name: req.Name, Id: id, Created: now(), Scope: 'local', Driver: 'bridge', EnableIPv4: enable4, EnableIPv6: enable6,
    IPAM: { Driver: 'default', Options: req.IPAM?.Options ? stringMap(req.IPAM.Options, 'IPAM options') : null, Config: config }, Internal: req.Internal === true,
    Attachable: req.Attachable === true, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
    Options: { ...options, [BRIDGE_NAME_OPTION]: dev, [MTU_OPTION]: mtu }, Labels: labels,
  };
  env.networks.insert(n);
  try {
    bridgeUp(env, n);
  } catch (e) {
    removeBridge(env, n);
    env.networks.delete(n.Id);
    throw e;
  }
  return n;
}

/** `network inspect`'s document: the record plus the containers on it now. */
export function inspectNetwork(env: ContainerEnv, n: Network): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  for (const e of env.networks.endpoints(n.Id)) {
    if (!e.ip4 && !e.ip6) continue;
    const c = env.containers.get(e.container);
    if (!c) continue;
    containers[c.Id] = {
      Name: c.Name,
      EndpointID: e.settings.EndpointID,
      MacAddress: e.settings.MacAddress,
      IPv4Address: e.ip4 ? `${e.ip4}/${e.settings.IPPrefixLen}` : '',
      IPv6Address: e.ip6 ? `${e.ip6}/${e.settings.GlobalIPv6PrefixLen}` : '',
    };
  }
  return { ...n, Containers: containers };
}

/** `network rm`: refused for the predefined ones and while a running container is on it. */
export function removeNetwork(env: ContainerEnv, ref: string): Network {
  const n = env.networks.find(ref);
  if (PREDEFINED.includes(n.Name)) throw new NetworkError(`${n.Name} is a pre-defined network and cannot be removed`, 403);
  const active = env.networks.endpoints(n.Id).filter((e) => e.ip4 || e.ip6 || env.containers.get(e.container)?.State.Running);
  if (active.length) {
    const names = active.map((e) => `name:"${env.containers.get(e.container)?.Name ?? e.container}" id:"${e.settings.EndpointID.slice(0, 12)}"`);
    throw new NetworkError(`error while removing network: network ${n.Name} has active endpoints (${names.join(', ')})`, 403);
  }
  removeBridge(env, n);
  env.networks.delete(n.Id);
  return n;
}

export type NetworkFilters = Record<string, string[]>;

const LIST_KEYS = ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'];

function filterError(message: string): NetworkError {
  return new NetworkError(message);
}

/** `network ls` with docker's filters. */
export function listNetworks(env: ContainerEnv, cfg: EngineConfig, filters: NetworkFilters = {}): Network[] {
  ensureBuiltinNetworks(env, cfg);
  for (const key of Object.keys(filters)) if (!LIST_KEYS.includes(key)) throw filterError(`invalid filter '${key}'`);
  const used = new Set(env.networks.db.prepare('SELECT DISTINCT network FROM endpoints').all().map((r) => (r as { network: string }).network));
  for (const t of filters.type ?? []) if (t !== 'custom' && t !== 'builtin') throw filterError(`invalid filter: 'type'='${t}'`);
  const dangling = filters.dangling;
  if (dangling && dangling.some((v) => !['true', 'false', '1', '0'].includes(v))) throw filterError(`invalid filter 'dangling=${dangling.join(' ')}'`);
  return env.networks.list().filter((n) => {
    if (filters.driver && !filters.driver.includes(n.Driver)) return false;
    if (filters.id && !filters.id.some((v) => n.Id.startsWith(v))) return false;
    if (filters.name && !filters.name.some((v) => n.Name.includes(v))) return false;
    if (filters.scope && !filters.scope.includes(n.Scope)) return false;
    if (filters.type && !filters.type.includes(PREDEFINED.includes(n.Name) ? 'builtin' : 'custom')) return false;
    if (!matchLabels(filters.label, n.Labels)) return false;
    if (dangling) {
      const want = dangling.includes('true') || dangling.includes('1');
      const isDangling = !PREDEFINED.includes(n.Name) && !used.has(n.Id);
      if (want !== isDangling) return false;
    }
    return true;
  });
}

/** `network prune`: every custom network no container uses, with docker's until and label filters. */
export function pruneNetworks(env: ContainerEnv, filters: NetworkFilters = {}): string[] {
  for (const key of Object.keys(filters)) if (!['until', 'label', 'label!'].includes(key)) throw filterError(`invalid filter '${key}'`);
  const until = filters.until?.length ? parseFilterTime(filters.until[0]!) : undefined;
  reconcileFirewall(env);
  const removed: string[] = [];
  for (const n of env.networks.list()) {
    if (PREDEFINED.includes(n.Name)) continue;
    if (env.networks.endpoints(n.Id).length) continue;
    if (until !== undefined && BigInt(Date.parse(n.Created)) * 1_000_000n >= until) continue;
    if (!matchLabels(filters.label, n.Labels)) continue;
    if (filters['label!'] && filters['label!'].length && matchLabels(filters['label!'], n.Labels)) continue;
    try {
      removeNetwork(env, n.Id);
      removed.push(n.Name);
    } catch {
      // used meanwhile
    }
  }
  return removed;
}
