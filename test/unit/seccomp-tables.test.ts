// The generated syscall tables: what the kernel headers on this machine give, and the same
// numbers libseccomp (scmp_sys_resolver) gives for every name in Docker's default profile.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { IPC, NEWER_THAN_TABLES, SOCKETCALL, arch, type ArchName } from '../../src/runtime/seccomp/arch.ts';
import type { MobyProfile } from '../../src/runtime/seccomp/moby-profile.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('the committed tables are what scripts/gen-syscall-tables.ts makes from this machine', () => {
  const r = spawnSync(process.execPath, [ROOT + 'scripts/gen-syscall-tables.ts', '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test("every name in Docker's profile resolves as libseccomp resolves it, on x86_64, x86, x32 and aarch64", () => {
  const profile = JSON.parse(readFileSync(new URL('../../../shared/specs/moby/seccomp-default.json', import.meta.url), 'utf8')) as MobyProfile;
  const names = [...new Set((profile.syscalls ?? []).flatMap((s) => s.names ?? []))].sort();
  assert.ok(names.length > 350);
  const abis: [ArchName, string][] = [['SCMP_ARCH_X86_64', 'x86_64'], ['SCMP_ARCH_X86', 'x86'], ['SCMP_ARCH_X32', 'x32'], ['SCMP_ARCH_AARCH64', 'aarch64']];
  // one shell runs every lookup: a process per name would take seconds
  const script = abis.map(([, a]) => `for n in "$@"; do printf '%s %s %s\\n' ${a} "$n" "$(scmp_sys_resolver -a ${a} "$n")"; done`).join('\n');
  const out = execFileSync('sh', ['-c', script, 'sh', ...names], { encoding: 'utf8' });
  const theirs = new Map<string, number>();
  for (const line of out.trim().split('\n')) {
    const [a, n, v] = line.split(' ');
    theirs.set(`${a} ${n}`, Number(v));
  }
  let compared = 0;
  for (const [name, a] of abis) {
    const ours = arch(name).syscalls;
    for (const n of names) {
      const v = theirs.get(`${a} ${n}`);
      assert.ok(v !== undefined, `${a} ${n} not resolved`);
      const multiplexed = a === 'x86' && (Object.hasOwn(SOCKETCALL, n) || Object.hasOwn(IPC, n));
      if (v >= 0 && !multiplexed) {
        assert.equal(ours.get(n), v, `${a} ${n}: libseccomp says ${v}, hull ${ours.get(n)}`);
        compared++;
      } else if (multiplexed) {
        // libseccomp answers with a pseudo number and filters socketcall/ipc; hull knows the direct call, if any
        assert.ok(v < 0, `${a} ${n}`);
      } else if (!NEWER_THAN_TABLES.has(n)) {
        assert.equal(ours.get(n), undefined, `${a} ${n}: libseccomp does not know it, hull says ${ours.get(n)}`);
      }
    }
  }
  assert.ok(compared > 1200, `only ${compared} numbers compared`);
});
