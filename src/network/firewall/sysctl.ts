// The kernel switches that hull's rules depend on, turned on only when they are off (a write to
// /proc/sys is cheap, but it is also a change to the host that hull should not repeat blindly).
//
// /proc/sys/net answers for the network namespace of the process that opens it, and Node cannot
// enter another one, so for a namespace the check and the write run in a shell under nsenter.
import { childProcess } from '../../child-process.ts';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { FirewallError, checkBridge } from './validate.ts';

function turnOnHere(paths: string[]): void {
  for (const path of paths) {
    try {
      if (readFileSync(path, 'utf8').trim() !== '1') writeFileSync(path, '1\n');
    } catch (e) {
      throw new FirewallError(`cannot turn on ${path}: ${(e as Error).message}`);
    }
  }
}

function turnOnIn(netns: string, paths: string[]): void {
  // The paths are arguments, never part of the shell text.
  const script = 'for p; do [ "$(cat "$p")" = 1 ] || echo 1 > "$p" || exit 1; done';
  const r = childProcess().spawnSync('nsenter', [`--net=${netns}`, '--', 'sh', '-c', script, 'sh', ...paths], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new FirewallError(`cannot turn on ${paths.join(', ')} in ${netns}: ${r.error?.message ?? r.stderr.trim()}`);
  }
}

function turnOn(paths: string[], netns?: string): void {
  if (paths.length === 0) return;
  if (netns === undefined) turnOnHere(paths);
  else turnOnIn(netns, paths);
}

/**
 * Turns on IPv4 and/or IPv6 forwarding. Beware that IPv6 forwarding also makes the kernel ignore
 * router advertisements on interfaces whose accept_ra is 1, as docker's does.
 */
export function enableForwarding(families: { ipv4: boolean; ipv6: boolean }, netns?: string): void {
  const paths: string[] = [];
  if (families.ipv4) paths.push('/proc/sys/net/ipv4/ip_forward');
  if (families.ipv6) paths.push('/proc/sys/net/ipv6/conf/all/forwarding');
  turnOn(paths, netns);
}

function routeLocalnetPath(bridge: string): string {
  return `/proc/sys/net/ipv4/conf/${checkBridge(bridge, 'route_localnet')}/route_localnet`;
}

/**
 * Lets the host reach published ports through 127.0.0.1: the kernel refuses to route a loopback
 * source out of an interface unless route_localnet is on for it. hull's input chain for the
 * network then drops what containers send to 127.0.0.0/8 through the bridge.
 */
export function enableRouteLocalnet(bridge: string, netns?: string): void {
  turnOn([routeLocalnetPath(bridge)], netns);
}

/** As enableRouteLocalnet, but quietly nothing when the bridge does not exist (yet). */
export function enableRouteLocalnetIfPresent(bridge: string, netns?: string): void {
  const path = routeLocalnetPath(bridge);
  if (netns === undefined) {
    if (existsSync(path)) turnOnHere([path]);
    return;
  }
  const script = '[ ! -e "$1" ] || [ "$(cat "$1")" = 1 ] || echo 1 > "$1"';
  const r = childProcess().spawnSync('nsenter', [`--net=${netns}`, '--', 'sh', '-c', script, 'sh', path], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new FirewallError(`cannot turn on ${path} in ${netns}: ${r.error?.message ?? r.stderr.trim()}`);
  }
}
