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

/** The wire form hull-init decodes (native/plan.h). */
export function encodePlan(ops: readonly PlanOp[]): Buffer {
  const parts: Uint8Array[] = [];
  const header = Buffer.alloc(12);
  header.writeUInt32LE(PLAN_MAGIC, 0);
  header.writeUInt32LE(PLAN_VERSION, 4);
  header.writeUInt32LE(ops.length, 8);
  parts.push(header);
  for (const { op, args } of ops) {
    const h = Buffer.alloc(4);
    h.writeUInt16LE(op, 0);
    h.writeUInt16LE(args.length, 2);
    parts.push(h);
    for (const arg of args) {
      const bytes = argBytes(arg);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(bytes.length);
      parts.push(len, bytes, new Uint8Array(1));
    }
  }
  const body = Buffer.concat(parts);
  const framed = Buffer.alloc(4 + body.length);
  framed.writeUInt32LE(body.length, 0);
  body.copy(framed, 4);
  return framed;
}

/** NUL-separated strings, as OP_EXEC takes argv and envp. */
export function nulJoin(list: readonly string[]): Uint8Array {
  for (const s of list) if (s.includes('\0')) throw new Error(`argument contains a NUL byte: ${JSON.stringify(s)}`);
  return utf8.encode(list.map((s) => s + '\0').join(''));
}
