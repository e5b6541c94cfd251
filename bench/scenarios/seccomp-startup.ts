// The runtime lifecycle of runtime-cycle with Docker's default seccomp profile in config.json:
// create + start + wait + delete of busybox /bin/true, for hull-runtime with its compiled-
// program cache cleared before every create (cold) and kept (cached), runc and crun.
import { closeSync, existsSync, ftruncateSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandError, describeError, findOnPath, isExecutable, runChecked, versionOf } from '../lib/command.ts';
import { msSince } from '../lib/measure.ts';
import type { Prepared, Scenario, ScenarioContext, Skipped, Subject } from '../lib/scenario.ts';
import { mobyToOci, type MobyProfile } from '../../src/runtime/seccomp/moby-profile.ts';

const PROFILE = join(import.meta.dirname, '../../../shared/specs/moby/seccomp-default.json');
const ID_PREFIX = `hullsecc-${process.pid}-`;

interface Runtime {
  name: string;
  path: string;
  stateRoot: string;
  log: string;
  logFd: number;
  /** Runs before each cycle, untimed. */
  before?: () => void;
}

const runtimes: Runtime[] = [];
const live = new Map<Runtime, Set<string>>();
let counter = 0;

function makeBundle(ctx: ScenarioContext, runc: string): string {
  const bundle = join(ctx.workDir, 'bundle');
  runChecked('sh', [join(ctx.repoRoot, 'scripts/make-busybox-bundle.sh'), bundle, runc], { timeout: 120_000 });
  const path = join(bundle, 'config.json');
  const config = JSON.parse(readFileSync(path, 'utf8'));
  config.process.args = ['/bin/true'];
  config.process.terminal = false;
  config.root.readonly = true;
  const profile = JSON.parse(readFileSync(PROFILE, 'utf8')) as MobyProfile;
  config.linux.seccomp = mobyToOci(profile, { capabilities: config.process.capabilities?.bounding ?? [] });
  writeFileSync(path, JSON.stringify(config, null, '\t') + '\n');
  return bundle;
}

function cycle(rt: Runtime, bundle: string): { total: number; steps: Record<string, number> } {
  rt.before?.();
  const id = `${ID_PREFIX}${rt.name.replace(/\W+/g, '-')}-${++counter}`;
  const r = ['--root', rt.stateRoot];
  const mine = live.get(rt)!;
  const step = (what: string, args: string[], opts = {}) => {
    try {
      return runChecked(rt.path, [...r, ...args], opts);
    } catch (err) {
      const log = what === 'create' ? readFileSync(rt.log, 'utf8').trim() : '';
      throw new CommandError(`${rt.name} ${what} failed: ${describeError(err)}`, log);
    }
  };
  const t0 = process.hrtime.bigint();
  mine.add(id);
  ftruncateSync(rt.logFd, 0);
  step('create', ['create', '--bundle', bundle, id], { stdio: ['ignore', rt.logFd, rt.logFd] });
  const create = msSince(t0);
  const t1 = process.hrtime.bigint();
  step('start', ['start', id]);
  const start = msSince(t1);
  const t2 = process.hrtime.bigint();
  for (let polls = 1; ; polls++) {
    const status = JSON.parse(step('state', ['state', id])).status;
    if (status === 'stopped') break;
    if (polls >= 1000 || msSince(t2) > 10_000) throw new CommandError(`${rt.name}: still ${status} after ${polls} polls`, '');
  }
  const wait = msSince(t2);
  const t3 = process.hrtime.bigint();
  step('delete', ['delete', id]);
  mine.delete(id);
  const del = msSince(t3);
  return { total: msSince(t0), steps: { create, start, wait, delete: del } };
}

function addRuntime(ctx: ScenarioContext, name: string, path: string): Runtime {
  const slug = name.replace(/\W+/g, '-');
  const log = join(ctx.workDir, `${slug}-create.log`);
  const rt: Runtime = { name, path, stateRoot: join(ctx.workDir, `state-${slug}`), log, logFd: openSync(log, 'a') };
  runtimes.push(rt);
  live.set(rt, new Set());
  return rt;
}

const scenario: Scenario = {
  name: 'seccomp-startup',
  description: "runtime-cycle's lifecycle (`create`, `start`, `state` polled until stopped, `delete` of busybox `/bin/true`) " +
    "with Docker's default seccomp profile, converted to an OCI `linux.seccomp`, in config.json. hull-runtime twice: with " +
    'its cache of compiled programs cleared before each cycle (cold: the profile is compiled to BPF in TypeScript) and kept (cached).',
  baseline: 'runc',
  steps: ['create', 'start', 'wait', 'delete'],
  runs: 20,
  quickRuns: 5,

  async setup(ctx): Promise<Prepared> {
    if (process.getuid?.() !== 0) throw new Error('seccomp-startup needs root');
    const runc = findOnPath('runc');
    if (!runc) throw new Error('runc is needed to make the bundle and as the baseline');
    if (!existsSync(PROFILE)) throw new Error(`Docker's profile is not at ${PROFILE}`);
    const bundle = makeBundle(ctx, runc);
    const hull = join(ctx.repoRoot, 'dist/hull-runtime');
    const skipped: Skipped[] = [];
    const notes = [
      'runc compiles the profile with libseccomp at every create; crun 1.8 compiles it with libseccomp too. ' +
        'hull-runtime compiles it in TypeScript and keeps the program under <root>/.seccomp/<sha256>.',
    ];
    const candidates = [
      { name: 'hull-runtime (cold)', path: hull, cold: true },
      { name: 'hull-runtime (cached)', path: hull, cold: false },
      { name: 'runc', path: runc, cold: false },
      { name: 'crun', path: findOnPath('crun'), cold: false },
    ];
    const subjects: Subject[] = [];
    for (const c of candidates) {
      if (!c.path || !isExecutable(c.path)) {
        skipped.push({ name: c.name, reason: 'not installed or not built' });
        continue;
      }
      const rt = addRuntime(ctx, c.name, c.path);
      if (c.cold) rt.before = () => rmSync(join(rt.stateRoot, '.seccomp'), { recursive: true, force: true });
      try {
        cycle(rt, bundle);
      } catch (err) {
        skipped.push({ name: c.name, reason: `failed its trial cycle: ${describeError(err)}` });
        ctx.log(`${c.name} failed its trial cycle: ${describeError(err)}`);
        continue;
      }
      const version = versionOf(c.path);
      subjects.push({ name: c.name, ...(version ? { version } : {}), run: () => cycle(rt, bundle) });
    }
    return { subjects, skipped, notes };
  },

  async teardown(ctx) {
    const problems: string[] = [];
    for (const rt of runtimes) {
      const ids = new Set(live.get(rt));
      try {
        for (const e of readdirSync(rt.stateRoot)) if (e.startsWith(ID_PREFIX)) ids.add(e);
      } catch {
        // never made
      }
      for (const id of ids) {
        try {
          runChecked(rt.path, ['--root', rt.stateRoot, 'delete', '--force', id]);
        } catch (err) {
          if (existsSync(join(rt.stateRoot, id))) problems.push(`${rt.name} delete --force ${id}: ${describeError(err)}`);
        }
      }
      closeSync(rt.logFd);
    }
    const walk = (dir: string, depth: number) => {
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (!e.isDirectory()) continue;
        const p = join(dir, e.name);
        if (depth < 6) walk(p, depth + 1);
        if (e.name.startsWith(ID_PREFIX)) {
          ctx.log(`removing leftover cgroup ${p}`);
          try {
            rmdirSync(p);
          } catch (err) {
            problems.push(`rmdir ${p}: ${describeError(err)}`);
          }
        }
      }
    };
    walk('/sys/fs/cgroup', 0);
    runtimes.length = 0;
    live.clear();
    if (problems.length) throw new Error(`teardown left things behind:\n  ${problems.join('\n  ')}`);
  },
};

export default scenario;
