import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttributeWriter } from '../../src/network/netlink/attributes.ts';
import {
  AF_INET,
  AF_INET6,
  IFA_ADDRESS,
  IFA_BROADCAST,
  IFA_FLAGS,
  IFA_LABEL,
  IFA_LOCAL,
  IFLA_ADDRESS,
  IFLA_IFNAME,
  IFLA_INFO_KIND,
  IFLA_LINK,
  IFLA_LINK_NETNSID,
  IFLA_LINKINFO,
  IFLA_MASTER,
  IFLA_MTU,
  IFLA_OPERSTATE,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_MULTI,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
  RTA_GATEWAY,
  RTA_OIF,
  RTA_PRIORITY,
  RTA_TABLE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWROUTE,
} from '../../src/network/netlink/constants.ts';
import { formatMac, parseMac } from '../../src/network/netlink/mac.ts';
import { NetlinkError, encodeMessage, parseAck, parseDone, parseMessages } from '../../src/network/netlink/message.ts';
import { addressBytes, decodeAddress, decodeLink, decodeRoute } from '../../src/network/netlink/objects.ts';
import { validateInterfaceName } from '../../src/network/netlink/route.ts';
import { parseAddress } from '../../src/network/cidr.ts';

test('a message is a 16-byte header then the body, padded to 4', () => {
  const m = encodeMessage(RTM_NEWLINK, 0x605, 77, Uint8Array.of(1, 2, 3, 4, 5));
  assert.equal(m.length, 24);
  assert.equal(m.readUInt32LE(0), 21, 'nlmsg_len counts the body without padding');
  assert.equal(m.readUInt16LE(4), RTM_NEWLINK);
  assert.equal(m.readUInt16LE(6), 0x605);
  assert.equal(m.readUInt32LE(8), 77);
  assert.equal(m.readUInt32LE(12), 0, 'port id 0: to the kernel');
  assert.deepEqual([...m.subarray(16, 21)], [1, 2, 3, 4, 5]);
});

test('a datagram with several messages splits into them', () => {
  const d = Buffer.concat([
    encodeMessage(RTM_NEWLINK, NLM_F_MULTI, 5, Uint8Array.of(9, 9, 9)),
    encodeMessage(RTM_NEWLINK, NLM_F_MULTI, 5, new Uint8Array(16)),
    encodeMessage(NLMSG_DONE, NLM_F_MULTI, 5, Uint8Array.of(0, 0, 0, 0)),
  ]);
  const msgs = parseMessages(d);
  assert.deepEqual(msgs.map((m) => [m.type, m.flags, m.seq, m.payload.length]), [
    [RTM_NEWLINK, NLM_F_MULTI, 5, 3],
    [RTM_NEWLINK, NLM_F_MULTI, 5, 16],
    [NLMSG_DONE, NLM_F_MULTI, 5, 4],
  ]);
  assert.equal(parseDone(msgs[2]!), 0);
});

test('malformed datagrams are refused', () => {
  const good = encodeMessage(RTM_NEWLINK, 0, 1, new Uint8Array(4));
  const long = Buffer.from(good);
  long.writeUInt32LE(64, 0);
  assert.throws(() => parseMessages(long), /malformed netlink message at byte 0: length 64, datagram 20 bytes/);
  const short = Buffer.from(good);
  short.writeUInt32LE(8, 0);
  assert.throws(() => parseMessages(short), /length 8/);
  assert.throws(() => parseMessages(Buffer.concat([good, Buffer.alloc(8)])), /8 stray bytes/);
});

/** An NLMSG_ERROR as the kernel sends it: errno, the request's header (or all of it), TLVs. */
function errorMessage(errno: number, opts: { capped: boolean; tlvs?: (w: AttributeWriter) => void; request?: Buffer }): Buffer {
  const request = opts.request ?? encodeMessage(RTM_NEWLINK, 0x605, 9, new Uint8Array(24));
  const w = new AttributeWriter();
  w.s32(-errno);
  w.bytes(opts.capped ? request.subarray(0, 16) : request);
  opts.tlvs?.(w);
  const flags = (opts.capped ? NLM_F_CAPPED : 0) | (opts.tlvs ? NLM_F_ACK_TLVS : 0);
  return encodeMessage(NLMSG_ERROR, flags, 9, w.finish());
}

test('an ack is an error message with errno 0', () => {
  const [msg] = parseMessages(errorMessage(0, { capped: true }));
  assert.deepEqual(parseAck(msg!), { errno: 0 });
});

test('a capped error with extended ack: errno, the kernel message and the offset', () => {
  const d = errorMessage(17, {
    capped: true,
    tlvs: (w) => w.attrString(NLMSGERR_ATTR_MSG, 'ipv4: Address already assigned').attrU32(NLMSGERR_ATTR_OFFS, 36),
  });
  const [msg] = parseMessages(d);
  assert.deepEqual(parseAck(msg!), { errno: 17, message: 'ipv4: Address already assigned', offset: 36 });
});

test('an uncapped error echoes the whole request before the extended ack', () => {
  const request = encodeMessage(RTM_NEWLINK, 0x605, 9, new AttributeWriter().attrString(3, 'veth0123').finish());
  const d = errorMessage(22, { capped: false, request, tlvs: (w) => w.attrString(NLMSGERR_ATTR_MSG, 'Unknown device type') });
  const [msg] = parseMessages(d);
  assert.deepEqual(parseAck(msg!), { errno: 22, message: 'Unknown device type' });
});

test('an error without extended ack has only the errno', () => {
  const [msg] = parseMessages(errorMessage(19, { capped: false }));
  assert.deepEqual(parseAck(msg!), { errno: 19 });
});

test('a truncated error message is refused', () => {
  const [msg] = parseMessages(encodeMessage(NLMSG_ERROR, 0, 1, Uint8Array.of(1, 2)));
  assert.throws(() => parseAck(msg!), /too short/);
});

test('a dump that ends in error carries the errno in NLMSG_DONE', () => {
  const w = new AttributeWriter().s32(-16);
  const [msg] = parseMessages(encodeMessage(NLMSG_DONE, NLM_F_MULTI, 3, w.finish()));
  assert.equal(parseDone(msg!), 16);
});

test('NetlinkError names the operation, the errno and the kernel reason', () => {
  const e = new NetlinkError('add address 10.0.0.2/24 on eth0', 17, 'ipv4: Address already assigned');
  assert.equal(e.message, 'add address 10.0.0.2/24 on eth0: EEXIST: file already exists (ipv4: Address already assigned)');
  assert.equal(e.code, 'EEXIST');
  assert.equal(e.errno, -17);
  assert.equal(e.operation, 'add address 10.0.0.2/24 on eth0');
  const plain = new NetlinkError('delete link x', 19);
  assert.equal(plain.message, 'delete link x: ENODEV: no such device');
  assert.equal(plain.kernelMessage, undefined);
  assert.ok(plain instanceof Error);
});

test('interface names follow the kernel rules, with the reason when not', () => {
  for (const ok of ['eth0', 'veth1a2b3c4d5e6', 'br-0123456789ab', 'a', 'x.y', 'é']) validateInterfaceName(ok);
  const bad: Array<[string, RegExp]> = [
    ['', /"": it is empty/],
    ['abcdefghijklmnop', /longer than 15 bytes/],
    ['éééééééé', /longer than 15 bytes/],
    ['.', /"\." or "\.\."/],
    ['..', /"\." or "\.\."/],
    ['a/b', /contains "\/"/],
    ['eth0:1', /contains/],
    ['a b', /white space/],
    ['a\tb', /white space/],
    ['a\0b', /NUL/],
  ];
  for (const [name, why] of bad) assert.throws(() => validateInterfaceName(name), why, name);
});

test('MAC addresses parse and format', () => {
  assert.deepEqual([...parseMac('02:42:AC:11:00:02')], [2, 0x42, 0xac, 0x11, 0, 2]);
  assert.equal(formatMac(parseMac('02:42:AC:11:00:02')), '02:42:ac:11:00:02');
  assert.equal(formatMac(new Uint8Array(0)), '');
  for (const bad of ['', '02:42:ac:11:00', '02:42:ac:11:00:02:03', '2:42:ac:11:00:02', '02-42-ac-11-00-02', 'zz:42:ac:11:00:02']) {
    assert.throws(() => parseMac(bad), /invalid MAC address/, bad);
  }
});

test('addresses become their network-order bytes', () => {
  assert.deepEqual([...addressBytes(parseAddress('10.88.0.5')!)], [10, 88, 0, 5]);
  assert.deepEqual([...addressBytes(parseAddress('fd00::1:2')!)], [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2]);
  assert.deepEqual([...addressBytes(parseAddress('255.255.255.255')!)], [255, 255, 255, 255]);
});

test('link, address and route messages decode to plain objects', () => {
  const link = new AttributeWriter();
  link.u8(0).u8(0).u16(1).s32(7).u32(0x11043).u32(0); // ifinfomsg: ether, index 7, UP|BROADCAST|MULTICAST|LOWER_UP
  link.attrString(IFLA_IFNAME, 'veth0').attrU32(IFLA_MTU, 1500).attrU32(IFLA_MASTER, 3).attrU8(IFLA_OPERSTATE, 6);
  link.attrBytes(IFLA_ADDRESS, Uint8Array.of(2, 0x42, 0xac, 0x11, 0, 2)).attrU32(IFLA_LINK, 2).attrS32(IFLA_LINK_NETNSID, 0);
  link.nested(IFLA_LINKINFO, (li) => li.attrString(IFLA_INFO_KIND, 'veth'));
  const [lm] = parseMessages(encodeMessage(RTM_NEWLINK, 0, 1, link.finish()));
  assert.deepEqual(decodeLink(lm!), {
    index: 7, name: 'veth0', kind: 'veth', master: 3, flags: 0x11043, up: true, mtu: 1500,
    mac: '02:42:ac:11:00:02', operstate: 'up', link: 2, linkNetnsId: 0,
  });

  const addr = new AttributeWriter();
  addr.u8(AF_INET).u8(16).u8(0x80).u8(0).u32(7);
  addr.attrBytes(IFA_ADDRESS, Uint8Array.of(10, 88, 0, 5)).attrBytes(IFA_LOCAL, Uint8Array.of(10, 88, 0, 5));
  addr.attrBytes(IFA_BROADCAST, Uint8Array.of(10, 88, 255, 255)).attrString(IFA_LABEL, 'eth0').attrU32(IFA_FLAGS, 0x80);
  const [am] = parseMessages(encodeMessage(RTM_NEWADDR, 0, 1, addr.finish()));
  assert.deepEqual(decodeAddress(am!), {
    index: 7, family: 4, address: '10.88.0.5', prefix: 16, cidr: '10.88.0.5/16', broadcast: '10.88.255.255', label: 'eth0', scope: 0, flags: 0x80,
  });

  const v6 = new AttributeWriter();
  v6.u8(AF_INET6).u8(0).u8(0).u8(0).u8(254).u8(3).u8(0).u8(1).u32(0); // rtmsg: default route, main, boot, unicast
  v6.attrU32(RTA_TABLE, 254).attrBytes(RTA_GATEWAY, addressBytes(parseAddress('fd00:88::1')!)).attrU32(RTA_OIF, 2).attrU32(RTA_PRIORITY, 1024);
  const [rm] = parseMessages(encodeMessage(RTM_NEWROUTE, 0, 1, v6.finish()));
  assert.deepEqual(decodeRoute(rm!), {
    family: 6, dst: 'default', gateway: 'fd00:88::1', dev: 2, table: 254, protocol: 3, scope: 0, type: 1, metric: 1024, src: null,
  });

  // other families are skipped, short messages refused
  const bridgeFamily = new AttributeWriter().u8(7).u8(0).u8(0).u8(0).u32(1).finish();
  assert.equal(decodeAddress(parseMessages(encodeMessage(RTM_NEWADDR, 0, 1, bridgeFamily))[0]!), null);
  assert.throws(() => decodeLink(parseMessages(encodeMessage(RTM_NEWLINK, 0, 1, new Uint8Array(8)))[0]!), /link message of 8 bytes, too short/);
});
