// rtnetlink from the Node process: links, addresses and routes of one network namespace,
// through a socket made inside it. Synchronous: each call is a request and its ack, some tens
// of microseconds, so `hull run` configures a container's network without spawning `ip`.
import { closeSync, openSync } from 'node:fs';
import { CLONE_NEWNET, NETLINK_ROUTE, nsType } from '../../sys/index.ts';
import { last, parseAddress, parsePrefix, type Address as IpAddress, type Family as IpFamily, type Prefix } from '../cidr.ts';
import { AttributeWriter } from './attributes.ts';
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  IFA_ADDRESS,
  IFA_BROADCAST,
  IFA_F_NODAD,
  IFA_F_NOPREFIXROUTE,
  IFA_FLAGS,
  IFA_LOCAL,
  IFF_UP,
  IFLA_ADDRESS,
  IFLA_BR_AGEING_TIME,
  IFLA_BR_FORWARD_DELAY,
  IFLA_BR_MCAST_SNOOPING,
  IFLA_BR_STP_STATE,
  IFLA_BR_VLAN_FILTERING,
  IFLA_EXT_MASK,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_LINKINFO,
  IFLA_MASTER,
  IFLA_MTU,
  IFLA_NET_NS_FD,
  IFLA_NET_NS_PID,
  IFNAME_MAX,
  NLM_F_CREATE,
  NLM_F_EXCL,
  RT_SCOPE_HOST,
  RT_SCOPE_LINK,
  RT_SCOPE_UNIVERSE,
  RT_TABLE_MAIN,
  RT_TABLE_UNSPEC,
  RTA_DST,
  RTA_GATEWAY,
  RTA_OIF,
  RTA_PREFSRC,
  RTA_PRIORITY,
  RTA_TABLE,
  RTEXT_FILTER_SKIP_STATS,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_DELROUTE,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETROUTE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  RTM_SETLINK,
  RTN_UNICAST,
  RTPROT_BOOT,
  VETH_INFO_PEER,
} from './constants.ts';
import { parseMac } from './mac.ts';
import { NetlinkError } from './message.ts';
import { addressBytes, decodeAddress, decodeLink, decodeRoute, type Address, type Link, type Route } from './objects.ts';
import { NetlinkSocket } from './socket.ts';

export { addressBytes, type Address, type Link, type Route };

/** A link by name or by index. */
export type LinkRef = string | number;

export interface BridgeOptions {
  /** Spanning tree on (the kernel's default is off, as docker leaves it). */
  stp?: boolean;
  /** In centiseconds (USER_HZ), as IFLA_BR_FORWARD_DELAY. */
  forwardDelay?: number;
  /** In centiseconds, as IFLA_BR_AGEING_TIME. */
  ageingTime?: number;
  vlanFiltering?: boolean;
  multicastSnooping?: boolean;
}

interface NewLinkCommon {
  name: string;
  mtu?: number;
  mac?: string;
  /** Bring the link up as it is made. */
  up?: boolean;
  /** Attach the link to this bridge as it is made. */
  master?: LinkRef;
}

export interface AddBridgeOptions extends NewLinkCommon {
  options?: BridgeOptions;
}

export interface VethPeerOptions {
  /** Its name where it is made: it may be "eth0" even though this namespace has an eth0. */
  name: string;
  /** Make the peer directly inside the network namespace pinned here... */
  netnsPath?: string;
  /** ...or inside the network namespace of this process. */
  netnsPid?: number;
  mtu?: number;
  mac?: string;
  // No "up": the kernel cannot open a veth end before the pair is complete (ENOTCONN), so the
  // peer is brought up afterwards, from its own namespace.
}

export interface AddVethOptions extends NewLinkCommon {
  peer: VethPeerOptions;
}

export interface LinkChanges {
  up?: boolean;
  /** A bridge to attach to, or null to detach from the current one. */
  master?: LinkRef | null;
  mtu?: number;
  mac?: string;
  /** A new name. */
  name?: string;
}

export interface AddressOptions {
  /** IPv6: skip duplicate address detection, so the address is usable at once. */
  nodad?: boolean;
  /** Do not add the prefix route that the kernel adds for the address's subnet. */
  noPrefixRoute?: boolean;
  /** IPv4: the broadcast address; by default all host bits set (prefixes up to /30). */
  broadcast?: string | false;
}

export interface RouteSpec {
  /** 'default' or a prefix such as "10.88.0.0/16" (host bits clear). */
  dst: string;
  gateway?: string;
  dev?: LinkRef;
  /** Routing table, RT_TABLE_MAIN (254) by default. */
  table?: number;
  /** The route's priority (RTA_PRIORITY), lower wins. */
  metric?: number;
  /** The preferred source address (RTA_PREFSRC). */
  src?: string;
  /** Needed only for a default route without a gateway. */
  family?: IpFamily;
  /** RT_SCOPE_*; by default link for a v4 route without gateway, else universe. */
  scope?: number;
  /** RTPROT_*; RTPROT_BOOT (as iproute2) by default. */
  protocol?: number;
}

export interface ListRoutesFilter {
  family?: IpFamily;
  /** A table, or 'all'; RT_TABLE_MAIN by default, as `ip route`. */
  table?: number | 'all';
  dev?: LinkRef;
}

const RT_SCOPE_NOWHERE = 255;
const ENODEV = 19;

/**
 * Throws when name cannot be an interface name, with the reason: the kernel's rules (1 to 15
 * bytes, not "." or "..", no "/", ":" or white space) checked before it is asked.
 */
export function validateInterfaceName(name: string): void {
  const why =
    typeof name !== 'string' || name === ''
      ? 'it is empty'
      : Buffer.byteLength(name) > IFNAME_MAX
        ? `it is longer than ${IFNAME_MAX} bytes`
        : name === '.' || name === '..'
          ? 'it is "." or ".."'
          : /[/:\s\0]/.test(name)
            ? 'it contains "/", ":", a NUL or white space'
            : null;
  if (why) throw new Error(`invalid interface name ${JSON.stringify(name)}: ${why}`);
}

function familyNumber(family: IpFamily): number {
  return family === 4 ? AF_INET : AF_INET6;
}

function writeIfinfomsg(w: AttributeWriter, o: { family?: number; index?: number; up?: boolean | undefined }): void {
  w.u8(o.family ?? AF_UNSPEC).u8(0).u16(0).s32(o.index ?? 0);
  w.u32(o.up ? IFF_UP : 0).u32(o.up === undefined ? 0 : IFF_UP);
}

function checkMtu(mtu: number | undefined): void {
  if (mtu !== undefined && (!Number.isInteger(mtu) || mtu < 68 || mtu > 0xffff)) {
    throw new Error(`invalid MTU ${mtu}: must be an integer from 68 to 65535`);
  }
}

function withContext<T>(operation: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof NetlinkError || !(err instanceof Error)) throw err;
    throw new Error(`${operation}: ${err.message}`, { cause: err });
  }
}

/** Checks path is a network namespace file and opens it, for IFLA_NET_NS_FD. */
function openNetns(path: string): number {
  let type: number;
  try {
    type = nsType(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTTY') throw new Error(`network namespace ${path}: not a network namespace`);
    if (code === 'ENOENT') throw new Error(`network namespace ${path}: no such file`);
    throw err;
  }
  if (type !== CLONE_NEWNET) throw new Error(`network namespace ${path}: not a network namespace`);
  return openSync(path, 'r');
}

function describeRoute(r: RouteSpec): string {
  return [
    r.dst,
    r.gateway !== undefined ? `via ${r.gateway}` : '',
    r.dev !== undefined ? `dev ${r.dev}` : '',
    r.table !== undefined && r.table !== RT_TABLE_MAIN ? `table ${r.table}` : '',
    r.metric !== undefined ? `metric ${r.metric}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

function describeChanges(c: LinkChanges): string {
  const parts: string[] = [];
  if (c.name !== undefined) parts.push(`name ${c.name}`);
  if (c.master === null) parts.push('nomaster');
  else if (c.master !== undefined) parts.push(`master ${c.master}`);
  if (c.mtu !== undefined) parts.push(`mtu ${c.mtu}`);
  if (c.mac !== undefined) parts.push(`address ${c.mac}`);
  if (c.up !== undefined) parts.push(c.up ? 'up' : 'down');
  return parts.join(' ');
}

/** An rtnetlink socket bound to one network namespace. Close it (or `using`) when done. */
export class RouteSocket extends NetlinkSocket {
  /** In the namespace pinned at netnsPath, or the caller's own. */
  static open(netnsPath?: string | null): RouteSocket {
    return new RouteSocket(NETLINK_ROUTE, netnsPath ?? null);
  }

  /** " in <netns>" for messages, so an error says which namespace it was about. */
  private where(): string {
    return this.netnsPath ? ` in ${this.netnsPath}` : '';
  }

  // ---- links ----

  /** The link, or a NetlinkError ENODEV naming it. */
  getLink(ref: LinkRef): Link {
    const operation = `get link ${ref}${this.where()}`;
    if (typeof ref === 'string') withContext(operation, () => validateInterfaceName(ref));
    const w = new AttributeWriter();
    writeIfinfomsg(w, { index: typeof ref === 'number' ? ref : 0 });
    if (typeof ref === 'string') w.attrString(IFLA_IFNAME, ref);
    w.attrU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    const replies = this.request(RTM_GETLINK, 0, w.finish(), operation);
    const first = replies[0];
    if (!first) throw new NetlinkError(operation, ENODEV);
    return decodeLink(first);
  }

  /** The link, or null when there is none of that name or index. */
  findLink(ref: LinkRef): Link | null {
    try {
      return this.getLink(ref);
    } catch (err) {
      if (err instanceof NetlinkError && err.code === 'ENODEV') return null;
      throw err;
    }
  }

  /**
   * The index of a link; a number is returned as is. With operation, a failure is reported
   * as that operation's ("add address 10.0.0.2/24 on nosuch0: ENODEV: no such device").
   */
  linkIndex(ref: LinkRef, operation?: string): number {
    if (typeof ref === 'number') return ref;
    if (operation) withContext(operation, () => validateInterfaceName(ref));
    try {
      return this.getLink(ref).index;
    } catch (err) {
      if (operation && err instanceof NetlinkError) throw new NetlinkError(operation, -err.errno, err.kernelMessage);
      throw err;
    }
  }

  listLinks(filter: { master?: LinkRef; kind?: string } = {}): Link[] {
    const master = filter.master === undefined ? undefined : this.linkIndex(filter.master, `list links${this.where()}`);
    const w = new AttributeWriter();
    writeIfinfomsg(w, {});
    w.attrU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    return this.dump(RTM_GETLINK, w.finish(), `list links${this.where()}`)
      .map(decodeLink)
      .filter((l) => (master === undefined || l.master === master) && (filter.kind === undefined || l.kind === filter.kind));
  }

  /** Adds a bridge; EEXIST when a link of that name exists. */
  addBridge(o: AddBridgeOptions): void {
    const operation = `add bridge ${o.name}${this.where()}`;
    const w = this.newLinkHead(o, operation);
    w.nested(IFLA_LINKINFO, (li) => {
      li.attrString(IFLA_INFO_KIND, 'bridge');
      const b = o.options;
      if (!b || Object.values(b).every((v) => v === undefined)) return;
      li.nested(IFLA_INFO_DATA, (d) => {
        if (b.stp !== undefined) d.attrU32(IFLA_BR_STP_STATE, b.stp ? 1 : 0);
        if (b.forwardDelay !== undefined) d.attrU32(IFLA_BR_FORWARD_DELAY, b.forwardDelay);
        if (b.ageingTime !== undefined) d.attrU32(IFLA_BR_AGEING_TIME, b.ageingTime);
        if (b.vlanFiltering !== undefined) d.attrU8(IFLA_BR_VLAN_FILTERING, b.vlanFiltering ? 1 : 0);
        if (b.multicastSnooping !== undefined) d.attrU8(IFLA_BR_MCAST_SNOOPING, b.multicastSnooping ? 1 : 0);
      });
    });
    this.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, w.finish(), operation);
  }

  /**
   * Adds a veth pair. The peer is made directly in the namespace given (so it never appears
   * here), under its own name there. This end may be brought up and attached to a bridge by
   * the same request; the peer is brought up with setLink in its namespace.
   */
  addVeth(o: AddVethOptions): void {
    const peer = o.peer;
    const peerWhere = peer.netnsPath ? ` in ${peer.netnsPath}` : peer.netnsPid !== undefined ? ` in the netns of pid ${peer.netnsPid}` : '';
    const operation = `add veth ${o.name}${this.where()} (peer ${peer.name}${peerWhere})`;
    withContext(operation, () => {
      validateInterfaceName(peer.name);
      checkMtu(peer.mtu);
    });
    const peerMac = peer.mac === undefined ? undefined : withContext(operation, () => parseMac(peer.mac!));
    const w = this.newLinkHead(o, operation);
    const nsFd = peer.netnsPath ? withContext(operation, () => openNetns(peer.netnsPath!)) : -1;
    try {
      w.nested(IFLA_LINKINFO, (li) => {
        li.attrString(IFLA_INFO_KIND, 'veth');
        li.nested(IFLA_INFO_DATA, (d) =>
          d.nested(VETH_INFO_PEER, (pw) => {
            writeIfinfomsg(pw, {});
            pw.attrString(IFLA_IFNAME, peer.name);
            if (peer.mtu !== undefined) pw.attrU32(IFLA_MTU, peer.mtu);
            if (peerMac) pw.attrBytes(IFLA_ADDRESS, peerMac);
            if (nsFd >= 0) pw.attrU32(IFLA_NET_NS_FD, nsFd);
            else if (peer.netnsPid !== undefined) pw.attrU32(IFLA_NET_NS_PID, peer.netnsPid);
          }),
        );
      });
      this.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, w.finish(), operation);
    } finally {
      if (nsFd >= 0) closeSync(nsFd);
    }
  }

  /** ifinfomsg and the attributes every new link may have. */
  private newLinkHead(o: NewLinkCommon, operation: string): AttributeWriter {
    withContext(operation, () => {
      validateInterfaceName(o.name);
      checkMtu(o.mtu);
    });
    const mac = o.mac === undefined ? undefined : withContext(operation, () => parseMac(o.mac!));
    const master = o.master === undefined ? undefined : this.linkIndex(o.master, operation);
    const w = new AttributeWriter();
    writeIfinfomsg(w, { up: o.up ? true : undefined });
    w.attrString(IFLA_IFNAME, o.name);
    if (o.mtu !== undefined) w.attrU32(IFLA_MTU, o.mtu);
    if (mac) w.attrBytes(IFLA_ADDRESS, mac);
    if (master !== undefined) w.attrU32(IFLA_MASTER, master);
    return w;
  }

  /** Changes a link: up/down, bridge, MTU, MAC, name, in one request. */
  setLink(ref: LinkRef, changes: LinkChanges): void {
    const operation = `set link ${ref} ${describeChanges(changes)}${this.where()}`;
    withContext(operation, () => {
      if (typeof ref === 'string') validateInterfaceName(ref);
      if (changes.name !== undefined) validateInterfaceName(changes.name);
      checkMtu(changes.mtu);
    });
    const mac = changes.mac === undefined ? undefined : withContext(operation, () => parseMac(changes.mac!));
    // With a new name, IFLA_IFNAME carries it, so the link must be named by index.
    const index = typeof ref === 'number' ? ref : changes.name !== undefined ? this.linkIndex(ref, operation) : 0;
    const master = changes.master === undefined ? undefined : changes.master === null ? 0 : this.linkIndex(changes.master, operation);
    const w = new AttributeWriter();
    writeIfinfomsg(w, { index, up: changes.up });
    if (index === 0) w.attrString(IFLA_IFNAME, ref as string);
    else if (changes.name !== undefined) w.attrString(IFLA_IFNAME, changes.name);
    if (changes.mtu !== undefined) w.attrU32(IFLA_MTU, changes.mtu);
    if (mac) w.attrBytes(IFLA_ADDRESS, mac);
    if (master !== undefined) w.attrU32(IFLA_MASTER, master);
    this.request(RTM_SETLINK, 0, w.finish(), operation);
  }

  setLinkUp(ref: LinkRef, up = true): void {
    this.setLink(ref, { up });
  }

  /** Attaches the link to a bridge, or detaches it with null. */
  setMaster(ref: LinkRef, master: LinkRef | null): void {
    this.setLink(ref, { master });
  }

  setMtu(ref: LinkRef, mtu: number): void {
    this.setLink(ref, { mtu });
  }

  setMac(ref: LinkRef, mac: string): void {
    this.setLink(ref, { mac });
  }

  renameLink(ref: LinkRef, name: string): void {
    this.setLink(ref, { name });
  }

  /**
   * Moves a link into the network namespace pinned at netnsPath, optionally renaming it there
   * (the move fails with EEXIST if the name is taken there). A link moves down.
   */
  moveLink(ref: LinkRef, netnsPath: string, newName?: string): void {
    const operation = `move link ${ref} to ${netnsPath}${newName ? ` as ${newName}` : ''}${this.where()}`;
    if (newName !== undefined) withContext(operation, () => validateInterfaceName(newName));
    const index = this.linkIndex(ref, operation);
    const nsFd = withContext(operation, () => openNetns(netnsPath));
    try {
      const w = new AttributeWriter();
      writeIfinfomsg(w, { index });
      w.attrU32(IFLA_NET_NS_FD, nsFd);
      if (newName !== undefined) w.attrString(IFLA_IFNAME, newName);
      this.request(RTM_SETLINK, 0, w.finish(), operation);
    } finally {
      closeSync(nsFd);
    }
  }

  /**
   * Deletes a link (for a veth, the pair). Returns false when there was none and missingOk is
   * set; throws ENODEV otherwise.
   */
  deleteLink(ref: LinkRef, opts: { missingOk?: boolean } = {}): boolean {
    const operation = `delete link ${ref}${this.where()}`;
    if (typeof ref === 'string') withContext(operation, () => validateInterfaceName(ref));
    const w = new AttributeWriter();
    writeIfinfomsg(w, { index: typeof ref === 'number' ? ref : 0 });
    if (typeof ref === 'string') w.attrString(IFLA_IFNAME, ref);
    try {
      this.request(RTM_DELLINK, 0, w.finish(), operation);
      return true;
    } catch (err) {
      if (opts.missingOk && err instanceof NetlinkError && err.code === 'ENODEV') return false;
      throw err;
    }
  }

  // ---- addresses ----

  /** Adds "address/prefix" to a link; EEXIST when the link has it already. */
  addAddress(link: LinkRef, cidr: string, opts: AddressOptions = {}): void {
    const operation = `add address ${cidr} on ${link}${this.where()}`;
    const c = withContext(operation, () => parsePrefix(cidr, 'address'));
    const broadcast =
      c.family === 4 && opts.broadcast !== false && (opts.broadcast !== undefined || c.bits < 31)
        ? opts.broadcast
          ? withContext(operation, () => ipOfFamily(opts.broadcast as string, 4))
          : addressBytes(last(c))
        : undefined;
    const flags = (opts.nodad ? IFA_F_NODAD : 0) | (opts.noPrefixRoute ? IFA_F_NOPREFIXROUTE : 0);
    const index = this.linkIndex(link, operation);
    const w = this.addressHead(c, index, flags);
    if (broadcast) w.attrBytes(IFA_BROADCAST, broadcast);
    if (flags) w.attrU32(IFA_FLAGS, flags);
    this.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, w.finish(), operation);
  }

  /** Removes "address/prefix" from a link; EADDRNOTAVAIL when it has no such address. */
  deleteAddress(link: LinkRef, cidr: string): void {
    const operation = `delete address ${cidr} on ${link}${this.where()}`;
    const c = withContext(operation, () => parsePrefix(cidr, 'address'));
    const index = this.linkIndex(link, operation);
    this.request(RTM_DELADDR, 0, this.addressHead(c, index, 0).finish(), operation);
  }

  private addressHead(c: Prefix, index: number, flags: number): AttributeWriter {
    const bytes = addressBytes(c);
    // 127.0.0.0/8 is host scope, as iproute2 makes it; the kernel picks IPv6 scopes itself.
    const scope = c.family === 4 && bytes[0] === 127 ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE;
    const w = new AttributeWriter();
    w.u8(familyNumber(c.family)).u8(c.bits).u8(flags & 0xff).u8(scope).u32(index);
    w.attrBytes(IFA_LOCAL, bytes);
    w.attrBytes(IFA_ADDRESS, bytes);
    return w;
  }

  listAddresses(filter: { link?: LinkRef; family?: IpFamily } = {}): Address[] {
    const operation = `list addresses${filter.link !== undefined ? ` of ${filter.link}` : ''}${this.where()}`;
    const index = filter.link === undefined ? 0 : this.linkIndex(filter.link, operation);
    const w = new AttributeWriter();
    w.u8(filter.family ? familyNumber(filter.family) : AF_UNSPEC).u8(0).u8(0).u8(0).u32(index);
    const out: Address[] = [];
    for (const msg of this.dump(RTM_GETADDR, w.finish(), operation)) {
      const a = decodeAddress(msg);
      if (!a || (index && a.index !== index) || (filter.family && a.family !== filter.family)) continue;
      out.push(a);
    }
    return out;
  }

  // ---- routes ----

  /** Adds a route; EEXIST when the same route exists. */
  addRoute(r: RouteSpec): void {
    const operation = `add route ${describeRoute(r)}${this.where()}`;
    this.request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, this.routeBody(r, operation, false), operation);
  }

  /** Deletes the route that matches; ESRCH when none does. */
  deleteRoute(r: RouteSpec): void {
    const operation = `delete route ${describeRoute(r)}${this.where()}`;
    this.request(RTM_DELROUTE, 0, this.routeBody(r, operation, true), operation);
  }

  private routeBody(r: RouteSpec, operation: string, deleting: boolean): Buffer {
    const { family, dst, gateway, src } = withContext(operation, () => {
      const dst = r.dst === 'default' ? null : parsePrefix(r.dst, 'destination');
      const family = dst?.family ?? (r.gateway !== undefined ? parseIp(r.gateway).family : r.family);
      if (!family) throw new Error('a default route without a gateway needs a family (4 or 6)');
      const gateway = r.gateway === undefined ? undefined : ipOfFamily(r.gateway, family);
      const src = r.src === undefined ? undefined : ipOfFamily(r.src, family);
      return { family, dst, gateway, src };
    });
    const table = r.table ?? RT_TABLE_MAIN;
    const dev = r.dev === undefined ? undefined : this.linkIndex(r.dev, operation);
    const scope = r.scope ?? (deleting ? RT_SCOPE_NOWHERE : family === 4 && !gateway ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE);
    const w = new AttributeWriter();
    w.u8(familyNumber(family)).u8(dst?.bits ?? 0).u8(0).u8(0);
    w.u8(table < 256 ? table : RT_TABLE_UNSPEC).u8(r.protocol ?? (deleting ? 0 : RTPROT_BOOT)).u8(scope).u8(deleting ? 0 : RTN_UNICAST);
    w.u32(0);
    w.attrU32(RTA_TABLE, table);
    if (dst) w.attrBytes(RTA_DST, addressBytes(dst));
    if (gateway) w.attrBytes(RTA_GATEWAY, gateway);
    if (dev !== undefined) w.attrU32(RTA_OIF, dev);
    if (r.metric !== undefined) w.attrU32(RTA_PRIORITY, r.metric);
    if (src) w.attrBytes(RTA_PREFSRC, src);
    return w.finish();
  }

  listRoutes(filter: ListRoutesFilter = {}): Route[] {
    const operation = `list routes${this.where()}`;
    const dev = filter.dev === undefined ? undefined : this.linkIndex(filter.dev, operation);
    const table = filter.table ?? RT_TABLE_MAIN;
    const w = new AttributeWriter();
    w.u8(filter.family ? familyNumber(filter.family) : AF_UNSPEC).u8(0).u8(0).u8(0);
    w.u8(0).u8(0).u8(0).u8(0).u32(0);
    const out: Route[] = [];
    for (const msg of this.dump(RTM_GETROUTE, w.finish(), operation)) {
      const route = decodeRoute(msg);
      if (!route) continue;
      if (filter.family && route.family !== filter.family) continue;
      if (table !== 'all' && route.table !== table) continue;
      if (dev !== undefined && route.dev !== dev) continue;
      out.push(route);
    }
    return out;
  }
}

function parseIp(text: string): IpAddress {
  const a = parseAddress(text);
  if (!a) throw new Error(`invalid IP address: ${JSON.stringify(text)}`);
  return a;
}

function ipOfFamily(text: string, family: IpFamily): Uint8Array {
  const ip = parseIp(text);
  if (ip.family !== family) throw new Error(`${text} is not an IPv${family} address`);
  return addressBytes(ip);
}

