// What a test can say about an engine's containers from the outside: the rows as `hull ps -a`
// lists them, and whether each one's kernel objects (mounts, cgroups, processes, runtime state)
// agree with what its row says. Used by the fault, load, restart and bad-input tests.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { engineProcesses, findProcess, type Engine } from './engine.ts';

/** `hull ps -a` as full ids (this also runs the engine's reconcile, as every listing does). */
export function allIds(e: Engine): string[] {
  const out = e.ok(['ps', '-a', '-q', '--no-trunc']);
  return out === '' ? [] : out.split('\n').sort();
}

export function inspectOne(e: Engine, ref: string): Record<string, any> {
  return JSON.parse(e.ok(['inspect', ref]))[0];
}

/** Like inspectOne, but undefined for a container that is gone (a --rm one may go at any moment). */
export function inspectIfAny(e: Engine, ref: string): Record<string, any> | undefined {
  const r = e.run(['inspect', ref]);
  return r.status === 0 ? JSON.parse(r.stdout)[0] : undefined;
}

/** The engine's mounts under its roots that belong to container `id`. */
export function containerMounts(e: Engine, id: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(id) && (l.includes(e.root) || l.includes(e.runroot)));
}

/** The cgroup directories of container `id`, one per controller on this cgroup-v1 host. */
export function containerCgroups(id: string): string[] {
  const found: string[] = [];
  for (const ctrl of readdirSync('/sys/fs/cgroup')) {
    const d = join('/sys/fs/cgroup', ctrl, 'hull', id);
    if (existsSync(d)) found.push(d);
  }
  return found;
}

function alive(pid: number): boolean {
  if (!pid) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** True when pid is still hull-init after a moment: a container that was created but never started. */
function stillInInit(pid: number): boolean {
  // the exec follows the runtime's start by a moment
  for (const deadline = Date.now() + 2000; Date.now() < deadline;) {
    try {
      if (!readlinkSync(`/proc/${pid}/exe`).endsWith('/hull-init')) return false;
    } catch {
      return false;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  return true;
}

function runtimeState(e: Engine): string[] {
  const dir = join(e.runroot, 'runtime');
  return existsSync(dir) ? readdirSync(dir).filter((n) => !n.startsWith('.')) : [];
}

/**
 * Asserts every container is in a state its kernel objects agree with: running with a live shim
 * and process, or created/exited with nothing mounted, no cgroup, no process and no runtime state.
 * Every engine process is the shim of a running container, and every container directory has a row.
 */
export function assertConsistent(e: Engine, why = ''): void {
  const ids = allIds(e);
  const running = new Set<string>();
  for (const id of ids) {
    const c = inspectOne(e, id);
    const s = c.State;
    const where = `${why}container ${id.slice(0, 12)} (${s.Status})`;
    if (s.Running) {
      assert.equal(s.Status, 'running', where);
      running.add(id);
      assert.ok(findProcess('hull-shim', id), `${where}: says running, but its shim is gone`);
      assert.ok(alive(s.Pid), `${where}: says running, but its process ${s.Pid} is gone`);
      assert.ok(!stillInInit(s.Pid), `${where}: says running, but its process ${s.Pid} never started (still hull-init)`);
      assert.ok(containerCgroups(id).length > 0, `${where}: running without a cgroup`);
    } else {
      assert.ok(['created', 'exited'].includes(s.Status), `${where}: unexpected status`);
      assert.deepEqual(containerMounts(e, id), [], `${where}: mounts left`);
      assert.deepEqual(containerCgroups(id), [], `${where}: cgroups left`);
      assert.ok(!runtimeState(e).includes(id), `${where}: runtime state left`);
      assert.ok(!existsSync(join(e.runroot, 'containers', id)), `${where}: run directory left`);
    }
  }
  const strays = engineProcesses(e).filter((p) => ![...running].some((id) => p.includes(id) && p.includes('hull-shim')));
  assert.deepEqual(strays, [], `${why}processes that belong to no running container`);
  const dirs = existsSync(join(e.root, 'containers')) ? readdirSync(join(e.root, 'containers')) : [];
  assert.deepEqual(dirs.filter((d) => !ids.includes(d)), [], `${why}container directories without a container`);
  assert.deepEqual(runtimeState(e).filter((d) => !running.has(d)), [], `${why}runtime state of containers not running`);
}
