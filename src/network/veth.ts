// The few netlink sequences the engine runs: a network's bridge, and a container's veth pair
// from that bridge into the container's network namespace. Each either completes or leaves
// nothing of its own behind.
import { randomBytes } from '../crypto.ts';
import { formatPrefix, parsePrefix } from './cidr.ts';
import { NetlinkError } from './netlink/message.ts';
import { RouteSocket } from './netlink/route.ts';

export interface AttachVethOptions {
  /** The host end's name (at most 15 bytes), e.g. "veth1a2b3c4d5e6". */
  hostName: string;
  /** The bridge the host end joins. */
  bridge: string;
  /** The container's pinned network namespace. */
  netnsPath: string;
  /** The container end's name inside its namespace; "eth0" by default. */
  ifname?: string;
  mtu?: number;
  /** The container end's MAC address; the kernel picks a random one when absent or empty. */
  mac?: string;
  /** "10.88.0.5/16", "fd00::5/64": IPv6 ones skip duplicate address detection. */
  addresses?: string[];
  /** Default routes via these gateways (one per family at most). */
  gateways?: string[];
  /** Where the bridge and the host end live; the caller's own namespace by default. */
  hostNetnsPath?: string;
}

/**
 * Creates a veth pair whose container end is made directly inside the container's namespace,
 * the host end up and on the bridge (one request), then in the namespace: lo and the
 * container end up, the addresses, the default routes. When a step fails the pair is deleted and the error
 * names the step.
 */
export function attachVeth(o: AttachVethOptions): void {
  const ifname = o.ifname ?? 'eth0';
  using host = RouteSocket.open(o.hostNetnsPath);
  // Opening the container's socket first checks its namespace before anything is made.
  using inner = RouteSocket.open(o.netnsPath);
  host.addVeth({
    name: o.hostName,
    mtu: o.mtu,
    up: true,
    master: o.bridge,
    peer: { name: ifname, netnsPath: o.netnsPath, mtu: o.mtu, mac: o.mac || undefined },
  });
  try {
    inner.setLinkUp('lo');
    inner.setLinkUp(ifname);
    for (const address of o.addresses ?? []) {
      inner.addAddress(ifname, address, { nodad: address.includes(':') });
    }
    for (const gateway of o.gateways ?? []) {
      inner.addRoute({ dst: 'default', gateway, dev: ifname });
    }
  } catch (err) {
    host.deleteLink(o.hostName, { missingOk: true });
    throw err;
  }
}

/** Deletes a container's veth pair by its host end; a pair that is gone already is fine. */
export function detachVeth(hostName: string, hostNetnsPath?: string): void {
  deleteLink(hostName, hostNetnsPath);
}

export interface EnsureBridgeOptions {
  name: string;
  mtu?: number;
  /**
   * The bridge's MAC address; a random one by default. Either way it is set, so the bridge
   * keeps it instead of taking on the lowest of its ports' (which would change the gateway's
   * MAC under the containers as they come and go).
   */
  mac?: string;
  /** The bridge's own addresses, the networks' gateways: "10.88.0.1/16". */
  addresses?: string[];
  /** Where the bridge lives; the caller's own namespace by default. */
  netnsPath?: string;
}

/**
 * Makes the bridge if there is none of that name, adds those of the addresses it lacks, and
 * brings it up. Idempotent, and safe when two processes race (the loser's EEXIST is taken as
 * success). A bridge this call made is deleted again if a later step fails; a link of that
 * name that is not a bridge is an error.
 */
export function ensureBridge(o: EnsureBridgeOptions): void {
  using s = RouteSocket.open(o.netnsPath);
  let created = false;
  try {
    s.addBridge({ name: o.name, mtu: o.mtu, mac: o.mac || randomMac() });
    created = true;
  } catch (err) {
    if (!(err instanceof NetlinkError && err.code === 'EEXIST')) throw err;
  }
  try {
    const link = s.getLink(o.name);
    if (link.kind !== 'bridge') {
      throw new Error(`ensure bridge ${o.name}: the link of that name is ${link.kind ? `a ${link.kind}` : 'a device'}, not a bridge`);
    }
    const have = new Set(s.listAddresses({ link: link.index }).map((a) => a.cidr));
    for (const address of o.addresses ?? []) {
      if (have.has(canonical(address))) continue;
      try {
        s.addAddress(o.name, address, { nodad: address.includes(':') });
      } catch (err) {
        if (!(err instanceof NetlinkError && err.code === 'EEXIST')) throw err;
      }
    }
    if (!link.up) s.setLinkUp(link.index);
  } catch (err) {
    if (created) s.deleteLink(o.name, { missingOk: true });
    throw err;
  }
}

/** Whether a link of that name exists (in the caller's namespace by default). */
export function linkExists(name: string, netnsPath?: string): boolean {
  using s = RouteSocket.open(netnsPath);
  return s.findLink(name) !== null;
}

/** Deletes a link, a bridge or a veth pair; one that does not exist is fine. */
export function deleteLink(name: string, netnsPath?: string): void {
  using s = RouteSocket.open(netnsPath);
  s.deleteLink(name, { missingOk: true });
}

/** "10.88.0.1/16" as listAddresses writes it, or the text itself if it does not parse (addAddress then says why). */
function canonical(cidr: string): string {
  try {
    return formatPrefix(parsePrefix(cidr, 'address'));
  } catch {
    return cidr;
  }
}

/** A random locally administered unicast MAC address. */
export function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfe) | 0x02;
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}
