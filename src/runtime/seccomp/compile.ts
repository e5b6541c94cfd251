// linux.seccomp -> a classic BPF program for seccomp(SECCOMP_SET_MODE_FILTER), with the
// meaning runc gives a profile through libseccomp:
// - the filter holds the native architecture and every listed one; a syscall made through
//   any other ABI gets libseccomp's "bad arch" action, KILL_THREAD;
// - each syscalls[] entry is a rule per name; one whose action equals the default action is
//   dropped; a name no table knows is skipped with a warning;
// - conditions on different arguments are ANDed in one rule; if one argument is named twice,
//   each condition becomes a rule of its own (ORed), as runc does for libseccomp's sake;
// - rules for one syscall: the first unconditional one wins over later ones and replaces
//   earlier conditional ones; conditional ones are tried in order; the same conditions with
//   another action is an error (libseccomp's EEXIST);
// - runc's -ENOSYS stub: unless the default action lets syscalls through, a syscall number
//   above the highest one the profile names gets ENOSYS, so that programs fall back from
//   syscalls newer than the profile instead of failing with its default errno.
// The program dispatches on the syscall number by binary search over ranges that share an
// outcome, so a 350-name allow list costs about ten comparisons per syscall.
import type { Seccomp } from '../spec/types.ts';
import { IPC, SOCKETCALL, SUPPORTED_ARCHES, X32_SYSCALL_BIT, arch, knownSyscall, nativeArch, type Arch, type ArchName } from './arch.ts';
import { Assembler, BPF, DATA, MAX_INSTRUCTIONS, encode, type Target } from './bpf.ts';

/** SECCOMP_RET_* action values. */
export const RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

/** seccomp(2) SECCOMP_FILTER_FLAG_* values. */
export const FILTER_FLAG = {
  TSYNC: 1,
  LOG: 2,
  SPEC_ALLOW: 4,
  NEW_LISTENER: 8,
  WAIT_KILLABLE_RECV: 32,
} as const;

const EPERM = 1;
const ENOSYS = 38;

export const ACTIONS = [
  'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY',
] as const;
export const OPERATORS = [
  'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ',
] as const;
export const FLAGS = [
  'SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
] as const;

type Operator = (typeof OPERATORS)[number];

export interface CompiledSeccomp {
  /** struct sock_filter[], ready for the kernel. */
  program: Uint8Array;
  /** SECCOMP_FILTER_FLAG_* for seccomp(2); NEW_LISTENER when an action is SCMP_ACT_NOTIFY. */
  flags: number;
  /** Unknown syscall names that were skipped, worded for the user. */
  warnings: string[];
}

export interface CompileOptions {
  /** The architecture the filter runs on; by default this process's. */
  native?: ArchName;
  /** Where messages say the profile is. */
  where?: string;
}

const FIELD = 'linux.seccomp';

class SeccompError extends Error {}

function fail(where: string, field: string, problem: string): never {
  throw new SeccompError(`${where}: ${field}: ${problem}`);
}

function action(where: string, field: string, name: unknown, errnoRet: number | undefined, errnoField: string): number {
  if (errnoRet !== undefined) {
    if (name !== 'SCMP_ACT_ERRNO' && name !== 'SCMP_ACT_TRACE') {
      fail(where, errnoField, `only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not ${String(name)}`);
    }
    if (!Number.isInteger(errnoRet) || errnoRet < 0 || errnoRet > 0xffff) {
      fail(where, errnoField, `${errnoRet} does not fit the 16 bits a seccomp action carries`);
    }
  }
  switch (name) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return RET.TRAP;
    case 'SCMP_ACT_ERRNO':
      return (RET.ERRNO | (errnoRet ?? EPERM)) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (RET.TRACE | (errnoRet ?? EPERM)) >>> 0;
    case 'SCMP_ACT_ALLOW':
      return RET.ALLOW;
    case 'SCMP_ACT_LOG':
      return RET.LOG;
    case 'SCMP_ACT_NOTIFY':
      return RET.USER_NOTIF;
    default:
      return fail(where, field, `unknown action ${JSON.stringify(name)}`);
  }
}

const U64 = (1n << 64n) - 1n;

function u64(where: string, field: string, v: unknown): bigint {
  if (typeof v === 'bigint' && v >= 0n && v <= U64) return v;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) {
    // JSON numbers from 2^64 up arrive as exactly 2^64; a value that large cannot be meant
    if (v >= 2 ** 64) fail(where, field, `${v} does not fit in 64 bits`);
    return BigInt(v);
  }
  return fail(where, field, `must be an unsigned 64-bit integer, not ${JSON.stringify(typeof v === 'bigint' ? String(v) : v)}`);
}

interface Cond {
  index: number;
  op: Operator;
  /** For MASKED_EQ: (arg & mask) == datum; otherwise arg <op> datum, mask all ones. */
  mask: bigint;
  datum: bigint;
}

interface Rule {
  conds: Cond[];
  action: number;
}

/** Everything one ABI's filter says about one syscall number. */
interface SyscallRules {
  unconditional?: number;
  rules: (Rule & { field: string; key: string })[];
}

interface Abi {
  arch: Arch;
  rules: Map<number, SyscallRules>;
  /** Highest syscall number the profile names for this ABI, for the -ENOSYS stub; -1 if none. */
  highest: number;
}

function condKey(conds: Cond[]): string {
  return [...conds]
    .sort((a, b) => a.index - b.index)
    .map((c) => `${c.index}:${c.op}:${c.mask}:${c.datum}`)
    .join(',');
}

/** On a 32-bit ABI only the low word of an argument exists. */
function narrow(c: Cond, bits: 32 | 64): Cond {
  if (bits === 64) return c;
  return { ...c, mask: c.mask & 0xffffffffn, datum: c.datum & 0xffffffffn };
}

function addRule(abi: Abi, nr: number, rule: Rule, field: string, where: string, name: string): void {
  let s = abi.rules.get(nr);
  if (!s) abi.rules.set(nr, (s = { rules: [] }));
  if (s.unconditional !== undefined) return;
  if (rule.conds.length === 0) {
    s.unconditional = rule.action;
    s.rules = [];
    return;
  }
  const conds = rule.conds.map((c) => narrow(c, abi.arch.bits));
  const key = condKey(conds);
  const same = s.rules.find((r) => r.key === key);
  if (same) {
    if (same.action === rule.action) return;
    fail(where, field, `the rule for ${name} has the same arguments as ${same.field} but another action (on ${abi.arch.name})`);
  }
  s.rules.push({ conds, action: rule.action, field, key });
}

/** Adds a rule for a name to one ABI; i386's socket and IPC calls also through their multiplexer. */
function addForAbi(abi: Abi, name: string, rules: Rule[], field: string, where: string): void {
  const a = abi.arch;
  const direct = a.syscalls.get(name);
  const mux = a.multiplexed;
  const via = mux && Object.hasOwn(SOCKETCALL, name) ? { nr: mux.socketcall, call: SOCKETCALL[name]! } : mux && Object.hasOwn(IPC, name) ? { nr: mux.ipc, call: IPC[name]! } : undefined;
  if (via) {
    // the call number takes the place of any condition on the first argument, as in libseccomp
    for (const r of rules) {
      const conds: Cond[] = [{ index: 0, op: 'SCMP_CMP_EQ', mask: U64, datum: BigInt(via.call) }, ...r.conds.filter((c) => c.index !== 0)];
      addRule(abi, via.nr, { conds, action: r.action }, field, where, name);
    }
  }
  if (direct !== undefined) {
    for (const r of rules) addRule(abi, direct, r, field, where, name);
  }
}

function isPermissive(name: string): boolean {
  return name === 'SCMP_ACT_ALLOW' || name === 'SCMP_ACT_LOG' || name === 'SCMP_ACT_TRACE';
}

/** Every architecture name libseccomp (and so runc) accepts; hull has tables for some of them. */
const LIBSECCOMP_ARCHES = new Set([
  'SCMP_ARCH_NATIVE', 'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
]);

/** Compiles a validated (or not: every field is checked again) linux.seccomp object. */
export function compileSeccomp(s: Seccomp, o: CompileOptions = {}): CompiledSeccomp {
  const where = o.where ?? 'config.json';
  if (typeof s !== 'object' || s === null) fail(where, FIELD, 'must be an object');
  const defaultAction = action(where, `${FIELD}.defaultAction`, s.defaultAction, s.defaultErrnoRet, `${FIELD}.defaultErrnoRet`);
  if (s.defaultAction === 'SCMP_ACT_NOTIFY') {
    fail(where, `${FIELD}.defaultAction`, 'SCMP_ACT_NOTIFY cannot be the default action: the container could not even hand its listener over');
  }

  const native = o.native ?? nativeArch();
  if (!native) fail(where, `${FIELD}.architectures`, `hull-runtime has no syscall table for this machine (${process.arch})`);
  const archNames: ArchName[] = [native];
  const untabled: string[] = [];
  (s.architectures ?? []).forEach((name, i) => {
    if (name === 'SCMP_ARCH_NATIVE') return;
    if (!(SUPPORTED_ARCHES as readonly string[]).includes(name)) {
      if (!LIBSECCOMP_ARCHES.has(name)) fail(where, `${FIELD}.architectures[${i}]`, `unknown architecture ${JSON.stringify(name)}`);
      // Fails closed: calls from an ABI the filter does not list get the bad-arch action (kill).
      untabled.push(name);
      return;
    }
    if (!archNames.includes(name as ArchName)) archNames.push(name as ArchName);
  });

  let flags = 0;
  if (s.flags === undefined) {
    // runc's default when the profile says nothing about flags
    flags = FILTER_FLAG.SPEC_ALLOW;
  } else {
    s.flags.forEach((f, i) => {
      const bit = (FILTER_FLAG as Record<string, number>)[f.replace(/^SECCOMP_FILTER_FLAG_/, '')];
      if (!f.startsWith('SECCOMP_FILTER_FLAG_') || bit === undefined || f === 'SECCOMP_FILTER_FLAG_NEW_LISTENER') {
        fail(where, `${FIELD}.flags[${i}]`, `unknown flag ${JSON.stringify(f)}`);
      }
      flags |= bit;
    });
  }

  const abis = archNames.map((name): Abi => ({ arch: arch(name), rules: new Map(), highest: -1 }));
  const warnings: string[] = [];
  if (untabled.length > 0) {
    warnings.push(`${where}: ${FIELD}.architectures: hull-runtime has no syscall table for ${untabled.join(', ')}; processes using that ABI will be killed at their first system call`);
  }
  const unknown: string[] = [];
  let notify = false;

  (s.syscalls ?? []).forEach((entry, i) => {
    const field = `${FIELD}.syscalls[${i}]`;
    const act = action(where, `${field}.action`, entry.action, entry.errnoRet, `${field}.errnoRet`);
    if (!Array.isArray(entry.names) || entry.names.length === 0) fail(where, `${field}.names`, 'must list at least one syscall');
    const conds: Cond[] = (entry.args ?? []).map((a, j) => {
      const af = `${field}.args[${j}]`;
      if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) fail(where, `${af}.index`, `${a.index} is not an argument index (0 to 5)`);
      if (!(OPERATORS as readonly string[]).includes(a.op)) fail(where, `${af}.op`, `unknown operator ${JSON.stringify(a.op)}`);
      const value = u64(where, `${af}.value`, a.value);
      const two = a.valueTwo === undefined ? 0n : u64(where, `${af}.valueTwo`, a.valueTwo);
      const op = a.op as Operator;
      return op === 'SCMP_CMP_MASKED_EQ' ? { index: a.index, op, mask: value, datum: two } : { index: a.index, op, mask: U64, datum: value };
    });
    // one argument named twice cannot be one libseccomp rule: runc adds each condition alone
    const indexes = conds.map((c) => c.index);
    const rules: Rule[] = new Set(indexes).size === indexes.length ? [{ conds, action: act }] : conds.map((c) => ({ conds: [c], action: act }));
    if (entry.action === 'SCMP_ACT_NOTIFY') {
      notify = true;
      if (entry.names.includes('sendmsg')) {
        fail(where, `${field}.names`, 'SCMP_ACT_NOTIFY cannot apply to sendmsg: the runtime needs it to hand the listener over once the filter is loaded');
      }
    }
    entry.names.forEach((name, j) => {
      if (typeof name !== 'string' || name === '') fail(where, `${field}.names[${j}]`, 'must be a syscall name');
      for (const abi of abis) {
        const nr = abi.arch.syscalls.get(name);
        const multiplexed = abi.arch.multiplexed && (Object.hasOwn(SOCKETCALL, name) || Object.hasOwn(IPC, name));
        // libseccomp gives i386's multiplexed calls pseudo numbers, which never count here
        if (nr !== undefined && !multiplexed && nr > abi.highest) abi.highest = nr;
      }
      if (act === defaultAction) return;
      if (!knownSyscall(name)) {
        if (!unknown.includes(name)) unknown.push(name);
        return;
      }
      for (const abi of abis) addForAbi(abi, name, rules, field, where);
    });
  });

  if (unknown.length > 0) {
    // as runc does: a name this runtime's tables lack may be a syscall of a newer kernel
    const list = unknown.map((n) => JSON.stringify(n)).join(', ');
    warnings.push(`${where}: ${FIELD}.syscalls: ignoring ${unknown.length} unknown syscall${unknown.length > 1 ? 's' : ''}: ${list}`);
  }
  if (notify) {
    if (!s.listenerPath) fail(where, `${FIELD}.listenerPath`, 'required when an action is SCMP_ACT_NOTIFY');
    flags |= FILTER_FLAG.NEW_LISTENER;
    // one thread at load time: TSYNC has nothing to do, and the kernel refuses it with a listener
    flags &= ~FILTER_FLAG.TSYNC;
  } else {
    // the kernel takes this flag only together with a listener
    flags &= ~FILTER_FLAG.WAIT_KILLABLE_RECV;
  }
  if (s.listenerMetadata && !s.listenerPath) fail(where, `${FIELD}.listenerMetadata`, 'must not be set without listenerPath');

  const enosys = !isPermissive(s.defaultAction) && s.defaultErrnoRet !== ENOSYS;
  const program = generate(abis, defaultAction, enosys);
  if (program.length / 8 > MAX_INSTRUCTIONS) {
    fail(where, FIELD, `the profile compiles to ${program.length / 8} BPF instructions, more than the kernel's limit of ${MAX_INSTRUCTIONS}`);
  }
  return { program, flags, warnings };
}

export function isSeccompError(e: unknown): boolean {
  return e instanceof SeccompError;
}

// ---- code generation -----------------------------------------------------------------------

type Outcome = { ret: number } | { rules: Rule[] };

interface Segment {
  /** First syscall number of the range; it runs up to the next segment's start. */
  start: number;
  outcome: Outcome;
}

const ENOSYS_RET = (RET.ERRNO | ENOSYS) >>> 0;

/** The outcomes of one ABI over [lo, hi]: its rules, the default, and -ENOSYS past its highest. */
function segments(abi: Abi, lo: number, hi: number, def: number, enosys: boolean): Segment[] {
  const out: Segment[] = [];
  const push = (start: number, outcome: Outcome) => {
    const last = out[out.length - 1];
    if (last && 'ret' in last.outcome && 'ret' in outcome && last.outcome.ret === outcome.ret) return;
    out.push({ start, outcome });
  };
  const numbers = [...abi.rules.keys()].filter((n) => n >= lo && n <= hi).sort((a, b) => a - b);
  let cursor = lo;
  const fill = (until: number) => {
    // [cursor, until) has no rules
    if (cursor >= until) return;
    const cut = enosys && abi.highest >= 0 ? Math.max(cursor, abi.highest + 1) : until;
    if (cut > cursor) push(cursor, { ret: def });
    if (cut < until) push(cut, { ret: ENOSYS_RET });
  };
  for (const nr of numbers) {
    fill(nr);
    const s = abi.rules.get(nr)!;
    push(nr, s.unconditional !== undefined ? { ret: s.unconditional } : { rules: s.rules });
    cursor = nr + 1;
  }
  fill(hi + 1);
  return out;
}

/** The segments of one AUDIT_ARCH value over all 32-bit syscall numbers. */
function archSegments(abis: Abi[], def: number, enosys: boolean): Segment[] {
  const x86_64 = abis.find((a) => a.arch.name === 'SCMP_ARCH_X86_64');
  const x32 = abis.find((a) => a.arch.name === 'SCMP_ARCH_X32');
  if (!x86_64 && !x32) return segments(abis[0]!, 0, 0xffffffff, def, enosys);
  const bad = { ret: RET.KILL_THREAD };
  const low: Segment[] = x86_64 ? segments(x86_64, 0, X32_SYSCALL_BIT - 1, def, enosys) : [{ start: 0, outcome: bad }];
  let high: Segment[];
  if (x32) {
    high = segments(x32, X32_SYSCALL_BIT, 0xffffffff, def, enosys);
  } else {
    // x32 calls are a foreign ABI; -1 is how a tracer skips a syscall and passes (libseccomp)
    high = [
      { start: X32_SYSCALL_BIT, outcome: bad },
      { start: 0xffffffff, outcome: { ret: def } },
    ];
  }
  const all = [...low];
  for (const s of high) {
    const last = all[all.length - 1]!;
    if ('ret' in last.outcome && 'ret' in s.outcome && last.outcome.ret === s.outcome.ret) continue;
    all.push(s);
  }
  return all;
}

function word(v: bigint, hi: boolean): number {
  return Number(hi ? (v >> 32n) & 0xffffffffn : v & 0xffffffffn);
}

/** One comparison of one argument; returns where it starts. */
function emitCond(a: Assembler, c: Cond, bits: 32 | 64, pass: Target, fail: Target): Target {
  const lo = DATA.argLo(c.index);
  const hi = DATA.argHi(c.index);
  const [mLo, mHi, dLo, dHi] = [word(c.mask, false), word(c.mask, true), word(c.datum, false), word(c.datum, true)];
  switch (c.op) {
    case 'SCMP_CMP_EQ':
    case 'SCMP_CMP_MASKED_EQ':
    case 'SCMP_CMP_NE': {
      const [t, f] = c.op === 'SCMP_CMP_NE' ? [fail, pass] : [pass, fail];
      let at: Target;
      if ((dLo & ~mLo) !== 0) at = f; // the masked word can never equal the datum
      else {
        a.jump(BPF.JEQ_K, dLo, t, f);
        if (mLo !== 0xffffffff) a.and(mLo);
        at = a.load(lo);
      }
      if (bits === 32 || (mHi === 0 && dHi === 0)) return at;
      if ((dHi & ~mHi) !== 0) return f;
      a.jump(BPF.JEQ_K, dHi, at, f);
      if (mHi !== 0xffffffff) a.and(mHi);
      return a.load(hi);
    }
    default: {
      // LT is not GE, LE is not GT: BPF has only the greater-than comparisons
      const strict = c.op === 'SCMP_CMP_GT' || c.op === 'SCMP_CMP_LE';
      const [t, f] = c.op === 'SCMP_CMP_LT' || c.op === 'SCMP_CMP_LE' ? [fail, pass] : [pass, fail];
      a.jump(strict ? BPF.JGT_K : BPF.JGE_K, dLo, t, f);
      const atLo = a.load(lo);
      if (bits === 32) return atLo;
      // the high words decide unless they are equal
      const eq = a.jump(BPF.JEQ_K, dHi, atLo, f);
      a.jump(BPF.JGT_K, dHi, t, eq);
      return a.load(hi);
    }
  }
}

/** The rules of one syscall, first match wins, then the default; returns where they start. */
function emitRules(a: Assembler, rules: Rule[], bits: 32 | 64, def: number): Target {
  let next: Target = { ret: def };
  for (let i = rules.length - 1; i >= 0; i--) {
    const r = rules[i]!;
    let at: Target = { ret: r.action };
    const conds = [...r.conds].sort((x, y) => x.index - y.index);
    for (let j = conds.length - 1; j >= 0; j--) at = emitCond(a, conds[j]!, bits, at, next);
    next = at;
  }
  return next;
}

/** Binary search over the segments; A holds the syscall number throughout. */
function emitTree(a: Assembler, segs: Segment[], targets: Target[], lo: number, hi: number): Target {
  if (lo === hi) return targets[lo]!;
  const mid = (lo + hi + 1) >> 1;
  const right = emitTree(a, segs, targets, mid, hi);
  const left = emitTree(a, segs, targets, lo, mid - 1);
  return a.jump(BPF.JGE_K, segs[mid]!.start, right, left);
}

function generate(abis: Abi[], def: number, enosys: boolean): Uint8Array {
  const a = new Assembler();
  const byAudit = new Map<number, Abi[]>();
  for (const abi of abis) {
    const list = byAudit.get(abi.arch.audit) ?? [];
    list.push(abi);
    byAudit.set(abi.arch.audit, list);
  }
  const sections = [...byAudit];
  const starts: number[] = [];
  for (let i = sections.length - 1; i >= 0; i--) {
    const group = sections[i]![1];
    const segs = archSegments(group, def, enosys);
    const targets: Target[] = [];
    // rule blocks go last, each written once and reached from the tree
    for (let j = segs.length - 1; j >= 0; j--) {
      const o = segs[j]!.outcome;
      if ('ret' in o) {
        targets[j] = o;
        continue;
      }
      const nr = segs[j]!.start;
      const x32 = nr >= X32_SYSCALL_BIT && group.find((g) => g.arch.name === 'SCMP_ARCH_X32');
      const owner = x32 || group.find((g) => g.arch.name !== 'SCMP_ARCH_X32') || group[0]!;
      targets[j] = emitRules(a, o.rules, owner.arch.bits, def);
    }
    const tree = emitTree(a, segs, targets, 0, segs.length - 1);
    // a single outcome for every number needs no look at the number
    starts[i] = typeof tree === 'number' ? a.load(DATA.NR) : a.ret(tree.ret);
  }
  // the architecture check comes first; anything else is a foreign ABI
  let next: Target = { ret: RET.KILL_THREAD };
  for (let i = sections.length - 1; i >= 0; i--) next = a.jump(BPF.JEQ_K, sections[i]![0], starts[i]!, next);
  a.load(DATA.ARCH);
  return encode(a.instructions());
}
