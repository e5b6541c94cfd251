// Health checks (HEALTHCHECK, run --health-*), with docker's rules. hull has no daemon, so the
// container's hull-shim runs `hull container healthcheck --next-delay <id>` on a timer
// (ShimOptions.timer); each run execs the test in the container once, records the result in the
// container's row, and tells the shim when the next run is due. The policy is all here.
import { childProcess } from '../../child-process.ts';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { dirname, join } from 'node:path';
import type { Process, Spec } from '../../runtime/spec/types.ts';
import { processStart, sameProcess } from '../../sys/proc.ts';
import type { ContainerEnv } from './lifecycle.ts';
import type { Container, ContainerState, HealthConfig, HealthLog } from './model.ts';
import { ContainerPaths, runtimeRoot } from './paths.ts';
import { hullBinary } from './self.ts';
import { MAX_TIMER_MS, type ShimOptions } from './shim.ts';

const NS_PER_MS = 1_000_000;

/** Docker's defaults for the fields a HEALTHCHECK leaves at 0, in ns (retries: a count). */
export const HEALTH_DEFAULTS = {
  interval: 30_000 * NS_PER_MS,
  timeout: 30_000 * NS_PER_MS,
  startPeriod: 0,
  startInterval: 5_000 * NS_PER_MS,
  retries: 3,
} as const;

/** Docker keeps the last 5 results and 4 KiB of each one's output. */
const MAX_LOG = 5;
const MAX_OUTPUT = 4096;
/** How long the exec may take to start before the check gives up (docker's 30 s). */
const START_LIMIT_MS = 30_000;
/** After the probe's process exits, how long output still held by its children is waited for. */
const DRAIN_MS = 200;

export type HealthStatus = NonNullable<ContainerState['Health']>['Status'];
type Health = NonNullable<ContainerState['Health']>;

/** Whether the config asks for checks: a test that is not ["NONE"] (as startContainer sets State.Health). */
export function healthEnabled(h: HealthConfig | undefined): boolean {
  return !!h?.Test?.length && h.Test[0] !== 'NONE';
}

/** The command a test runs: ["CMD", args...] as it is, ["CMD-SHELL", cmd] under /bin/sh -c. */
export function healthCommand(h: HealthConfig): string[] {
  const test = h.Test ?? [];
  const kind = test[0];
  if (kind !== 'CMD' && kind !== 'CMD-SHELL') throw new Error(`unknown healthcheck type '${kind}' (expected 'CMD' or 'CMD-SHELL')`);
  const cmd = kind === 'CMD-SHELL' ? ['/bin/sh', '-c', ...test.slice(1)] : test.slice(1);
  if (cmd.length === 0 || cmd[0] === '') throw new Error('healthcheck: the test has no command');
  return cmd;
}

function setting(value: number | undefined, fallback: number): number {
  return value ? value : fallback;
}

/** ns to the shim's whole ms: rounded up, at least 1, at most what the shim takes. */
function toMs(ns: number): number {
  return Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(ns / NS_PER_MS)));
}

/**
 * When the next check is due, in ms (docker's monitor): while the container is "starting" within
 * its start period, the start interval (but no later than the period's end); otherwise the interval.
 */
export function nextCheckMs(h: HealthConfig, startedAtMs: number, status: HealthStatus, nowMs: number): number {
  const interval = setting(h.Interval, HEALTH_DEFAULTS.interval);
  const startPeriod = setting(h.StartPeriod, HEALTH_DEFAULTS.startPeriod);
  const elapsed = (nowMs - startedAtMs) * NS_PER_MS;
  if (elapsed >= startPeriod || status !== 'starting') return toMs(interval);
  return toMs(Math.min(setting(h.StartInterval, HEALTH_DEFAULTS.startInterval), startPeriod - elapsed));
}

/** The shim's timer for a container whose config asks for checks; undefined otherwise. */
export function healthTimer(c: Container, hull: string[]): ShimOptions['timer'] {
  const h = c.Config.Healthcheck;
  if (!h || !healthEnabled(h)) return undefined;
  const now = Date.now();
  return {
    firstMs: nextCheckMs(h, now, 'starting', now),
    everyMs: toMs(setting(h.Interval, HEALTH_DEFAULTS.interval)),
    command: [...hull, 'container', 'healthcheck', '--next-delay', c.Id],
  };
}

export interface ProbeResult {
  exitCode: number;
  output: string;
  /** Wall-clock ns since the epoch. */
  start: bigint;
  end: bigint;
}

/**
 * Docker's handleProbeResult: the result joins the log (the last 5 kept); a success makes the
 * container healthy; a failure adds to the failing streak (unless the container is still starting
 * within its start period), and `retries` failures in a row make it unhealthy.
 */
export function applyResult(health: Health, r: ProbeResult, h: HealthConfig, startedAtMs: number): Health {
  const entry: HealthLog = { Start: rfc3339Nano(r.start), End: rfc3339Nano(r.end), ExitCode: r.exitCode, Output: r.output };
  const next: Health = { ...health, Log: [...(health.Log ?? []), entry].slice(-MAX_LOG) };
  if (r.exitCode === 0) return { ...next, Status: 'healthy', FailingStreak: 0 };
  const startPeriod = setting(h.StartPeriod, HEALTH_DEFAULTS.startPeriod);
  const sinceStart = Number(r.start / BigInt(NS_PER_MS)) - startedAtMs;
  if (health.Status === 'starting' && sinceStart * NS_PER_MS < startPeriod) return next;
  const streak = health.FailingStreak + 1;
  const retries = h.Retries && h.Retries > 0 ? h.Retries : HEALTH_DEFAULTS.retries;
  return { ...next, FailingStreak: streak, ...(streak >= retries ? { Status: 'unhealthy' as const } : {}) };
}

// --- one check

const clockOffset = BigInt(Date.now()) * BigInt(NS_PER_MS) - process.hrtime.bigint();

/** The wall clock in ns (the epoch's ms, then the monotonic clock's ns from there). */
function nowNs(): bigint {
  return clockOffset + process.hrtime.bigint();
}

/** Go's time.RFC3339Nano in UTC: nanoseconds, trailing zeros dropped. */
export function rfc3339Nano(ns: bigint): string {
  const secs = ns / 1_000_000_000n;
  const base = new Date(Number(secs) * 1000).toISOString().slice(0, 19);
  const frac = (ns - secs * 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${frac ? '.' + frac : ''}Z`;
}

/** Go's time.Duration.String(): "1.5s", "500ms", "1m30s", "2h0m0s". */
export function goDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const sign = ns < 0n ? '-' : '';
  let u = ns < 0n ? -ns : ns;
  const decimal = (v: bigint, digits: number) => {
    const unit = 10n ** BigInt(digits);
    const frac = (v % unit).toString().padStart(digits, '0').replace(/0+$/, '');
    return `${v / unit}${frac ? '.' + frac : ''}`;
  };
  if (u < 1_000n) return `${sign}${u}ns`;
  if (u < 1_000_000n) return `${sign}${decimal(u, 3)}µs`;
  if (u < 1_000_000_000n) return `${sign}${decimal(u, 6)}ms`;
  const hours = u / 3_600_000_000_000n;
  u %= 3_600_000_000_000n;
  const minutes = u / 60_000_000_000n;
  u %= 60_000_000_000n;
  return `${sign}${hours ? `${hours}h` : ''}${hours || minutes ? `${minutes}m` : ''}${decimal(u, 9)}s`;
}

/** Keeps the first 4 KiB of what both streams wrote, and whether more came (docker's "..."). */
class LimitedOutput {
  private chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;

  write(data: Buffer): void {
    const keep = Math.min(MAX_OUTPUT - this.size, data.length);
    if (keep > 0) {
      this.chunks.push(Buffer.from(data.subarray(0, keep)));
      this.size += keep;
    }
    if (keep < data.length) this.truncated = true;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8') + (this.truncated ? '...' : '');
  }
}

/** The check's process: the container's own (user, env, cwd, capabilities), without a terminal. */
function probeProcess(c: Container, paths: ContainerPaths, args: string[]): Process {
  const spec = JSON.parse(readFileSync(join(paths.dir, 'config.json'), 'utf8')) as Spec;
  if (!spec.process) throw new Error(`${paths.dir}/config.json has no process`);
  const p: Process = structuredClone(spec.process);
  p.args = args;
  delete p.commandLine;
  delete p.consoleSize;
  // docker gives a check TERM only with a terminal, which a check never has
  if (p.terminal && !(c.Config.Env ?? []).some((e) => e.startsWith('TERM='))) p.env = (p.env ?? []).filter((e) => e !== 'TERM=xterm');
  p.terminal = false;
  return p;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A timer that can be called off, so that a finished check does not wait it out before exiting. */
function timer(ms: number): { done: Promise<void>; cancel(): void } {
  let t: NodeJS.Timeout | undefined;
  // setTimeout takes at most 2^31-1 ms (24.8 days): a longer limit is that long
  const done = new Promise<void>((r) => (t = setTimeout(r, Math.min(ms, 0x7fffffff))));
  return { done, cancel: () => clearTimeout(t) };
}

function readPidFile(path: string): { pid: number; start: string } | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
    return { pid, start: processStart(pid) ?? '' };
  } catch {
    return undefined;
  }
}

/**
 * Runs the test once in the running container through the runtime's exec (the hull-runtime CLI,
 * whose stdout and stderr are then ours to read), with docker's time limits: 30 s to start, then
 * the check's timeout, after which the process is killed.
 */
export async function probe(env: ContainerEnv, c: Container): Promise<ProbeResult> {
  const start = nowNs();
  const result = (exitCode: number, output: string): ProbeResult => ({ exitCode, output, start, end: nowNs() });
  const h = c.Config.Healthcheck ?? {};
  const paths = new ContainerPaths(env.roots, c.Id);
  const procFile = join(paths.runDir, `health-${process.pid}.json`);
  const pidFile = join(paths.runDir, `health-${process.pid}.pid`);
  try {
    // a run dir that is gone means the container is gone: writing fails rather than make it again
    writeFileSync(procFile, JSON.stringify(probeProcess(c, paths, healthCommand(h))), { mode: 0o600 });
  } catch (e) {
    return result(-1, (e as Error).message);
  }
  try {
    const runtime = join(dirname(hullBinary()), 'hull-runtime');
    const child = childProcess().spawn(runtime, ['--root', runtimeRoot(env.roots), 'exec', '--process', procFile, '--pid-file', pidFile, c.Id], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = new LimitedOutput();
    const ended = Promise.all([child.stdout, child.stderr].map((s) => new Promise<void>((r) => {
      s.on('data', (d: Buffer) => output.write(d));
      s.once('close', () => r());
      s.once('error', () => r());
    })));
    let spawnError: Error | undefined;
    let exitCode: number | undefined;
    const exited = new Promise<number>((resolve) => {
      child.once('error', (e) => {
        spawnError = e;
        resolve(-1);
      });
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? osConstants.signals[signal] : 0)));
    }).then((code) => (exitCode = code));
    const finish = async (): Promise<number> => {
      const code = await exited;
      // output a background child of the check still holds is not waited for
      const drain = timer(DRAIN_MS);
      await Promise.race([ended, drain.done]);
      drain.cancel();
      child.stdout.destroy();
      child.stderr.destroy();
      return code;
    };

    // started: the runtime writes the pid file once the process runs
    let started: { pid: number; start: string } | undefined;
    const startBy = Date.now() + START_LIMIT_MS;
    for (let delay = 2; exitCode === undefined && !(started = readPidFile(pidFile)); delay = Math.min(delay * 2, 20)) {
      if (Date.now() > startBy) {
        child.kill('SIGKILL');
        await finish();
        return result(-1, `timed out starting health check for container ${c.Id}`);
      }
      await Promise.race([exited, sleep(delay)]);
    }
    started ??= readPidFile(pidFile);
    if (!started) {
      // the runtime could not start the process: what it said is why
      await finish();
      const why = spawnError ? `cannot run ${runtime}: ${spawnError.message}` : output.text().trim().replace(/^hull-runtime: /, '');
      return result(-1, why || `health check exec failed with status ${exitCode}`);
    }

    const timeout = setting(h.Timeout, HEALTH_DEFAULTS.timeout);
    const limit = timer(toMs(timeout));
    const timedOut = await Promise.race([exited.then(() => false), limit.done.then(() => exitCode === undefined)]);
    limit.cancel();
    if (timedOut) {
      if (sameProcess(started.pid, started.start)) {
        try {
          process.kill(started.pid, 'SIGKILL');
        } catch {
          // it ended meanwhile
        }
      }
      // the runtime reports the kill; one that does not within a while goes too
      const stuck = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await finish();
      clearTimeout(stuck);
      const out = output.text();
      const took = goDuration(BigInt(timeout));
      return result(-1, out ? `Health check exceeded timeout (${took}): ${out}` : `Health check exceeded timeout (${took})`);
    }
    return result(await finish(), output.text());
  } finally {
    rmSync(procFile, { force: true });
    rmSync(pidFile, { force: true });
  }
}

export interface CheckOutcome {
  /** The container after the check, when the result was recorded. */
  container?: Container;
  /** When the next check should come, in ms. */
  nextMs: number;
}

/**
 * One health check of a running container: probe, then record the result if the container is
 * still the run that was checked (a stop or restart meanwhile makes the result stale).
 */
export async function runHealthcheck(env: ContainerEnv, c: Container): Promise<CheckOutcome> {
  const h = c.Config.Healthcheck ?? {};
  const fallback = toMs(setting(h.Interval, HEALTH_DEFAULTS.interval));
  // a start not finished yet (the shim runs before the row says running), a pause, no checks: nothing to do now
  if (!c.State.Running || c.State.Paused || !c.State.Health || !healthEnabled(h)) {
    return { nextMs: c.State.Health ? nextCheckMs(h, Date.parse(c.State.StartedAt), c.State.Health.Status, Date.now()) : fallback };
  }
  const r = await probe(env, c);
  const startedAt = Date.parse(c.State.StartedAt);
  const updated = env.containers.transition(
    c.Id,
    (x) => x.State.Running && !!x.State.Health && x.ShimPid === c.ShimPid && x.ShimStart === c.ShimStart && x.State.StartedAt === c.State.StartedAt,
    (x) => {
      x.State = { ...x.State, Health: applyResult(x.State.Health!, r, h, startedAt) };
    },
  );
  const status = updated?.State.Health?.Status ?? c.State.Health.Status;
  return { ...(updated ? { container: updated } : {}), nextMs: nextCheckMs(h, startedAt, status, Date.now()) };
}
