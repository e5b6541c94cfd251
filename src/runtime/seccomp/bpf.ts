// Classic BPF as seccomp runs it: the few instructions the compiler uses, and an assembler
// that writes the program back to front. BPF only jumps forward, so when an instruction is
// written everything it can jump to is already placed and every offset is known exactly; a
// conditional jump further than its 8-bit offset reaches goes through an unconditional one.

export const BPF = {
  LD_W_ABS: 0x20,
  ALU_AND_K: 0x54,
  JA: 0x05,
  JEQ_K: 0x15,
  JGT_K: 0x25,
  JGE_K: 0x35,
  JSET_K: 0x45,
  RET_K: 0x06,
} as const;

/** The kernel refuses longer programs (BPF_MAXINSNS). */
export const MAX_INSTRUCTIONS = 4096;

/** Offsets into struct seccomp_data, little endian. */
export const DATA = {
  NR: 0,
  ARCH: 4,
  argLo: (i: number) => 16 + 8 * i,
  argHi: (i: number) => 20 + 8 * i,
} as const;

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** Where a jump goes: a label this assembler returned, or "return this value". */
export type Target = number | { ret: number };

export class Assembler {
  // rev[0] is the last instruction of the program; a label is rev.length just after its
  // instruction was written, so the jump offset from a new instruction is rev.length - label.
  private rev: Insn[] = [];
  private lastRet = new Map<number, number>();

  get size(): number {
    return this.rev.length;
  }

  private put(code: number, jt: number, jf: number, k: number): number {
    this.rev.push({ code, jt, jf, k: k >>> 0 });
    return this.rev.length;
  }

  ret(value: number): number {
    const label = this.put(BPF.RET_K, 0, 0, value);
    this.lastRet.set(value >>> 0, label);
    return label;
  }

  load(offset: number): number {
    return this.put(BPF.LD_W_ABS, 0, 0, offset);
  }

  and(mask: number): number {
    return this.put(BPF.ALU_AND_K, 0, 0, mask);
  }

  /** A label for a target, sharing a return already written if a short jump reaches it. */
  private resolve(t: Target): number {
    if (typeof t === 'number') return t;
    const at = this.lastRet.get(t.ret >>> 0);
    // two trampolines may still come between the jump and its targets
    if (at !== undefined && this.rev.length - at <= 253) return at;
    return this.ret(t.ret);
  }

  ja(t: Target): number {
    const to = this.resolve(t);
    return this.put(BPF.JA, 0, 0, this.rev.length - to);
  }

  /** A conditional jump: to t if the comparison of A with k holds, to f otherwise. */
  jump(code: number, k: number, t: Target, f: Target): number {
    let lt = this.resolve(t);
    let lf = this.resolve(f);
    for (;;) {
      const dt = this.rev.length - lt;
      const df = this.rev.length - lf;
      if (dt <= 255 && df <= 255) return this.put(code, dt, df, k);
      if (df > 255) lf = this.put(BPF.JA, 0, 0, df);
      else lt = this.put(BPF.JA, 0, 0, dt);
    }
  }

  instructions(): Insn[] {
    return [...this.rev].reverse();
  }
}

/** struct sock_filter[] as the kernel reads it: u16 code, u8 jt, u8 jf, u32 k, little endian. */
export function encode(program: readonly Insn[]): Uint8Array {
  const out = Buffer.alloc(program.length * 8);
  program.forEach((p, i) => {
    out.writeUInt16LE(p.code, i * 8);
    out.writeUInt8(p.jt, i * 8 + 2);
    out.writeUInt8(p.jf, i * 8 + 3);
    out.writeUInt32LE(p.k >>> 0, i * 8 + 4);
  });
  return out;
}

export function decode(bytes: Uint8Array): Insn[] {
  if (bytes.length % 8 !== 0) throw new Error(`a BPF program is a multiple of 8 bytes, not ${bytes.length}`);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const out: Insn[] = [];
  for (let i = 0; i < b.length; i += 8) {
    out.push({ code: b.readUInt16LE(i), jt: b.readUInt8(i + 2), jf: b.readUInt8(i + 3), k: b.readUInt32LE(i + 4) });
  }
  return out;
}
