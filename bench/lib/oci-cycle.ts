// The OCI runtime lifecycle the runtime scenarios time: create + start + wait (poll `state`
// until stopped) + delete of a busybox bundle, one fresh container id per cycle, each command
// a separate process as containerd and Podman run them. Also what teardown must clean up.
import { closeSync, existsSync, ftruncateSync, openSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandError, describeError, runChecked } from './command.ts';
import { msSince } from './measure.ts';
import type { ScenarioContext } from './scenario.ts';

export interface Runtime {
  name: string;
  path: string;
  stateRoot: string;
  /** Gets the stdout/stderr of `create`, which the container inherits (a pipe would never close). */
  createLog: string;
  createLogFd: number;
  /** Runs before each cycle, untimed. */
  before?: () => void;
}

export class OciCycle {
  /** Every container id starts with this, so teardown can find what a crashed run left. */
  readonly idPrefix: string;
  private readonly runtimes: Runtime[] = [];
  /** Containers created and not yet deleted, per runtime. */
  private readonly live = new Map<Runtime, Set<string>>();
  private counter = 0;

  constructor(idPrefix: string) {
    this.idPrefix = idPrefix;
  }

  /** A busybox bundle running /bin/true with a read-only rootfs; edit changes its config.json. */
  makeBundle(ctx: ScenarioContext, runc: string, edit?: (config: any) => void): string {
    const bundle = join(ctx.workDir, 'bundle');
    runChecked('sh', [join(ctx.repoRoot, 'scripts/make-busybox-bundle.sh'), bundle, runc], { timeout: 120_000 });
    const path = join(bundle, 'config.json');
    const config = JSON.parse(readFileSync(path, 'utf8'));
    config.process.args = ['/bin/true'];
    config.process.terminal = false;
    config.root.readonly = true;
    edit?.(config);
    writeFileSync(path, JSON.stringify(config, null, '\t') + '\n');
    return bundle;
  }

  addRuntime(ctx: ScenarioContext, name: string, path: string): Runtime {
    const slug = name.replace(/\W+/g, '-');
    const createLog = join(ctx.workDir, `${slug}-create.log`);
    const rt: Runtime = { name, path, stateRoot: join(ctx.workDir, `state-${slug}`), createLog, createLogFd: openSync(createLog, 'a') };
    this.runtimes.push(rt);
    this.live.set(rt, new Set());
    return rt;
  }

  /** One full cycle; returns per-step ms and the total. Throws with the runtime's stderr on failure. */
  cycle(rt: Runtime, bundle: string): { total: number; steps: Record<string, number> } {
    rt.before?.();
    const id = `${this.idPrefix}${rt.name.replace(/\W+/g, '-')}-${++this.counter}`;
    const r = ['--root', rt.stateRoot];
    const mine = this.live.get(rt)!;
    const fail = (step: string, err: unknown): never => {
      throw new CommandError(`${rt.name} ${step} failed: ${describeError(err)}`, '');
    };

    const t0 = process.hrtime.bigint();
    mine.add(id);
    ftruncateSync(rt.createLogFd, 0);
    try {
      runChecked(rt.path, [...r, 'create', '--bundle', bundle, id], { stdio: ['ignore', rt.createLogFd, rt.createLogFd] });
    } catch (err) {
      throw new CommandError(`${rt.name} create failed: ${describeError(err)}`, readFileSync(rt.createLog, 'utf8').trim());
    }
    const create = msSince(t0);

    const t1 = process.hrtime.bigint();
    try { runChecked(rt.path, [...r, 'start', id]); } catch (err) { fail('start', err); }
    const start = msSince(t1);

    // /bin/true exits at once, so poll `state` back to back with no sleep: the time includes the polls.
    const t2 = process.hrtime.bigint();
    for (let polls = 1; ; polls++) {
      let out = '';
      try { out = runChecked(rt.path, [...r, 'state', id]); } catch (err) { fail('state', err); }
      let status: unknown;
      try { status = JSON.parse(out).status; } catch { fail('state', new Error(`unparsable output: ${out.slice(0, 200)}`)); }
      if (status === 'stopped') break;
      if (status !== 'created' && status !== 'running') fail('state', new Error(`unexpected status ${JSON.stringify(status)}`));
      if (polls >= 1000 || msSince(t2) > 10_000) fail('wait', new Error(`still ${String(status)} after ${polls} polls`));
    }
    const wait = msSince(t2);

    const t3 = process.hrtime.bigint();
    try { runChecked(rt.path, [...r, 'delete', id]); } catch (err) { fail('delete', err); }
    mine.delete(id);
    const del = msSince(t3);

    return { total: msSince(t0), steps: { create, start, wait, delete: del } };
  }

  /** Force-deletes every container of this run (also half-made ones) and their leftover cgroups. */
  teardown(ctx: ScenarioContext): void {
    const problems: string[] = [];
    for (const rt of this.runtimes) {
      const ids = new Set(this.live.get(rt));
      try {
        for (const entry of readdirSync(rt.stateRoot)) if (entry.startsWith(this.idPrefix)) ids.add(entry);
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
    for (const dir of this.leftoverCgroups()) {
      ctx.log(`removing leftover cgroup ${dir}`);
      try { rmdirSync(dir); } catch (err) { problems.push(`rmdir ${dir}: ${describeError(err)}`); }
    }
    this.runtimes.length = 0;
    this.live.clear();
    if (problems.length) throw new Error(`teardown left things behind:\n  ${problems.join('\n  ')}`);
  }

  /** Cgroup directories whose name starts with the id prefix, deepest first. */
  private leftoverCgroups(): string[] {
    const found: string[] = [];
    const walk = (dir: string, depth: number) => {
      let entries;
      try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
      for (const e of entries) {
        if (!e.isDirectory()) continue;
        const p = join(dir, e.name);
        if (depth < 6) walk(p, depth + 1);
        if (e.name.startsWith(this.idPrefix)) found.push(p);
      }
    };
    walk('/sys/fs/cgroup', 0);
    return found;
  }
}
