// hull's default seccomp profile against Docker's (../shared/specs/moby/seccomp-default.json): for
// each container context, both resolve to OCI linux.seccomp objects that must be equal in effect:
// the same default action and errno, the same architectures, and the same set of
// (syscall, action, errno, arguments) rules, in any order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CAPABILITIES } from '../../src/runtime/capabilities.ts';
import { mobyToOci, type MobyProfile } from '../../src/runtime/seccomp/moby-profile.ts';
import { compileSeccomp } from '../../src/runtime/seccomp/compile.ts';
import type { Seccomp } from '../../src/runtime/spec/types.ts';
import { DEFAULT_CAPABILITIES } from '../../src/engine/containers/defaults.ts';
import { alwaysAllowed, defaultSeccomp } from '../../src/engine/containers/seccomp-default.ts';

const MOBY = JSON.parse(readFileSync(new URL('../../../shared/specs/moby/seccomp-default.json', import.meta.url), 'utf8')) as MobyProfile;

/** One rule per syscall name, written so that equal rules give equal strings. */
function effect(s: Seccomp): { head: string; rules: Set<string> } {
  const head = JSON.stringify({ defaultAction: s.defaultAction, errno: s.defaultErrnoRet ?? null, arches: s.architectures ?? [] });
  const rules = new Set<string>();
  for (const r of s.syscalls ?? []) {
    const args = (r.args ?? []).map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op }));
    args.sort((x, y) => x.index - y.index || x.op.localeCompare(y.op) || x.value - y.value);
    const errno = r.action === 'SCMP_ACT_ERRNO' || r.action === 'SCMP_ACT_TRACE' ? r.errnoRet ?? null : null;
    for (const name of r.names) rules.add(JSON.stringify([name, r.action, errno, args]));
  }
  return { head, rules };
}

function assertSameEffect(ours: Seccomp, docker: Seccomp, what: string): void {
  const a = effect(ours);
  const b = effect(docker);
  assert.equal(a.head, b.head, `${what}: default action, errno and architectures`);
  const missing = [...b.rules].filter((r) => !a.rules.has(r));
  const extra = [...a.rules].filter((r) => !b.rules.has(r));
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, `${what}: rules hull lacks / has beyond docker's`);
}

/** Capabilities a privileged container gets: all the kernel knows. */
const ALL_CAPS = [...CAPABILITIES];

const CAP_SETS: Record<string, readonly string[]> = {
  'default capabilities': DEFAULT_CAPABILITIES,
  'default + CAP_SYS_ADMIN': [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'],
  'default + CAP_SYS_PTRACE': [...DEFAULT_CAPABILITIES, 'CAP_SYS_PTRACE'],
  'default - CAP_SYS_CHROOT + CAP_SYS_TIME + CAP_SYS_NICE': [...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_SYS_CHROOT'), 'CAP_SYS_TIME', 'CAP_SYS_NICE'],
  'no capabilities': [],
  'privileged (all capabilities)': ALL_CAPS,
};

const ARCHES = ['amd64', 'arm64', 's390x', 'ppc64le', 'riscv64'];
const KERNELS = ['4.4', '4.8', '5.10', '6.18'];

for (const [capName, caps] of Object.entries(CAP_SETS)) {
  test(`default seccomp profile equals docker's in effect: ${capName}`, () => {
    for (const arch of ARCHES) {
      for (const kernel of KERNELS) {
        const ours = defaultSeccomp({ capabilities: caps, arch, kernel });
        const docker = mobyToOci(MOBY, { capabilities: [...caps], goArch: arch, kernel });
        assertSameEffect(ours, docker, `${capName}, ${arch}, kernel ${kernel}`);
      }
    }
  });
}

test('the comparison itself notices a difference', () => {
  const ours = defaultSeccomp({ capabilities: DEFAULT_CAPABILITIES, arch: 'amd64', kernel: '6.18' });
  const docker = mobyToOci(MOBY, { capabilities: [...DEFAULT_CAPABILITIES], goArch: 'amd64', kernel: '6.18' });
  const fewer = structuredClone(ours);
  fewer.syscalls![0]!.names = fewer.syscalls![0]!.names.filter((n) => n !== 'read');
  assert.throws(() => assertSameEffect(fewer, docker, 'x'), /rules hull lacks/);
  const otherErrno = { ...ours, defaultErrnoRet: 38 };
  assert.throws(() => assertSameEffect(otherErrno, docker, 'x'), /default action/);
  const otherArgs = structuredClone(ours);
  const socket = otherArgs.syscalls!.find((r) => r.names[0] === 'socket')!;
  socket.args![0]!.value += 1;
  assert.throws(() => assertSameEffect(otherArgs, docker, 'x'), /rules hull lacks/);
});

test('the resolved profile is what the kernel gets: arches, ptrace by kernel, clone and clone3 by CAP_SYS_ADMIN', () => {
  const amd = defaultSeccomp({ capabilities: DEFAULT_CAPABILITIES, arch: 'amd64', kernel: '6.18.44' });
  assert.deepEqual(amd.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.deepEqual(defaultSeccomp({ capabilities: [], arch: 'arm64', kernel: '5.10' }).architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  const allowed = (s: Seccomp, name: string) => (s.syscalls ?? []).some((r) => r.action === 'SCMP_ACT_ALLOW' && r.names.includes(name) && !r.args);
  assert.ok(allowed(amd, 'ptrace'), 'ptrace from 4.8 on');
  assert.ok(!allowed(defaultSeccomp({ capabilities: DEFAULT_CAPABILITIES, arch: 'amd64', kernel: '4.4' }), 'ptrace'), 'no ptrace before 4.8');
  assert.ok(!allowed(amd, 'mount') && !allowed(amd, 'clone'), 'no mount, no unfiltered clone without CAP_SYS_ADMIN');
  assert.ok(amd.syscalls!.some((r) => r.names.includes('clone3') && r.action === 'SCMP_ACT_ERRNO' && r.errnoRet === 38));
  const admin = defaultSeccomp({ capabilities: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'], arch: 'amd64', kernel: '6.18' });
  assert.ok(allowed(admin, 'mount') && allowed(admin, 'clone') && allowed(admin, 'clone3'));
  assert.ok(!admin.syscalls!.some((r) => r.action === 'SCMP_ACT_ERRNO'));
  assert.throws(() => defaultSeccomp({ capabilities: [], kernel: 'linux' }), /cannot read the kernel version "linux"/);
});

test('every always-allowed name is listed once, and the profile compiles to a BPF filter', () => {
  const names = alwaysAllowed();
  assert.equal(new Set(names).size, names.length, `duplicates: ${names.filter((n, i) => names.indexOf(n) !== i).join(', ')}`);
  const compiled = compileSeccomp(defaultSeccomp({ capabilities: DEFAULT_CAPABILITIES, arch: 'amd64', kernel: '6.18' }));
  assert.ok(compiled.program.length > 0);
});
