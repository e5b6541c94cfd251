import { PLAN_MAGIC, PLAN_VERSION, type Arg, type PlanOp } from './ops.ts';

const utf8 = new TextEncoder();

function argBytes(arg: Arg): Uint8Array {
  if (typeof arg === 'string') {
    if (arg.includes('\0')) throw new Error(`plan argument contains a NUL byte: ${JSON.stringify(arg)}`);
    return utf8.encode(arg);
  }
  if (arg instanceof Uint8Array) return arg;
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(arg)));
  return b;
}

/** The wire form hull-init decodes (native/plan.h), framed by its length; one allocation. */
export function encodePlan(ops: readonly PlanOp[]): Buffer {
  const encoded = ops.map(({ op, args }) => ({ op, args: args.map(argBytes) }));
  let size = 4 + 12;
  for (const { args } of encoded) {
    size += 4;
    for (const a of args) size += 4 + a.length + 1;
  }
  const out = Buffer.allocUnsafe(size);
  let off = out.writeUInt32LE(size - 4, 0);
  off = out.writeUInt32LE(PLAN_MAGIC, off);
  off = out.writeUInt32LE(PLAN_VERSION, off);
  off = out.writeUInt32LE(ops.length, off);
  for (const { op, args } of encoded) {
    off = out.writeUInt16LE(op, off);
    off = out.writeUInt16LE(args.length, off);
    for (const a of args) {
      off = out.writeUInt32LE(a.length, off);
      out.set(a, off);
      off += a.length;
      out[off++] = 0;
    }
  }
  return out;
}

/** NUL-separated strings, as OP_EXEC takes argv and envp. */
export function nulJoin(list: readonly string[]): Uint8Array {
  for (const s of list) if (s.includes('\0')) throw new Error(`argument contains a NUL byte: ${JSON.stringify(s)}`);
  return utf8.encode(list.map((s) => s + '\0').join(''));
}
