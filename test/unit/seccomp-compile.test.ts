// The seccomp compiler, judged by running its programs: a classic-BPF interpreter written
// here (as the kernel runs a filter) is fed seccomp_data and must return what the profile
// means: actions, argument comparisons on 64-bit values, architectures, rule merging.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { arch } from '../../src/runtime/seccomp/arch.ts';
import { decode, type Insn } from '../../src/runtime/seccomp/bpf.ts';
import { FILTER_FLAG, RET, compileSeccomp, type CompileOptions } from '../../src/runtime/seccomp/compile.ts';
import { mobyToOci, type MobyProfile } from '../../src/runtime/seccomp/moby-profile.ts';
import type { Seccomp } from '../../src/runtime/spec/types.ts';

// ---- the interpreter ----------------------------------------------------------------------

interface Data {
  nr: number;
  arch: number;
  args?: bigint[];
}

/** Runs a program as the kernel's seccomp does, checking what its verifier checks. */
function run(program: Insn[], d: Data): number {
  assert.ok(program.length > 0 && program.length <= 4096, `program length ${program.length}`);
  const data = Buffer.alloc(64);
  data.writeUInt32LE(d.nr >>> 0, 0);
  data.writeUInt32LE(d.arch >>> 0, 4);
  (d.args ?? []).forEach((a, i) => data.writeBigUInt64LE(BigInt.asUintN(64, a), 16 + 8 * i));
  let A = 0;
  for (let pc = 0, steps = 0; steps < 10_000; steps++) {
    const ins = program[pc];
    assert.ok(ins, `fell off the program at ${pc}`);
    const jump = (cond: boolean) => {
      const off = cond ? ins.jt : ins.jf;
      pc += 1 + off;
    };
    switch (ins.code) {
      case 0x20: // ld w abs
        assert.ok(ins.k % 4 === 0 && ins.k < 64, `bad load offset ${ins.k}`);
        A = data.readUInt32LE(ins.k);
        pc++;
        break;
      case 0x54: // and k
        A = (A & ins.k) >>> 0;
        pc++;
        break;
      case 0x05: // ja
        pc += 1 + ins.k;
        break;
      case 0x15:
        jump(A === ins.k);
        break;
      case 0x25:
        jump(A > ins.k);
        break;
      case 0x35:
        jump(A >= ins.k);
        break;
      case 0x45:
        jump((A & ins.k) !== 0);
        break;
      case 0x06:
        return ins.k >>> 0;
      default:
        assert.fail(`unknown opcode 0x${ins.code.toString(16)} at ${pc}`);
    }
    assert.ok(pc < program.length, `jump out of the program to ${pc}`);
  }
  return assert.fail('no return within 10000 steps');
}

const X86_64 = arch('SCMP_ARCH_X86_64');
const X86 = arch('SCMP_ARCH_X86');
const X32 = arch('SCMP_ARCH_X32');
const AARCH64 = arch('SCMP_ARCH_AARCH64');
const nr = (a: typeof X86_64, name: string) => {
  const n = a.syscalls.get(name);
  assert.ok(n !== undefined, `${a.name} has no ${name}`);
  return n;
};

function filter(s: Seccomp, o: CompileOptions = { native: 'SCMP_ARCH_X86_64' }) {
  const c = compileSeccomp(s, o);
  const program = decode(c.program);
  return {
    ...c,
    insns: program,
    /** The action for a syscall by name on an ABI (x86_64 unless given). */
    call(name: string, args: bigint[] = [], a = X86_64) {
      return run(program, { nr: nr(a, name), arch: a.audit, args });
    },
    raw(d: Data) {
      return run(program, d);
    },
  };
}

const ERRNO = (e: number) => (RET.ERRNO | e) >>> 0;
const EPERM = 1;
const ENOSYS = 38;

// ---- actions -------------------------------------------------------------------------------

test('every action, as the default and per syscall', () => {
  const cases: [string, number | undefined, number][] = [
    ['SCMP_ACT_ALLOW', undefined, RET.ALLOW],
    ['SCMP_ACT_ERRNO', undefined, ERRNO(EPERM)],
    ['SCMP_ACT_ERRNO', 13, ERRNO(13)],
    ['SCMP_ACT_KILL', undefined, RET.KILL_THREAD],
    ['SCMP_ACT_KILL_THREAD', undefined, RET.KILL_THREAD],
    ['SCMP_ACT_KILL_PROCESS', undefined, RET.KILL_PROCESS],
    ['SCMP_ACT_TRAP', undefined, RET.TRAP],
    ['SCMP_ACT_TRACE', undefined, (RET.TRACE | EPERM) >>> 0],
    ['SCMP_ACT_TRACE', 7, (RET.TRACE | 7) >>> 0],
    ['SCMP_ACT_LOG', undefined, RET.LOG],
  ];
  for (const [action, errno, want] of cases) {
    const asDefault = filter({ defaultAction: action, ...(errno !== undefined ? { defaultErrnoRet: errno } : {}) });
    assert.equal(asDefault.call('getpid'), want, `default ${action}`);
    const rule = filter({ defaultAction: action === 'SCMP_ACT_ALLOW' ? 'SCMP_ACT_LOG' : 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action, ...(errno !== undefined ? { errnoRet: errno } : {}) }] });
    assert.equal(rule.call('getpid'), want, `rule ${action}`);
    assert.notEqual(rule.call('getppid'), want, `rule ${action} applies to its syscall only`);
  }
  const n = filter({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/x', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] });
  assert.equal(n.call('mkdir'), RET.USER_NOTIF);
  assert.equal(n.call('read'), RET.ALLOW);
  assert.ok(n.flags & FILTER_FLAG.NEW_LISTENER);
});

test('flags: runc default SPEC_ALLOW, the listed ones, TSYNC dropped with a listener', () => {
  assert.equal(filter({ defaultAction: 'SCMP_ACT_ALLOW' }).flags, FILTER_FLAG.SPEC_ALLOW);
  assert.equal(filter({ defaultAction: 'SCMP_ACT_ALLOW', flags: [] }).flags, 0);
  assert.equal(filter({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] }).flags, 1 | 2 | 4);
  const l = filter({
    defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'], listenerPath: '/x',
    syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
  });
  assert.equal(l.flags, FILTER_FLAG.NEW_LISTENER | FILTER_FLAG.WAIT_KILLABLE_RECV);
  // without a listener the kernel refuses WAIT_KILLABLE_RECV, so it is not passed
  assert.equal(filter({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }).flags, 0);
});

// ---- architectures ------------------------------------------------------------------------

test('the arch check comes first: a foreign ABI gets KILL_THREAD, as libseccomp gives runc', () => {
  const f = filter({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO' }] });
  assert.equal(f.insns[0]!.code, 0x20);
  assert.equal(f.insns[0]!.k, 4, 'the first load is seccomp_data.arch');
  assert.equal(f.call('getpid'), ERRNO(EPERM));
  assert.equal(f.raw({ nr: nr(X86, 'getpid'), arch: X86.audit }), RET.KILL_THREAD);
  assert.equal(f.raw({ nr: nr(AARCH64, 'getpid'), arch: AARCH64.audit }), RET.KILL_THREAD);
  // x32 calls on the x86_64 AUDIT_ARCH are foreign too, except -1, a tracer's skipped syscall
  assert.equal(f.raw({ nr: nr(X32, 'getpid'), arch: X86_64.audit }), RET.KILL_THREAD);
  assert.equal(f.raw({ nr: 0xffffffff, arch: X86_64.audit }), RET.ALLOW);
});

test('listed architectures use their own syscall numbers; x32 carries the 0x40000000 bit', () => {
  const f = filter({
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [{ names: ['getpid', 'open'], action: 'SCMP_ACT_ERRNO', errnoRet: 5 }],
  });
  for (const a of [X86_64, X86, X32]) {
    assert.equal(f.call('getpid', [], a), ERRNO(5), a.name);
    assert.equal(f.call('open', [], a), ERRNO(5), a.name);
    assert.equal(f.call('getppid', [], a), RET.ALLOW, a.name);
  }
  assert.ok(nr(X32, 'getpid') >= 0x40000000);
  // x86's getpid (20) is x86_64's getuid... numbers differ per ABI and each is judged by its own
  assert.equal(f.raw({ nr: nr(X86, 'getpid'), arch: X86_64.audit }), RET.ALLOW);
  assert.equal(f.raw({ nr: nr(AARCH64, 'getpid'), arch: AARCH64.audit }), RET.KILL_THREAD);
});

test('aarch64 as the native architecture', () => {
  const f = filter({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid', 'open'], action: 'SCMP_ACT_ERRNO' }] }, { native: 'SCMP_ARCH_AARCH64' });
  assert.equal(f.call('getpid', [], AARCH64), ERRNO(EPERM));
  assert.equal(f.call('openat', [], AARCH64), RET.ALLOW);
  assert.equal(f.call('getpid', [], X86_64), RET.KILL_THREAD);
});

test('i386 socket and IPC calls are filtered through socketcall(2) and ipc(2) too', () => {
  const f = filter({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86'], syscalls: [{ names: ['socket', 'shmget'], action: 'SCMP_ACT_ERRNO' }] });
  assert.equal(f.call('socket', [], X86), ERRNO(EPERM));
  assert.equal(f.call('socketcall', [1n], X86), ERRNO(EPERM), 'socketcall(SYS_SOCKET)');
  assert.equal(f.call('socketcall', [2n], X86), RET.ALLOW, 'socketcall(SYS_BIND)');
  assert.equal(f.call('ipc', [23n], X86), ERRNO(EPERM), 'ipc(SHMGET)');
  assert.equal(f.call('ipc', [21n], X86), RET.ALLOW, 'ipc(SHMAT)');
  assert.equal(f.call('socket'), ERRNO(EPERM), 'x86_64 socket');
});

// ---- arguments ----------------------------------------------------------------------------

const U64 = (1n << 64n) - 1n;

/** What an operator means on 64-bit values. */
function holds(op: string, arg: bigint, value: bigint, two: bigint): boolean {
  switch (op) {
    case 'SCMP_CMP_EQ': return arg === value;
    case 'SCMP_CMP_NE': return arg !== value;
    case 'SCMP_CMP_LT': return arg < value;
    case 'SCMP_CMP_LE': return arg <= value;
    case 'SCMP_CMP_GT': return arg > value;
    case 'SCMP_CMP_GE': return arg >= value;
    case 'SCMP_CMP_MASKED_EQ': return (arg & value) === two;
    default: throw new Error(op);
  }
}

const EDGES = [0n, 1n, 7n, 8n, 9n, 0x7fffffffn, 0x80000000n, 0xfffffffen, 0xffffffffn, 1n << 32n, (1n << 32n) + 8n, (1n << 32n) - 1n + (1n << 32n), 0x1234567800000000n, 0x1234567812345678n, U64 - 1n, U64];

test('every operator on 64-bit values, at and around the 32-bit word edges, on x86_64', () => {
  for (const op of ['SCMP_CMP_EQ', 'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_GT', 'SCMP_CMP_GE', 'SCMP_CMP_MASKED_EQ']) {
    for (const value of EDGES) {
      const two = op === 'SCMP_CMP_MASKED_EQ' ? value & 0xff00000000ffn : 0n;
      const f = filter({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 2, value: value as unknown as number, valueTwo: two as unknown as number, op }] }] });
      for (const arg of EDGES) {
        const want = holds(op, arg, value, two) ? ERRNO(EPERM) : RET.ALLOW;
        assert.equal(f.call('personality', [0n, 0n, arg]), want, `${op} arg ${arg.toString(16)} value ${value.toString(16)}`);
      }
    }
  }
});

test('a 32-bit ABI compares only the low word of the argument and of the value', () => {
  const f = filter({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86'], syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 2 ** 32 + 8, op: 'SCMP_CMP_EQ' }] }] });
  assert.equal(f.call('personality', [8n], X86), ERRNO(EPERM));
  assert.equal(f.call('personality', [(5n << 32n) + 8n], X86), ERRNO(EPERM), 'the high word is not there');
  assert.equal(f.call('personality', [8n], X86_64), RET.ALLOW, 'x86_64 sees the whole value');
  assert.equal(f.call('personality', [(1n << 32n) + 8n], X86_64), ERRNO(EPERM));
  const gt = filter({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86'], syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 10, op: 'SCMP_CMP_GT' }] }] });
  assert.equal(gt.call('personality', [11n], X86), ERRNO(EPERM));
  assert.equal(gt.call('personality', [(1n << 32n) + 1n], X86), RET.ALLOW);
});

test('conditions on different arguments are ANDed; one argument named twice makes separate rules (ORed)', () => {
  const and = filter({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 1, value: 9, op: 'SCMP_CMP_EQ' }] }] });
  assert.equal(and.call('kill', [1n, 9n]), ERRNO(EPERM));
  assert.equal(and.call('kill', [1n, 15n]), RET.ALLOW);
  assert.equal(and.call('kill', [2n, 9n]), RET.ALLOW);
  const or = filter({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 0, value: 2, op: 'SCMP_CMP_EQ' }] }] });
  assert.equal(or.call('kill', [1n]), ERRNO(EPERM));
  assert.equal(or.call('kill', [2n]), ERRNO(EPERM));
  assert.equal(or.call('kill', [3n]), RET.ALLOW);
});

test('several rules for one syscall: ORed; unconditional rules as libseccomp merges them', () => {
  const docker = filter({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [0, 8, 0x20000, 0x20008, 0xffffffff].map((v) => ({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: v, op: 'SCMP_CMP_EQ' }] })) });
  for (const v of [0n, 8n, 0x20000n, 0x20008n, 0xffffffffn]) assert.equal(docker.call('personality', [v]), RET.ALLOW);
  assert.equal(docker.call('personality', [9n]), ERRNO(EPERM));
  // an unconditional rule replaces conditional ones before it...
  const later = filter({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [
    { names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
    { names: ['kill'], action: 'SCMP_ACT_TRAP' },
  ] });
  assert.equal(later.call('kill', [1n, 9n]), RET.TRAP);
  // ...and wins over anything after it
  const first = filter({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [
    { names: ['kill'], action: 'SCMP_ACT_TRAP' },
    { names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
  ] });
  assert.equal(first.call('kill', [1n, 9n]), RET.TRAP);
  // a rule whose action is the default one is dropped (runc), so it cannot shadow others
  const dropped = filter({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [
    { names: ['kill'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 0, op: 'SCMP_CMP_EQ' }] },
    { names: ['kill'], action: 'SCMP_ACT_ERRNO' },
  ] });
  assert.equal(dropped.call('kill', [1n, 0n]), RET.ALLOW);
  assert.throws(() => filter({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [
    { names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
    { names: ['kill'], action: 'SCMP_ACT_TRAP', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
  ] }), /syscalls\[1\]: the rule for kill has the same arguments as linux\.seccomp\.syscalls\[0\] but another action/);
});

// ---- the -ENOSYS stub ------------------------------------------------------------------------

test('syscalls newer than the profile get ENOSYS unless the default lets them through (runc)', () => {
  const f = filter({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86'], syscalls: [{ names: ['read', 'clone3'], action: 'SCMP_ACT_ALLOW' }] });
  assert.equal(f.call('write'), ERRNO(EPERM), 'below the highest: the default');
  assert.equal(f.raw({ nr: nr(X86_64, 'clone3') + 1, arch: X86_64.audit }), ERRNO(ENOSYS));
  assert.equal(f.raw({ nr: 1000, arch: X86.audit }), ERRNO(ENOSYS));
  assert.equal(f.call('clone3'), RET.ALLOW);
  assert.equal(filter({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: ENOSYS, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] }).raw({ nr: 1000, arch: X86_64.audit }), ERRNO(ENOSYS));
  assert.equal(filter({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 5, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] }).raw({ nr: 1000, arch: X86_64.audit }), ERRNO(ENOSYS));
  for (const d of ['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG']) {
    assert.equal(filter({ defaultAction: d, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO' }] }).raw({ nr: 1000, arch: X86_64.audit }), d === 'SCMP_ACT_ALLOW' ? RET.ALLOW : RET.LOG);
  }
});

// ---- errors and warnings ------------------------------------------------------------------

test('bad profiles: an error naming the field', () => {
  const bad: [Seccomp, RegExp][] = [
    [{ defaultAction: 'SCMP_ACT_X' }, /: config\.json: linux\.seccomp\.defaultAction: unknown action "SCMP_ACT_X"$/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'B' }] }, /linux\.seccomp\.syscalls\[0\]\.action: unknown action "B"/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86', 'X'] }, /linux\.seccomp\.architectures\[1\]: unknown architecture "X"/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NEW_LISTENER'] }, /linux\.seccomp\.flags\[0\]: unknown flag/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_X' }] }] }, /syscalls\[0\]\.args\[0\]\.op: unknown operator "SCMP_CMP_X"/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] }, /args\[0\]\.index: 6 is not an argument index/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }] }] }, /args\[0\]\.value: must be an unsigned 64-bit integer/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 2 ** 64, op: 'SCMP_CMP_EQ' }] }] }, /does not fit in 64 bits/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_KILL', errnoRet: 1 }] }, /syscalls\[0\]\.errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno/],
    [{ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 70000 }, /defaultErrnoRet: 70000 does not fit/],
    [{ defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/x' }, /defaultAction: SCMP_ACT_NOTIFY cannot be the default/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_NOTIFY' }] }, /listenerPath: required/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/x', syscalls: [{ names: ['sendmsg'], action: 'SCMP_ACT_NOTIFY' }] }, /syscalls\[0\]\.names: SCMP_ACT_NOTIFY cannot apply to sendmsg/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'm' }, /listenerMetadata: must not be set without listenerPath/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ERRNO' }] }, /syscalls\[0\]\.names: must list at least one syscall/],
  ];
  for (const [s, re] of bad) assert.throws(() => filter(s), re, JSON.stringify(s));
});

test('an unknown syscall name is skipped with one warning naming them all', () => {
  const f = filter({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['nosuch', 'getpid', 'nosuch2'], action: 'SCMP_ACT_ERRNO' }] });
  assert.deepEqual(f.warnings, ['config.json: linux.seccomp.syscalls: ignoring 2 unknown syscalls: "nosuch", "nosuch2"']);
  assert.equal(f.call('getpid'), ERRNO(EPERM));
  // a name from another ABI's table is known: no warning
  assert.deepEqual(filter({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['socketcall'], action: 'SCMP_ACT_ERRNO' }] }).warnings, []);
});

test('an architecture libseccomp knows but hull has no table for is left out with a warning: its calls are killed', () => {
  // Docker's profile on an arm64 host lists SCMP_ARCH_ARM beside AARCH64
  const f = filter({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM', 'SCMP_ARCH_NATIVE'], syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO' }] }, { native: 'SCMP_ARCH_AARCH64' });
  assert.deepEqual(f.warnings, ['config.json: linux.seccomp.architectures: hull-runtime has no syscall table for SCMP_ARCH_ARM; processes using that ABI will be killed at their first system call']);
  assert.equal(f.call('getpid', [], AARCH64), ERRNO(EPERM));
  const AUDIT_ARCH_ARM = 40 | 0x40000000;
  assert.equal(f.raw({ nr: 20, arch: AUDIT_ARCH_ARM }), RET.KILL_THREAD);
});

test('long programs: jumps past 255 instructions still land where they should', () => {
  // many conditional rules make the rule blocks far from the dispatch
  const names = [...X86_64.syscalls.keys()].slice(0, 300);
  const f = filter({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: names.map((n, i) => ({ names: [n], action: 'SCMP_ACT_ALLOW', args: [{ index: i % 6, value: i, op: 'SCMP_CMP_EQ' }] })) });
  assert.ok(f.insns.length > 1000, `only ${f.insns.length} instructions`);
  names.forEach((n, i) => {
    const args = [0n, 0n, 0n, 0n, 0n, 0n];
    args[i % 6] = BigInt(i);
    assert.equal(f.call(n, args), RET.ALLOW, n);
    args[i % 6] = BigInt(i + 1);
    assert.equal(f.call(n, args), ERRNO(EPERM), n);
  });
});

// ---- Docker's profile ---------------------------------------------------------------------

const DOCKER_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];

function docker(caps = DOCKER_CAPS, goArch = 'amd64') {
  const profile = JSON.parse(readFileSync(new URL('../../../shared/specs/moby/seccomp-default.json', import.meta.url), 'utf8')) as MobyProfile;
  return mobyToOci(profile, { capabilities: caps, goArch, kernel: '6.18.0' });
}

test("Docker's default profile converts as dockerd decides it, and compiles to what it means", () => {
  const oci = docker();
  assert.deepEqual(oci.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  const names = new Set((oci.syscalls ?? []).flatMap((s) => s.names));
  assert.ok(names.has('arch_prctl') && names.has('modify_ldt'), 'amd64-only rules kept');
  assert.ok(!names.has('s390_runtime_instr') && !names.has('riscv_flush_icache'), 'other arches dropped');
  assert.ok(!names.has('mount') && !names.has('bpf') && !names.has('reboot'), 'capability-gated rules dropped');
  assert.ok(names.has('chroot'), 'CAP_SYS_CHROOT rule kept');
  const f = filter(oci);
  assert.ok(f.insns.length < 1000, `${f.insns.length} instructions`);
  for (const a of [X86_64, X86, X32]) {
    assert.equal(f.call('read', [], a), RET.ALLOW, a.name);
    assert.equal(f.call('mount', [], a), ERRNO(EPERM), a.name);
    assert.equal(f.call('personality', [8n], a), RET.ALLOW, a.name);
    assert.equal(f.call('personality', [9n], a), ERRNO(EPERM), a.name);
  }
  assert.equal(f.call('clone3'), ERRNO(ENOSYS), 'clone3 without CAP_SYS_ADMIN: ENOSYS so libc falls back');
  assert.equal(f.call('clone', [0x11n]), RET.ALLOW, 'a plain fork');
  assert.equal(f.call('clone', [0x10000000n]), ERRNO(EPERM), 'CLONE_NEWUSER');
  assert.equal(f.call('socket', [1n]), RET.ALLOW);
  assert.equal(f.call('socket', [40n]), ERRNO(EPERM), 'AF_VSOCK');
  assert.equal(f.call('socketcall', [1n], X86), RET.ALLOW);
  assert.equal(f.call('chroot'), RET.ALLOW);
  assert.equal(f.raw({ nr: 1023, arch: X86_64.audit }), ERRNO(ENOSYS), 'a syscall newer than the profile');
  assert.equal(f.raw({ nr: 0, arch: AARCH64.audit }), RET.KILL_THREAD);
  // with CAP_SYS_ADMIN Docker allows mount and any clone
  const admin = filter(docker([...DOCKER_CAPS, 'CAP_SYS_ADMIN']));
  assert.equal(admin.call('mount'), RET.ALLOW);
  assert.equal(admin.call('clone', [0x10000000n]), RET.ALLOW);
  assert.equal(admin.call('clone3'), RET.ALLOW);
  // on arm64 the archMap gives AARCH64 and ARM; hull has no ARM table, says so, and kills ARM calls
  const arm64 = filter(docker(DOCKER_CAPS, 'arm64'), { native: 'SCMP_ARCH_AARCH64' });
  assert.match(arm64.warnings.join('\n'), /no syscall table for SCMP_ARCH_ARM/);
  assert.equal(arm64.call('getpid', [], AARCH64), RET.ALLOW);
});
