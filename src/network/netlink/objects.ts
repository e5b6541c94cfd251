// What rtnetlink reports: links, addresses and routes as plain objects, decoded from the
// kernel's messages, and the byte form of IP addresses that messages carry.
import { formatIP, type Address as IpAddress, type Family as IpFamily } from '../cidr.ts';
import { AttributeSet, NetlinkDecodeError, readS32, readU32 } from './attributes.ts';
import {
  AF_INET,
  AF_INET6,
  IFA_ADDRESS,
  IFA_BROADCAST,
  IFA_FLAGS,
  IFA_LABEL,
  IFA_LOCAL,
  IFADDRMSG_LEN,
  IFF_UP,
  IFINFOMSG_LEN,
  IFLA_ADDRESS,
  IFLA_IFNAME,
  IFLA_INFO_KIND,
  IFLA_LINK,
  IFLA_LINK_NETNSID,
  IFLA_LINKINFO,
  IFLA_MASTER,
  IFLA_MTU,
  IFLA_OPERSTATE,
  OPERSTATES,
  RTA_DST,
  RTA_GATEWAY,
  RTA_OIF,
  RTA_PREFSRC,
  RTA_PRIORITY,
  RTA_TABLE,
  RTMSG_LEN,
} from './constants.ts';
import { formatMac } from './mac.ts';
import type { NetlinkMessage } from './message.ts';

export interface Link {
  index: number;
  name: string;
  /** IFLA_INFO_KIND: 'bridge', 'veth', ...; null for a plain device such as lo or a NIC. */
  kind: string | null;
  /** The index of the bridge (or other master) the link is attached to. */
  master: number | null;
  /** IFF_* flags. */
  flags: number;
  /** IFF_UP: administratively up. */
  up: boolean;
  mtu: number;
  /** The link-layer address, e.g. "02:42:ac:11:00:02"; null when the link has none. */
  mac: string | null;
  /** RFC 2863 state: 'up', 'down', 'lowerlayerdown', 'unknown', ... */
  operstate: string;
  /** IFLA_LINK: for a veth, its peer's index (in the namespace linkNetnsId names, if set). */
  link: number | null;
  linkNetnsId: number | null;
}

export interface Address {
  index: number;
  family: IpFamily;
  /** The link's own address, e.g. "10.88.0.1". */
  address: string;
  prefix: number;
  /** "10.88.0.1/16". */
  cidr: string;
  broadcast: string | null;
  label: string | null;
  /** RT_SCOPE_*: 0 global, 253 link, 254 host. */
  scope: number;
  /** IFA_F_*. */
  flags: number;
}

export interface Route {
  family: IpFamily;
  /** 'default' or a prefix, "10.88.0.0/16". */
  dst: string;
  gateway: string | null;
  /** Output link index. */
  dev: number | null;
  table: number;
  protocol: number;
  scope: number;
  /** RTN_*: 1 unicast, 2 local, ... */
  type: number;
  metric: number | null;
  src: string | null;
}

/** The 4 or 16 bytes of an address, in network order, as netlink carries it. */
export function addressBytes(a: IpAddress): Uint8Array {
  const out = new Uint8Array(a.family === 4 ? 4 : 16);
  let v = a.value;
  for (let i = out.length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** An address from its 4 or 16 bytes, in Go's form (as the rest of hull prints them). */
export function formatIp(bytes: Uint8Array): string {
  return formatIP(Array.from(bytes));
}

/** 4 or 6 for AF_INET or AF_INET6, else null. */
export function familyOf(af: number): IpFamily | null {
  return af === AF_INET ? 4 : af === AF_INET6 ? 6 : null;
}

/** An RTM_NEWLINK message: ifinfomsg, then IFLA_* attributes. */
export function decodeLink(msg: NetlinkMessage): Link {
  const p = msg.payload;
  if (p.length < IFINFOMSG_LEN) throw new NetlinkDecodeError(`link message of ${p.length} bytes, too short`);
  const flags = readU32(p, 8);
  const attrs = AttributeSet.parse(p, IFINFOMSG_LEN);
  const address = attrs.bytes(IFLA_ADDRESS);
  const operstate = attrs.u8(IFLA_OPERSTATE);
  return {
    index: readS32(p, 4),
    name: attrs.string(IFLA_IFNAME) ?? '',
    kind: attrs.nested(IFLA_LINKINFO)?.string(IFLA_INFO_KIND) ?? null,
    master: attrs.u32(IFLA_MASTER) || null,
    flags,
    up: (flags & IFF_UP) !== 0,
    mtu: attrs.u32(IFLA_MTU) ?? 0,
    mac: address && address.length > 0 ? formatMac(address) : null,
    operstate: operstate === undefined ? 'unknown' : (OPERSTATES[operstate] ?? String(operstate)),
    link: attrs.u32(IFLA_LINK) ?? null,
    linkNetnsId: attrs.s32(IFLA_LINK_NETNSID) ?? null,
  };
}

/** An RTM_NEWADDR message: ifaddrmsg, then IFA_*; null for a family other than IPv4 and IPv6. */
export function decodeAddress(msg: NetlinkMessage): Address | null {
  const p = msg.payload;
  if (p.length < IFADDRMSG_LEN) throw new NetlinkDecodeError(`address message of ${p.length} bytes, too short`);
  const family = familyOf(p.readUInt8(0));
  if (!family) return null;
  const prefix = p.readUInt8(1);
  const attrs = AttributeSet.parse(p, IFADDRMSG_LEN);
  // IFA_LOCAL is the link's own address; IFA_ADDRESS is the peer's on a point-to-point link,
  // and the only one IPv6 sends
  const bytes = attrs.bytes(IFA_LOCAL) ?? attrs.bytes(IFA_ADDRESS);
  if (!bytes) return null;
  const address = formatIp(bytes);
  const broadcast = attrs.bytes(IFA_BROADCAST);
  return {
    index: readU32(p, 4),
    family,
    address,
    prefix,
    cidr: `${address}/${prefix}`,
    broadcast: broadcast ? formatIp(broadcast) : null,
    label: attrs.string(IFA_LABEL) ?? null,
    scope: p.readUInt8(3),
    flags: attrs.u32(IFA_FLAGS) ?? p.readUInt8(2),
  };
}

/** An RTM_NEWROUTE message: rtmsg, then RTA_*; null for a family other than IPv4 and IPv6. */
export function decodeRoute(msg: NetlinkMessage): Route | null {
  const p = msg.payload;
  if (p.length < RTMSG_LEN) throw new NetlinkDecodeError(`route message of ${p.length} bytes, too short`);
  const family = familyOf(p.readUInt8(0));
  if (!family) return null;
  const dstLen = p.readUInt8(1);
  const attrs = AttributeSet.parse(p, RTMSG_LEN);
  const dst = attrs.bytes(RTA_DST);
  const gateway = attrs.bytes(RTA_GATEWAY);
  const src = attrs.bytes(RTA_PREFSRC);
  return {
    family,
    dst: dst && dstLen > 0 ? `${formatIp(dst)}/${dstLen}` : 'default',
    gateway: gateway ? formatIp(gateway) : null,
    dev: attrs.u32(RTA_OIF) ?? null,
    // rtm_table holds only 8 bits; RTA_TABLE has the whole number
    table: attrs.u32(RTA_TABLE) ?? p.readUInt8(4),
    protocol: p.readUInt8(5),
    scope: p.readUInt8(6),
    type: p.readUInt8(7),
    metric: attrs.u32(RTA_PRIORITY) ?? null,
    src: src ? formatIp(src) : null,
  };
}
