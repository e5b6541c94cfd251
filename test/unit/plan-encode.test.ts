import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodePlan, nulJoin } from '../../src/runtime/plan/encode.ts';
import { Op, PLAN_MAGIC, PLAN_VERSION, type PlanOp } from '../../src/runtime/plan/ops.ts';

/** The same walk hull-init's decode_plan makes, to check the framing byte by byte. */
function decode(buf: Buffer): { op: number; args: Buffer[] }[] {
  const len = buf.readUInt32LE(0);
  assert.equal(len, buf.length - 4);
  let off = 4;
  assert.equal(buf.readUInt32LE(off), PLAN_MAGIC);
  assert.equal(buf.readUInt32LE(off + 4), PLAN_VERSION);
  const n = buf.readUInt32LE(off + 8);
  off += 12;
  const ops = [];
  for (let i = 0; i < n; i++) {
    const op = buf.readUInt16LE(off);
    const argc = buf.readUInt16LE(off + 2);
    off += 4;
    const args = [];
    for (let j = 0; j < argc; j++) {
      const l = buf.readUInt32LE(off);
      off += 4;
      args.push(buf.subarray(off, off + l));
      assert.equal(buf[off + l], 0, 'every argument ends in NUL');
      off += l + 1;
    }
    ops.push({ op, args });
  }
  assert.equal(off, buf.length, 'no trailing bytes');
  return ops;
}

test('strings, integers and bytes are framed as hull-init expects', () => {
  const plan: PlanOp[] = [
    { op: Op.MOUNT, args: ['src', '/dst', 'tmpfs', 4096, 'mode=755', 1, 1], what: 'm' },
    { op: Op.RLIMIT, args: [7, 1024n, (1n << 64n) - 1n], what: 'r' },
    { op: Op.NSJOIN, args: [], what: 'j' },
    { op: Op.EXEC, args: [nulJoin(['sh', '-c', 'x']), nulJoin([]), 0], what: 'e' },
  ];
  const ops = decode(encodePlan(plan));
  assert.equal(ops.length, 4);
  assert.equal(ops[0]!.op, Op.MOUNT);
  assert.equal(ops[0]!.args[0]!.toString(), 'src');
  assert.equal(ops[0]!.args[3]!.readBigUInt64LE(), 4096n);
  assert.equal(ops[1]!.args[2]!.readBigUInt64LE(), (1n << 64n) - 1n);
  assert.equal(ops[2]!.args.length, 0);
  assert.equal(ops[3]!.args[0]!.toString(), 'sh\0-c\0x\0');
  assert.equal(ops[3]!.args[1]!.length, 0);
});

test('a NUL inside a string is refused rather than truncated', () => {
  assert.throws(() => encodePlan([{ op: Op.CHDIR, args: ['/a\0b'], what: 'c' }]), /NUL/);
  assert.throws(() => nulJoin(['a\0b']), /NUL/);
});
