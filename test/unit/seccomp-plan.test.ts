// Where the seccomp filter lands in a launch plan (runc's order), and the compiled-program cache.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileCreatePlan, compileExecPlan, type CreatePlanOptions } from '../../src/runtime/plan/compile.ts';
import { Op, SyncTag, type PlanOp } from '../../src/runtime/plan/ops.ts';
import { seccompFilter, type SeccompFilter } from '../../src/runtime/seccomp/cache.ts';
import { listenerState } from '../../src/runtime/seccomp/listener.ts';
import { defaultSpec } from '../../src/runtime/spec/default.ts';
import type { Seccomp, Spec } from '../../src/runtime/spec/types.ts';

const PROGRAM = new Uint8Array(8);
const plain: SeccompFilter = { program: PROGRAM, flags: 4 };
const withListener: SeccompFilter = { program: PROGRAM, flags: 8, listenerPath: '/run/agent.sock' };

function create(nnp: boolean, seccomp: SeccompFilter): PlanOp[] {
  const spec: Spec = defaultSpec({});
  spec.process!.terminal = false;
  spec.process!.noNewPrivileges = nnp;
  const o: CreatePlanOptions = {
    spec, rootfs: '/b/rootfs', fifo: '/run/x/exec.fifo', cgroupProcs: [], extraFds: 0, listenFds: 0, wait: false, seccomp,
    host: { stat: () => 'dir', cgroupDirs: [], cgroupMounts: [] },
  };
  return compileCreatePlan(o);
}

/** The same filter, whatever byte container holds the program. */
function same(a: SeccompFilter, b: SeccompFilter): void {
  assert.deepEqual({ ...a, program: Buffer.from(a.program) }, { ...b, program: Buffer.from(b.program) });
}

const at = (plan: PlanOp[], op: number) => plan.findIndex((p) => p.op === op);

test('without no_new_privs the filter is loaded while CAP_SYS_ADMIN is still there: before the user change', () => {
  const plan = create(false, plain);
  const s = at(plan, Op.SECCOMP);
  assert.ok(s > at(plan, Op.PIVOT_ROOT) && s > at(plan, Op.CAPS_BOUNDING));
  assert.ok(s < at(plan, Op.USER) && s < at(plan, Op.CAPS_SET));
  assert.deepEqual(plan[s]!.args, [PROGRAM, 4]);
  assert.equal(at(plan, Op.SECCOMP_CONNECT), -1);
});

test('with no_new_privs the filter is loaded last, right before exec', () => {
  const plan = create(true, plain);
  assert.equal(at(plan, Op.SECCOMP), plan.length - 2);
  assert.ok(at(plan, Op.NO_NEW_PRIVS) < at(plan, Op.SECCOMP));
  assert.ok(at(plan, Op.WAIT_START) < at(plan, Op.SECCOMP));
});

test('a listener: socket connected before the clone, state fetched at a sync point, filter loaded before READY', () => {
  for (const nnp of [true, false]) {
    const plan = create(nnp, withListener);
    const c = at(plan, Op.SECCOMP_CONNECT);
    assert.ok(c >= 0 && c < at(plan, Op.CLONE));
    assert.deepEqual(plan[c]!.args, ['/run/agent.sock']);
    const s = at(plan, Op.SECCOMP);
    assert.equal(plan[s - 1]!.op, Op.SYNC);
    assert.deepEqual(plan[s - 1]!.args, [SyncTag.SECCOMP_LISTENER]);
    assert.ok(s < at(plan, Op.READY));
  }
});

test('exec plans carry the container filter, with the same placement rules', () => {
  const proc = defaultSpec({}).process!;
  proc.terminal = false;
  const plan = compileExecPlan({ process: proc, pid: 1, namespaces: ['pid'], cgroupProcs: [], extraFds: 0, listenFds: 0, wait: true, seccomp: withListener });
  assert.ok(at(plan, Op.SECCOMP_CONNECT) < at(plan, Op.NSJOIN));
  assert.ok(at(plan, Op.SECCOMP) > at(plan, Op.CLONE) && at(plan, Op.SECCOMP) < at(plan, Op.READY));
  const none = compileExecPlan({ process: proc, pid: 1, namespaces: ['pid'], cgroupProcs: [], extraFds: 0, listenFds: 0, wait: true });
  assert.equal(at(none, Op.SECCOMP), -1);
});

test('the listener receives the runtime-spec container process state', () => {
  const doc = JSON.parse(Buffer.from(listenerState({ defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'meta' }, { ociVersion: '1.3.0', id: 'c', status: 'creating', pid: 42, bundle: '/b' }, 42)).toString());
  assert.deepEqual(doc, { ociVersion: doc.ociVersion, fds: ['seccompFd'], pid: 42, metadata: 'meta', state: { ociVersion: '1.3.0', id: 'c', status: 'creating', pid: 42, bundle: '/b' } });
});

test('the cache: one entry per input, reused, and a torn or altered entry is compiled again', () => {
  const root = mkdtempSync(join(tmpdir(), 'hull-seccomp-cache-'));
  try {
    const profile: Seccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'write', 'nosuch'], action: 'SCMP_ACT_ALLOW' }] };
    const warnings: string[] = [];
    const first = seccompFilter(root, profile, (w) => warnings.push(w));
    const [entry] = readdirSync(join(root, '.seccomp'));
    assert.match(entry!, /^[0-9a-f]{16}$/);
    const file = join(root, '.seccomp', entry!);
    const good = readFileSync(file);
    const again = seccompFilter(root, profile, (w) => warnings.push(w));
    same(again, first);
    assert.equal(warnings.length, 2, 'the warning is given again from the cache');
    for (const broken of [good.subarray(0, good.length - 1), Buffer.concat([good, Buffer.from([0])]), Buffer.from('junk'), Buffer.alloc(0)]) {
      writeFileSync(file, broken);
      same(seccompFilter(root, profile, () => {}), first);
      assert.deepEqual(readFileSync(file), good);
    }
    // a program altered after an input that matches fails the checksum of what follows the input;
    // an altered input fails the comparison
    for (const at of [good.length - 1, 20]) {
      const bad = Buffer.from(good);
      bad[at]! ^= 1;
      writeFileSync(file, bad);
      same(seccompFilter(root, profile, () => {}), first);
      assert.deepEqual(readFileSync(file), good);
    }
    // another profile is another entry
    const other: Seccomp = { ...profile, defaultErrnoRet: 5 };
    const second = seccompFilter(root, other, () => {});
    assert.equal(readdirSync(join(root, '.seccomp')).length, 2);
    // an entry compiled from another input, as a checksum collision would leave it, is not used
    const otherFile = join(root, '.seccomp', readdirSync(join(root, '.seccomp')).find((e) => e !== entry)!);
    writeFileSync(otherFile, good);
    same(seccompFilter(root, other, () => {}), second);
    assert.notDeepEqual(readFileSync(otherFile), good);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
