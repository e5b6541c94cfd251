// Which networks a new container joins, checked as docker checks them at create, and what its
// /etc files get from them.
import { loadEngineConfig } from '../config.ts';
import type { EtcNetwork } from '../containers/etc-files.ts';
import type { ContainerEnv } from '../containers/lifecycle.ts';
import type { Container } from '../containers/model.ts';
import { allocate, familyOf } from './ipam.ts';
import { ensureBuiltinNetworks, NetworkError } from './manage.ts';
import type { EndpointSettings, Network } from './model.ts';
import { hasDns } from './plumbing.ts';

export interface Join {
  network: Network;
  settings: Partial<EndpointSettings>;
}

/** An endpoint's settings as asked for (aliases, addresses, MAC), checked against the network. */
export function joinEndpoint(n: Network, e: Partial<EndpointSettings>): Partial<EndpointSettings> {
  try {
    return checkEndpoint(n, e);
  } catch (err) {
    // docker's validateEndpointSettings wording
    if (err instanceof NetworkError) throw new NetworkError(`invalid endpoint settings:\n${err.message}`, err.status);
    throw err;
  }
}

function checkEndpoint(n: Network, e: Partial<EndpointSettings>): Partial<EndpointSettings> {
  const out: Partial<EndpointSettings> = {};
  const userDefined = hasDns(n);
  if (e.Aliases?.length) {
    if (!userDefined) throw new NetworkError('network-scoped alias is supported only for containers in user defined networks');
    if (e.Aliases.some((a) => typeof a !== 'string' || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(a) || a.length > 253)) {
      throw new NetworkError(`invalid alias in ${JSON.stringify(e.Aliases)}: an alias is a DNS name`);
    }
    out.Aliases = [...new Set(e.Aliases)];
  }
  const ipam = e.IPAMConfig ?? {};
  if (ipam.IPv4Address || ipam.IPv6Address) {
    if (!userDefined) throw new NetworkError('user specified IP address is supported on user defined networks only');
    for (const [key, fam] of [['IPv4Address', 4], ['IPv6Address', 6]] as const) {
      const asked = ipam[key];
      if (!asked) continue;
      const pool = n.IPAM.Config.find((p) => familyOf(p) === fam);
      if (!pool) throw new NetworkError(`invalid IPv${fam} address ${asked}: network ${n.Name} has no IPv${fam} subnet`);
      try {
        allocate(pool, new Set(), asked);
      } catch (err) {
        throw new NetworkError((err as Error).message);
      }
    }
    out.IPAMConfig = { ...(ipam.IPv4Address ? { IPv4Address: ipam.IPv4Address } : {}), ...(ipam.IPv6Address ? { IPv6Address: ipam.IPv6Address } : {}) };
  }
  if (e.MacAddress) {
    if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(e.MacAddress)) throw new NetworkError(`invalid MAC address ${e.MacAddress}`);
    if (parseInt(e.MacAddress.slice(0, 2), 16) & 1) throw new NetworkError(`invalid MAC address ${e.MacAddress}: a multicast address cannot be a link's address`);
    out.MacAddress = e.MacAddress.toLowerCase();
  }
  return out;
}

/** The networks of a new container: its NetworkMode's, then any other its EndpointsConfig names. */
export function networksToJoin(env: ContainerEnv, mode: string, endpoints: Record<string, Partial<EndpointSettings> | null>): Join[] {
  if (mode === 'none' || mode === 'host' || mode.startsWith('container:')) {
    if (Object.keys(endpoints).some((k) => k !== mode)) throw new NetworkError(`container cannot be connected to network(s) with network mode ${mode.split(':')[0]}`);
    return [];
  }
  ensureBuiltinNetworks(env, loadEngineConfig());
  // docker's client names the default network's endpoint "default"
  if (endpoints.default && mode === 'bridge') {
    endpoints = { ...endpoints, bridge: endpoints.default };
    delete endpoints.default;
  }
  const first = env.networks.find(mode);
  const names = [mode, ...Object.keys(endpoints).filter((k) => k !== mode)];
  const out: Join[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    const n = name === mode ? first : env.networks.find(name);
    if (n.Driver !== 'bridge') throw new NetworkError(`container cannot be disconnected from host network or connected to host network`);
    if (seen.has(n.Id)) continue;
    seen.add(n.Id);
    out.push({ network: n, settings: joinEndpoint(n, endpoints[name] ?? endpoints[n.Id] ?? {}) });
  }
  return out;
}

/** The DNS servers the container's /etc/resolv.conf names: its user-defined networks' gateways. */
export function etcNetwork(env: ContainerEnv, c: Container): EtcNetwork {
  const dns: string[] = [];
  for (const e of env.networks.containerEndpoints(c.Id)) {
    const n = env.networks.get(e.network);
    if (!n || !hasDns(n)) continue;
    for (const p of n.IPAM.Config) if (p.Gateway && !dns.includes(p.Gateway)) dns.push(p.Gateway);
  }
  return { dns };
}
