// `hull network create`: docker's flags, its client-side grouping of --subnet, --ip-range and
// --gateway into IPAM pools (each range and gateway goes to the subnet that contains it), and its
// output (the new network's id).
import { createNetwork, type NetworkCreateRequest } from '../../engine/networks/manage.ts';
import type { IpamPool } from '../../engine/networks/model.ts';
import { contains, parseAddress, type Address, type Prefix } from '../../network/cidr.ts';
import { write } from '../context.ts';
import { clientError, daemonError } from './daemon-error.ts';
import { boolFlags, mapFlag, networkEnv, sliceFlag } from './network-common.ts';
import type { Verb } from './verb.ts';
import { keyValues, labelFlag } from './volume-common.ts';

/** Go's net.ParseCIDR: the address as written (host bits kept) and the prefix, or its error. */
function parseCidr(text: string): { ip: Address; net: Prefix } {
  const slash = text.indexOf('/');
  const ip = slash > 0 ? parseAddress(text.slice(0, slash)) : null;
  const bits = text.slice(slash + 1);
  if (slash < 0 || !ip || !/^\d+$/.test(bits) || Number(bits) > (ip.family === 4 ? 32 : 128)) throw new Error(`invalid CIDR address: ${text}`);
  return { ip, net: { ...ip, bits: Number(bits) } };
}

/** docker's subnetMatches: does the subnet hold the address (or the CIDR's address) in data? */
function subnetMatches(subnet: string, data: string): boolean {
  let net: Prefix;
  try {
    net = parseCidr(subnet).net;
  } catch (err) {
    throw new Error(`invalid subnet: ${(err as Error).message}`);
  }
  const ip = data.includes('/') ? parseCidr(data).ip : parseAddress(data);
  return ip !== null && contains(net, ip);
}

/**
 * docker's createIPAMConfig: one pool per subnet (no two overlapping), each --ip-range and
 * --gateway given to the one subnet that holds it. The pools keep the order of the subnets.
 */
export function ipamPools(subnets: string[], ranges: string[], gateways: string[]): IpamPool[] {
  if (subnets.length < ranges.length || subnets.length < gateways.length) throw new Error('every ip-range or gateway must have a corresponding subnet');
  const pools = new Map<string, IpamPool>();
  for (const s of subnets) {
    for (const k of pools.keys()) {
      if (subnetMatches(s, k) || subnetMatches(k, s)) throw new Error('multiple overlapping subnet configuration is not supported');
    }
    pools.set(s, { Subnet: s });
  }
  for (const r of ranges) {
    let match = false;
    for (const s of subnets) {
      parseCidr(r);
      if (!subnetMatches(s, r)) continue;
      const pool = pools.get(s)!;
      if (pool.IPRange) throw new Error(`cannot configure multiple ranges (${r}, ${pool.IPRange}) on the same subnet (${s})`);
      pool.IPRange = r;
      match = true;
    }
    if (!match) throw new Error(`no matching subnet for range ${r}`);
  }
  for (const g of gateways) {
    let match = false;
    for (const s of subnets) {
      if (!subnetMatches(s, g)) continue;
      const pool = pools.get(s)!;
      if (pool.Gateway) throw new Error(`cannot configure multiple gateways (${g}, ${pool.Gateway}) for the same subnet (${s})`);
      pool.Gateway = g;
      match = true;
    }
    if (!match) throw new Error(`no matching subnet for gateway ${g}`);
  }
  return [...pools.values()];
}

export const networkCreate: Verb = {
  names: ['network create'],
  define(cmd) {
    cmd
      .description('Create a network')
      .argument('<network>', 'NETWORK')
      .option('-d, --driver <string>', 'Driver to manage the Network', 'bridge')
      .option('-o, --opt <map>', 'Set driver specific options', mapFlag)
      .option('--label <list>', 'Set metadata on a network', labelFlag);
    boolFlags(cmd, [
      { name: 'internal', help: 'Restrict external access to the network' },
      { name: 'ipv4', help: 'Enable or disable IPv4 address assignment (default true)' },
      { name: 'ipv6', help: 'Enable or disable IPv6 address assignment' },
      { name: 'attachable', help: 'Enable manual container attachment' },
      { name: 'ingress', help: 'Create swarm routing-mesh network' },
      { name: 'config-only', help: 'Create a configuration only network' },
    ]);
    cmd
      .option('--scope <string>', "Control the network's scope")
      .option('--config-from <string>', 'The network from which to copy the configuration')
      .option('--ipam-driver <string>', 'IP Address Management Driver', 'default')
      .option('--subnet <strings>', 'Subnet in CIDR format that represents a network segment', sliceFlag('--subnet'))
      .option('--ip-range <strings>', 'Allocate container ip from a sub-range', sliceFlag('--ip-range'))
      .option('--gateway <strings>', 'IPv4 or IPv6 Gateway for the master subnet', sliceFlag('--gateway'))
      .option('--aux-address <map>', 'Auxiliary IPv4 or IPv6 addresses used by Network driver', mapFlag)
      .option('--ipam-opt <map>', 'Set IPAM driver specific options', mapFlag);
  },
  async run(ctx, args, opts) {
    const list = (key: string) => (opts[key] as string[] | undefined) ?? [];
    const map = (key: string) => (opts[key] as Record<string, string> | undefined) ?? {};
    let pools: IpamPool[];
    try {
      pools = ipamPools(list('subnet'), list('ipRange'), list('gateway'));
    } catch (err) {
      throw clientError((err as Error).message);
    }
    const unsupported = [
      Object.keys(map('auxAddress')).length ? '--aux-address: hull reserves no auxiliary addresses' : '',
      opts.ingress ? '--ingress: routing-mesh networks need a swarm' : '',
      opts.configOnly ? '--config-only: configuration-only networks' : '',
      opts.configFrom ? '--config-from: networks that copy another configuration' : '',
      opts.scope && opts.scope !== 'local' ? `--scope ${opts.scope}: hull networks are local` : '',
    ].filter(Boolean);
    if (unsupported.length) throw daemonError(new Error(`not supported by hull: ${unsupported.join('; ')}`));
    const req: NetworkCreateRequest = {
      Name: args[0]!,
      Driver: opts.driver as string,
      Options: map('opt'),
      IPAM: { Driver: opts.ipamDriver as string, Config: pools, Options: map('ipamOpt') },
      Internal: opts.internal === true,
      Attachable: opts.attachable === true,
      ...(opts.ipv4 !== undefined ? { EnableIPv4: opts.ipv4 === true } : {}),
      ...(opts.ipv6 !== undefined ? { EnableIPv6: opts.ipv6 === true } : {}),
      Labels: keyValues(list('label')),
    };
    const env = await networkEnv(ctx);
    try {
      write(createNetwork(env, ctx.engineSettings(), req).Id);
    } catch (err) {
      throw daemonError(err);
    }
  },
};
