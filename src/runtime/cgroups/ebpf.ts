// A small eBPF assembler: the instructions hull's programs use, jumps by label, and the
// kernel's wire form (struct bpf_insn, 8 bytes little endian). Encodings: linux/bpf_common.h,
// linux/bpf.h and Documentation/bpf/standardization/instruction-set.rst.

/** Instruction classes (the low 3 bits of the opcode). */
export const Class = {
  LD: 0x00,
  LDX: 0x01,
  ST: 0x02,
  STX: 0x03,
  ALU: 0x04,
  JMP: 0x05,
  JMP32: 0x06,
  ALU64: 0x07,
} as const;

/** Memory access sizes, for LDX/STX. */
export const Size = { W: 0x00, H: 0x08, B: 0x10, DW: 0x18 } as const;

export const MODE_MEM = 0x60;

/** Operand source: the immediate (K) or the source register (X). */
export const Src = { K: 0x00, X: 0x08 } as const;

export const Alu = {
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  MOD: 0x90,
  XOR: 0xa0,
  MOV: 0xb0,
  ARSH: 0xc0,
} as const;

export const Jmp = {
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  JNE: 0x50,
  JSGT: 0x60,
  JSGE: 0x70,
  CALL: 0x80,
  EXIT: 0x90,
  JLT: 0xa0,
  JLE: 0xb0,
  JSLT: 0xc0,
  JSLE: 0xd0,
} as const;

export type AluOp = (typeof Alu)[keyof typeof Alu];
export type JmpOp = (typeof Jmp)[keyof typeof Jmp];

/** r0 holds the return value, r1 the context pointer, r10 the read-only frame pointer. */
export const R0 = 0;
export const R1 = 1;
export const R2 = 2;
export const R3 = 3;
export const R4 = 4;
export const R5 = 5;
export const R10 = 10;

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  /** For a jump: the label it goes to; assemble() turns it into off. */
  target?: string;
}

/** A program being written: instructions, and labels naming the position of the next one. */
export type Item = Insn | { label: string };

function insn(code: number, dst: number, src: number, off: number, imm: number): Insn {
  for (const r of [dst, src]) {
    if (!Number.isInteger(r) || r < 0 || r > 10) throw new Error(`eBPF: no register r${r}`);
  }
  if (!Number.isInteger(imm) || imm < -0x80000000 || imm > 0xffffffff) throw new Error(`eBPF: immediate ${imm} does not fit 32 bits`);
  // An immediate is a signed 32-bit field; a u32 above 2^31 is the same bits.
  return { code, dst, src, off, imm: imm | 0 };
}

/** dst = *(size *)(src + off) */
export function ldx(size: number, dst: number, src: number, off: number): Insn {
  return insn(Class.LDX | size | MODE_MEM, dst, src, off, 0);
}

/** 32-bit ALU with an immediate: dst = (u32)(dst op imm), upper half zeroed. */
export function alu32(op: AluOp, dst: number, imm: number): Insn {
  return insn(Class.ALU | op | Src.K, dst, 0, 0, imm);
}

/** 32-bit ALU with a register operand. */
export function alu32Reg(op: AluOp, dst: number, src: number): Insn {
  return insn(Class.ALU | op | Src.X, dst, src, 0, 0);
}

/** 64-bit ALU with an immediate (sign-extended to 64 bits). */
export function alu64(op: AluOp, dst: number, imm: number): Insn {
  return insn(Class.ALU64 | op | Src.K, dst, 0, 0, imm);
}

/** if ((u32)dst op (u32)imm) goto target: compares the low 32 bits, so any u32 works. */
export function jmp32(op: JmpOp, dst: number, imm: number, target: string): Insn {
  return { ...insn(Class.JMP32 | op | Src.K, dst, 0, 0, imm), target };
}

/** if ((u32)dst op (u32)src) goto target */
export function jmp32Reg(op: JmpOp, dst: number, src: number, target: string): Insn {
  return { ...insn(Class.JMP32 | op | Src.X, dst, src, 0, 0), target };
}

export function ja(target: string): Insn {
  return { ...insn(Class.JMP | Jmp.JA, 0, 0, 0, 0), target };
}

export function exit(): Insn {
  return insn(Class.JMP | Jmp.EXIT, 0, 0, 0, 0);
}

export function label(name: string): Item {
  return { label: name };
}

/** Resolves labels to offsets and encodes the program as the kernel takes it. */
export function assemble(items: readonly Item[]): Uint8Array {
  const at = new Map<string, number>();
  const code: Insn[] = [];
  for (const item of items) {
    if ('label' in item) {
      if (at.has(item.label)) throw new Error(`eBPF: label ${item.label} defined twice`);
      at.set(item.label, code.length);
    } else {
      code.push(item);
    }
  }
  // The verifier refuses programs over a million instructions; device programs are far smaller.
  if (code.length === 0 || code.length > 1_000_000) throw new Error(`eBPF: a program of ${code.length} instructions`);
  const out = new Uint8Array(code.length * 8);
  const view = new DataView(out.buffer);
  code.forEach((i, n) => {
    let off = i.off;
    if (i.target !== undefined) {
      const to = at.get(i.target);
      if (to === undefined) throw new Error(`eBPF: jump to undefined label ${i.target}`);
      off = to - (n + 1);
      if (off < 0) throw new Error(`eBPF: backward jump to ${i.target} (loops are not for filters)`);
      if (off > 0x7fff) throw new Error(`eBPF: jump to ${i.target} is too far`);
    }
    view.setUint8(n * 8, i.code);
    view.setUint8(n * 8 + 1, (i.src << 4) | i.dst);
    view.setInt16(n * 8 + 2, off, true);
    view.setInt32(n * 8 + 4, i.imm, true);
  });
  return out;
}
