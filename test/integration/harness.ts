// Shared set-up for integration tests: real bundles, the real runtime, and leak checks.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, closeSync, cpSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Spec } from '../../src/runtime/spec/types.ts';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const RUNTIME = join(REPO, 'dist/hull-runtime');

let template: string | undefined;

/** A busybox rootfs made once per test process from the host's busybox-static. */
function rootfsTemplate(): string {
  if (template) return template;
  const dir = mkdtempSync(join(tmpdir(), 'hull-rootfs-'));
  const r = spawnSync(join(REPO, 'scripts/make-busybox-bundle.sh'), [dir, RUNTIME], { encoding: 'utf8' });
  assert.equal(r.status, 0, `make-busybox-bundle failed: ${r.stderr}`);
  template = dir;
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Bundle {
  dir: string;
  rootfs: string;
  root: string;
  id: string;
  spec: Spec;
  /** Writes spec to config.json. */
  save(): void;
  /** Runs hull-runtime with --root set to this test's own state root. */
  rt(args: string[], opts?: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number }): SpawnSyncReturns<string>;
  /** Like rt, asserting exit status 0, returning stdout. */
  ok(args: string[], opts?: { input?: string; env?: NodeJS.ProcessEnv }): string;
  cleanup(): void;
}

let counter = 0;
let calls = 0;

/** A fresh bundle whose process runs args; mutate spec and call save() before create. */
export function bundle(args: string[] = ['true'], mutate?: (s: Spec) => void): Bundle {
  const dir = mkdtempSync(join(tmpdir(), 'hull-bundle-'));
  const rootfs = join(dir, 'rootfs');
  cpSync(join(rootfsTemplate(), 'rootfs'), rootfs, { recursive: true, verbatimSymlinks: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777); // cpSync does not keep the sticky bit
  const spec = JSON.parse(readFileSync(join(rootfsTemplate(), 'config.json'), 'utf8')) as Spec;
  spec.process!.terminal = false;
  spec.process!.args = args;
  const root = join(dir, 'state');
  const id = `t${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
  // Each test gets its own cgroup so parallel tests never see each other.
  spec.linux!.cgroupsPath = `/hull-test/${id}`;
  mutate?.(spec);
  const b: Bundle = {
    dir, rootfs, root, id, spec,
    save() {
      writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 2));
    },
    rt(a, o = {}) {
      return runCaptured(dir, RUNTIME, ['--root', root, ...a], {
        input: o.input ?? '', env: o.env ?? process.env, timeout: o.timeout ?? 30_000, extra: [],
      });
    },
    ok(a, o) {
      const r = b.rt(a, o);
      assert.equal(r.status, 0, `hull-runtime ${a.join(' ')} exited ${r.status}: ${r.stderr}`);
      return r.stdout;
    },
    cleanup() {
      for (const cid of existsSync(root) ? readdirSync(root) : []) if (!cid.startsWith('.')) b.rt(['delete', '--force', cid]);
      assertNoLeaks(b);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  b.save();
  return b;
}

/**
 * Runs a command with its output going through files: a detached container keeps its stdio
 * open, and spawnSync would wait for a pipe held by it. extra are fds passed from 3 up.
 */
export function runCaptured(
  dir: string,
  cmd: string,
  args: string[],
  o: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number; extra?: number[]; stdin?: 'pipe' | 'ignore' } = {},
): SpawnSyncReturns<string> {
  const out = join(dir, `.out-${++calls}`);
  const err = join(dir, `.err-${calls}`);
  const fo = openSync(out, 'w');
  const fe = openSync(err, 'w');
  try {
    const r = spawnSync(cmd, args, {
      cwd: dir, encoding: 'utf8', input: o.input ?? '', env: o.env ?? process.env, timeout: o.timeout ?? 30_000,
      // SIGTERM would be forwarded to the container, whose pid 1 may ignore it
      killSignal: 'SIGKILL',
      stdio: [o.stdin ?? 'pipe', fo, fe, ...(o.extra ?? [])],
    });
    return { ...r, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
  } finally {
    closeSync(fo);
    closeSync(fe);
    rmSync(out, { force: true });
    rmSync(err, { force: true });
  }
}

/** After a test: no mount, cgroup, process or state directory of it may remain. */
export function assertNoLeaks(b: Bundle): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(b.dir));
  assert.deepEqual(mounts, [], `mounts leaked from ${b.dir}`);
  for (const ctrl of readdirSync('/sys/fs/cgroup')) {
    const d = join('/sys/fs/cgroup', ctrl, 'hull-test', b.id);
    assert.ok(!existsSync(d), `cgroup leaked: ${d}`);
  }
  // dot-names are the runtime's caches (.seccomp), not containers
  const state = existsSync(b.root) ? readdirSync(b.root).filter((n) => !n.startsWith('.')) : [];
  assert.deepEqual(state, [], 'state directories leaked');
  assert.deepEqual(processesUnder(b.dir), [], 'processes leaked');
}

/** Creates, starts, waits for the container to stop, returns its output via a file in the rootfs. */
export function runToCompletion(b: Bundle): { status: number | null; stdout: string; stderr: string } {
  const r = b.rt(['run', b.id]);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

export function stateOf(b: Bundle, id = b.id): { status: string; pid: number } {
  return JSON.parse(b.ok(['state', id])) as { status: string; pid: number };
}

export { spawn };

/** Runs `sh -c script` as the container's process in the foreground; asserts exit 0, returns stdout. */
export function runScript(b: Bundle, script: string): string {
  b.spec.process!.args = ['sh', '-c', script];
  b.save();
  const r = b.rt(['run', b.id]);
  assert.equal(r.status, 0, `container script exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** Runs hull-runtime run --detach and returns the container init's host pid. */
export function runDetached(b: Bundle, extra: string[] = []): number {
  b.save();
  b.ok(['run', '--detach', ...extra, b.id]);
  return stateOf(b).pid;
}

/** Processes whose cwd or root lies under dir (hull-init and hooks start with cwd = the bundle). */
export function processesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    for (const link of ['cwd', 'root']) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/${link}`);
      } catch {
        continue; // gone, or a kernel thread
      }
      if (target === dir || target.startsWith(dir + '/') || target.startsWith(dir + ' ')) {
        let cmd = '';
        try {
          cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
        } catch {
          // gone
        }
        found.push(`${pid} (${link} ${target}): ${cmd}`);
      }
    }
  }
  return found;
}

/** Like Bundle.rt, with extra fds for the runtime: its fd 3 + i is the caller's fds[i]. */
export function rtWithFds(
  b: Bundle,
  args: string[],
  fds: number[],
  opts: { env?: NodeJS.ProcessEnv; input?: string } = {},
): SpawnSyncReturns<string> {
  return runCaptured(b.dir, RUNTIME, ['--root', b.root, ...args], { ...opts, extra: fds });
}
