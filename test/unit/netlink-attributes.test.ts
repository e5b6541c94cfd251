import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttributeSet, AttributeWriter, NetlinkDecodeError, align4, parseAttributes } from '../../src/network/netlink/attributes.ts';
import { NLA_F_NESTED } from '../../src/network/netlink/constants.ts';

// The tests write expected bytes in little-endian order, the byte order of every machine hull
// runs on (x86_64, aarch64); the code itself follows the host's order.

test('align4 rounds up to the next multiple of 4', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 8, 9].map(align4), [0, 4, 4, 4, 4, 8, 8, 12]);
});

test('a u32 attribute is length 8, type, then the value', () => {
  const b = new AttributeWriter().attrU32(4, 1500).finish();
  assert.deepEqual([...b], [8, 0, 4, 0, 0xdc, 0x05, 0, 0]);
});

test('strings are NUL-terminated and padded; the length excludes the padding', () => {
  const b = new AttributeWriter().attrString(3, 'eth0').attrU8(16, 6).finish();
  // "eth0\0" is 5 bytes: length 9, padded to 12; then u8: length 5, padded to 8
  assert.deepEqual([...b], [9, 0, 3, 0, 0x65, 0x74, 0x68, 0x30, 0, 0, 0, 0, 5, 0, 16, 0, 6, 0, 0, 0]);
  const attrs = parseAttributes(b);
  assert.equal(attrs.length, 2);
  assert.equal(attrs[0]!.data.length, 5);
  const set = new AttributeSet(attrs);
  assert.equal(set.string(3), 'eth0');
  assert.equal(set.u8(16), 6);
});

test('a struct head then attributes: fields are packed, attributes start aligned', () => {
  const w = new AttributeWriter();
  w.u8(2).u8(24).u8(0).u8(0).u32(7); // ifaddrmsg
  w.attrBytes(2, Uint8Array.of(10, 0, 0, 2));
  const b = w.finish();
  assert.equal(b.length, 16);
  assert.deepEqual([...b.subarray(0, 8)], [2, 24, 0, 0, 7, 0, 0, 0]);
  const set = AttributeSet.parse(b, 8);
  assert.deepEqual([...set.bytes(2)!], [10, 0, 0, 2]);
});

test('nested attributes round-trip, with their lengths patched in and NESTED flag masked', () => {
  const w = new AttributeWriter(8); // small, so the writer must grow
  w.attrString(3, 'br0');
  w.nested(18, (li) => {
    li.attrString(1, 'bridge');
    li.nested(2, (d) => {
      d.attrU32(5, 1);
      d.attrU8(7, 1);
      d.attrU16(9, 0xbeef);
    }, { flag: true });
  });
  w.attrFlag(40);
  w.attrS32(37, -1);
  const b = w.finish();
  assert.equal(b.length % 4, 0);
  const top = AttributeSet.parse(b);
  assert.equal(top.string(3), 'br0');
  assert.equal(top.has(40), true);
  assert.equal(top.bytes(40)!.length, 0);
  assert.equal(top.s32(37), -1);
  const info = top.nested(18)!;
  assert.equal(info.string(1), 'bridge');
  const data = info.list.find((a) => a.type === 2)!;
  assert.equal(data.nested, true, 'the NESTED bit is reported');
  const inner = info.nested(2)!;
  assert.equal(inner.u32(5), 1);
  assert.equal(inner.u8(7), 1);
  assert.equal(inner.u16(9), 0xbeef);
  // the raw type field carries the flag, the parsed type does not
  const dataOffset = b.indexOf(Buffer.from('bridge\0')) + 8;
  assert.equal(b.readUInt16LE(dataOffset + 2), 2 | NLA_F_NESTED);
});

test('a nested attribute holding a struct then attributes (a veth peer)', () => {
  const w = new AttributeWriter();
  w.nested(1, (p) => {
    p.u8(0).u8(0).u16(0).s32(0).u32(0).u32(0); // ifinfomsg
    p.attrString(3, 'eth0');
    p.attrU32(28, 42);
  });
  const outer = parseAttributes(w.finish());
  assert.equal(outer.length, 1);
  const peer = outer[0]!.data;
  assert.equal(peer.length, 16 + 12 + 8);
  const attrs = AttributeSet.parse(peer, 16);
  assert.equal(attrs.string(3), 'eth0');
  assert.equal(attrs.u32(28), 42);
});

test('a repeated type: the last wins in the set, all are in the list', () => {
  const set = AttributeSet.parse(new AttributeWriter().attrU32(1, 1).attrU32(1, 2).finish());
  assert.equal(set.u32(1), 2);
  assert.equal(set.list.length, 2);
});

test('missing attributes are undefined; strings without a NUL are read whole', () => {
  const set = AttributeSet.parse(new AttributeWriter().attrBytes(3, Buffer.from('lo')).finish());
  assert.equal(set.string(3), 'lo');
  assert.equal(set.u32(4), undefined);
  assert.equal(set.string(5), undefined);
  assert.equal(set.nested(6), undefined);
});

test('malformed attributes are refused with where and why', () => {
  // length shorter than the header
  assert.throws(() => parseAttributes(Buffer.from([2, 0, 1, 0])), (e: Error) => e instanceof NetlinkDecodeError && /at byte 0: length 2 is shorter than its header/.test(e.message));
  // length running past the end
  assert.throws(() => parseAttributes(Buffer.from([8, 0, 1, 0, 0xaa, 0xbb])), /length 8 runs past the end \(6\)/);
  // the second attribute is bad
  assert.throws(() => parseAttributes(Buffer.from([4, 0, 1, 0, 12, 0, 2, 0, 0, 0, 0, 0])), /at byte 4/);
  // a u32 getter on a 2-byte attribute
  const set = AttributeSet.parse(new AttributeWriter().attrU16(1, 5).finish());
  assert.throws(() => set.u32(1), /attribute 1 has 2 bytes, expected 4/);
});

test('fewer than 4 bytes left over are ignored, as the kernel does', () => {
  const b = Buffer.concat([new AttributeWriter().attrU32(1, 9).finish(), Buffer.from([0, 0])]);
  assert.equal(parseAttributes(b).length, 1);
});

test('an attribute over 64 KiB cannot be written', () => {
  assert.throws(() => new AttributeWriter().nested(1, (w) => w.bytes(new Uint8Array(70000))), RangeError);
});
