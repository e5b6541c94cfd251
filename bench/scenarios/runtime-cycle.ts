// One OCI runtime lifecycle of a busybox container running /bin/true:
// create + start + wait (poll `state` until stopped) + delete, one fresh container id per cycle.
import { closeSync, existsSync, ftruncateSync, openSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandError, describeError, findOnPath, isExecutable, runChecked, versionOf } from '../lib/command.ts';
import { msSince } from '../lib/measure.ts';
import type { Prepared, Scenario, ScenarioContext, Skipped, Subject } from '../lib/scenario.ts';

const HYBRID_ERROR = 'cgroups in hybrid mode not supported';
const HUGETLB = '/sys/fs/cgroup/hugetlb';
/** Every container id starts with this, so teardown can find what a crashed run left. */
const ID_PREFIX = `hullbench-${process.pid}-`;

interface Runtime {
  name: string;
  path: string;
  stateRoot: string;
  /** Gets the stdout/stderr of `create`, which the container inherits (a pipe would never close). */
  createLog: string;
  createLogFd: number;
}

/** Containers created and not yet deleted, per runtime, for teardown. */
const live = new Map<Runtime, Set<string>>();
const runtimes: Runtime[] = [];
let counter = 0;

function hugetlbMountedV1(): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((line) => {
    const [, after] = line.split(' - ');
    if (!after) return false;
    const [fstype, , superOptions] = after.split(' ');
    return fstype === 'cgroup' && (superOptions ?? '').split(',').includes('hugetlb');
  });
}

function makeBundle(ctx: ScenarioContext, runc: string): string {
  const bundle = join(ctx.workDir, 'bundle');
  runChecked('sh', [join(ctx.repoRoot, 'scripts/make-busybox-bundle.sh'), bundle, runc], { timeout: 120_000 });
  const configPath = join(bundle, 'config.json');
  const config = JSON.parse(readFileSync(configPath, 'utf8'));
  config.process.args = ['/bin/true'];
  config.process.terminal = false;
  config.root.readonly = true;
  writeFileSync(configPath, JSON.stringify(config, null, '\t') + '\n');
  return bundle;
}

function fail(rt: Runtime, step: string, err: unknown): never {
  throw new CommandError(`${rt.name} ${step} failed: ${describeError(err)}`, '');
}

/** One full cycle; returns per-step ms and the total. Throws with the runtime's stderr on failure. */
function cycle(rt: Runtime, bundle: string): { total: number; steps: Record<string, number> } {
  const id = `${ID_PREFIX}${rt.name}-${++counter}`;
  const r = ['--root', rt.stateRoot];
  const mine = live.get(rt)!;

  const t0 = process.hrtime.bigint();
  mine.add(id);
  ftruncateSync(rt.createLogFd, 0);
  try {
    runChecked(rt.path, [...r, 'create', '--bundle', bundle, id], { stdio: ['ignore', rt.createLogFd, rt.createLogFd] });
  } catch (err) {
    const log = readFileSync(rt.createLog, 'utf8').trim();
    throw new CommandError(`${rt.name} create failed: ${err instanceof Error ? err.message : String(err)}`, log);
  }
  const create = msSince(t0);

  const t1 = process.hrtime.bigint();
  try { runChecked(rt.path, [...r, 'start', id]); } catch (err) { fail(rt, 'start', err); }
  const start = msSince(t1);

  // /bin/true exits at once, so poll `state` back to back with no sleep: the time includes the polls.
  const t2 = process.hrtime.bigint();
  for (let polls = 1; ; polls++) {
    let out = '';
    try { out = runChecked(rt.path, [...r, 'state', id]); } catch (err) { fail(rt, 'state', err); }
    let status: unknown;
    try { status = JSON.parse(out).status; } catch { fail(rt, 'state', new Error(`unparsable output: ${out.slice(0, 200)}`)); }
    if (status === 'stopped') break;
    if (status !== 'created' && status !== 'running') fail(rt, 'state', new Error(`unexpected status ${JSON.stringify(status)}`));
    if (polls >= 1000 || msSince(t2) > 10_000) fail(rt, 'wait', new Error(`still ${String(status)} after ${polls} polls`));
  }
  const wait = msSince(t2);

  const t3 = process.hrtime.bigint();
  try { runChecked(rt.path, [...r, 'delete', id]); } catch (err) { fail(rt, 'delete', err); }
  mine.delete(id);
  const del = msSince(t3);

  return { total: msSince(t0), steps: { create, start, wait, delete: del } };
}

function addRuntime(ctx: ScenarioContext, name: string, path: string): Runtime {
  const stateRoot = join(ctx.workDir, `state-${name}`);
  const createLog = join(ctx.workDir, `${name}-create.log`);
  const rt: Runtime = { name, path, stateRoot, createLog, createLogFd: openSync(createLog, 'a') };
  runtimes.push(rt);
  live.set(rt, new Set());
  return rt;
}

/** Cgroup directories whose name starts with ID_PREFIX, deepest first. */
function leftoverCgroups(): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = join(dir, e.name);
      if (depth < 6) walk(p, depth + 1);
      if (e.name.startsWith(ID_PREFIX)) found.push(p);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return found;
}

const scenario: Scenario = {
  name: 'runtime-cycle',
  description: 'One OCI runtime lifecycle, as containerd or Podman drive it: `create` + `start` of a busybox bundle ' +
    'whose process runs `/bin/true` (no terminal, read-only rootfs, the namespaces `runc spec` makes), then `state` polled ' +
    'back to back until the container is stopped, then `delete`. A fresh container id each cycle, one state root per ' +
    'runtime, each command a separate process, as the callers run them.',
  baseline: 'runc',
  steps: ['create', 'start', 'wait', 'delete'],

  async setup(ctx): Promise<Prepared> {
    if (process.getuid?.() !== 0) throw new Error('runtime-cycle needs root (it creates real containers)');
    const runc = findOnPath('runc');
    if (!runc) throw new Error('runc is needed to make the bundle (`runc spec`) and as the baseline: apt-get install runc');
    ctx.log('making the busybox bundle');
    const bundle = makeBundle(ctx, runc);
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    const namespaces = (config.linux?.namespaces ?? []).map((n: { type: string }) => n.type).join(', ');

    const skipped: Skipped[] = [];
    const notes: string[] = [`Bundle namespaces (from \`runc spec\`): ${namespaces}. No cgroupsPath, so each runtime picks its default.`];
    notes.push(
      'hull-runtime: start, state, kill and delete run in native/front.c, a static C program, from facts the TypeScript ' +
        'runtime recorded at create; create and exec run in Node 24, and about 25 ms of the create step is Node starting. ' +
        "A container's first cgroup move waits one RCU grace period (13-20 ms on this kernel; runc and crun pay it too); " +
        "hull-runtime's front overlaps that wait with Node's start-up (README, design notes).",
    );
    const candidates: { name: string; path: string | undefined; missing: string }[] = [
      { name: 'hull-runtime', path: join(ctx.repoRoot, 'dist/hull-runtime'), missing: 'dist/hull-runtime is not built yet (`npm run build`)' },
      { name: 'runc', path: runc, missing: '' },
      { name: 'crun', path: findOnPath('crun'), missing: 'crun is not on PATH (apt-get install crun)' },
    ];

    const subjects: Subject[] = [];
    for (const c of candidates) {
      if (!c.path || !isExecutable(c.path)) {
        skipped.push({ name: c.name, reason: c.missing });
        ctx.log(`skipping ${c.name}: ${c.missing}`);
        continue;
      }
      const rt = addRuntime(ctx, c.name, c.path);
      // A trial cycle: a runtime that cannot run the bundle at all is reported, not fatal.
      try {
        cycle(rt, bundle);
      } catch (err) {
        const message = describeError(err);
        if (c.name === 'crun' && message.includes(HYBRID_ERROR) && !hugetlbMountedV1()) {
          ctx.log(`crun refuses the hybrid cgroup layout; mounting hugetlb as v1 at ${HUGETLB} (the peers' workaround)`);
          runChecked('mkdir', ['-p', HUGETLB]);
          runChecked('mount', ['-t', 'cgroup', '-o', 'hugetlb', 'cgroup', HUGETLB]);
          notes.push(`crun 1.8 refused the hybrid cgroup layout ("${HYBRID_ERROR}"), so this run mounted hugetlb as a v1 ` +
            `hierarchy at ${HUGETLB} (\`mount -t cgroup -o hugetlb cgroup ${HUGETLB}\`) before measuring. All subjects ran ` +
            'with that layout. The mount stays until reboot: unmounting does not give hugetlb back to cgroup2.');
          try {
            cycle(rt, bundle);
          } catch (err2) {
            skipped.push({ name: c.name, reason: `failed even with the hugetlb workaround: ${describeError(err2)}` });
            continue;
          }
        } else {
          skipped.push({ name: c.name, reason: `failed its trial cycle: ${message}` });
          ctx.log(`${c.name} failed its trial cycle: ${message}`);
          continue;
        }
      }
      const version = versionOf(c.path);
      subjects.push({ name: c.name, ...(version ? { version } : {}), run: () => cycle(rt, bundle) });
    }
    if (hugetlbMountedV1() && !notes.some((n) => n.includes(HUGETLB))) {
      notes.push(`hugetlb was already mounted as a v1 hierarchy (the peers' workaround for crun 1.8 on the hybrid layout), ` +
        'so all subjects ran with cgroup2 holding no controllers.');
    }
    return { subjects, skipped, notes };
  },

  async teardown(ctx) {
    const problems: string[] = [];
    for (const rt of runtimes) {
      const ids = new Set(live.get(rt));
      // Also anything else in this run's state root (e.g. a create that half-succeeded).
      try {
        for (const entry of readdirSync(rt.stateRoot)) if (entry.startsWith(ID_PREFIX)) ids.add(entry);
      } catch { /* state root never made */ }
      for (const id of ids) {
        try {
          runChecked(rt.path, ['--root', rt.stateRoot, 'delete', '--force', id]);
        } catch (err) {
          if (existsSync(join(rt.stateRoot, id))) problems.push(`${rt.name} delete --force ${id}: ${describeError(err)}`);
        }
      }
      closeSync(rt.createLogFd);
    }
    for (const dir of leftoverCgroups()) {
      ctx.log(`removing leftover cgroup ${dir}`);
      try { rmdirSync(dir); } catch (err) { problems.push(`rmdir ${dir}: ${describeError(err)}`); }
    }
    runtimes.length = 0;
    live.clear();
    if (problems.length) throw new Error(`teardown left things behind:\n  ${problems.join('\n  ')}`);
  },
};

export default scenario;
