// Pausing a container: the v1 freezer controller, or cgroup.freeze in the cgroup2 tree.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { containerCgroup, type ContainerCgroup } from './controllers.ts';

export interface Freezer {
  version: 1 | 2;
  /** The container's directory in the freezer hierarchy (v1) or the cgroup2 tree (v2). */
  dir: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The freezer that holds the container. The v1 controller wins where it is mounted (runc uses
 * it on hybrid hosts too); otherwise cgroup.freeze, which every non-root cgroup2 directory has
 * since Linux 5.2 whether or not any controller is enabled there.
 */
export function freezerOf(dirs: string[] | ContainerCgroup): Freezer | undefined {
  const cg = Array.isArray(dirs) ? containerCgroup(dirs) : dirs;
  const v1 = cg.v1.get('freezer');
  if (v1 !== undefined) return { version: 1, dir: v1 };
  if (cg.unified !== undefined && existsSync(join(cg.unified, 'cgroup.freeze'))) return { version: 2, dir: cg.unified };
  return undefined;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * Whether the container's cgroup itself was asked to freeze. On v1 a cgroup frozen only
 * because an ancestor is reports FROZEN with self_freezing 0: that is not this container's
 * pause. A freeze still settling (FREEZING, or cgroup.freeze 1 before cgroup.events says so)
 * counts as paused: a pause is in progress and will either finish or be undone.
 */
export function isFrozen(f: Freezer | undefined): boolean {
  if (!f) return false;
  if (f.version === 2) return read(join(f.dir, 'cgroup.freeze')) === '1';
  const state = read(join(f.dir, 'freezer.state'));
  if (state === undefined || state === 'THAWED') return false;
  const self = read(join(f.dir, 'freezer.self_freezing'));
  return self === undefined || self === '1';
}

/** Freezes every process in the cgroup and returns once they all are. */
export async function freeze(f: Freezer): Promise<void> {
  if (f.version === 2) return freezeV2(f.dir);
  return freezeV1(f.dir);
}

export function thaw(f: Freezer): void {
  if (f.version === 2) writeFileSync(join(f.dir, 'cgroup.freeze'), '0');
  else writeFileSync(join(f.dir, 'freezer.state'), 'THAWED');
}

/**
 * The v1 freezer can sit in FREEZING for good: a task that vforked waits for its child, and a
 * task in some uninterruptible sleeps is never caught. Writing FROZEN again retries the tasks
 * not yet frozen, and an occasional thaw lets a stuck one move on; this is runc's approach.
 */
async function freezeV1(dir: string): Promise<void> {
  const file = join(dir, 'freezer.state');
  try {
    for (let i = 0; i < 1000; i++) {
      if (i % 50 === 49) {
        writeFileSync(file, 'THAWED');
        await sleep(10);
      }
      writeFileSync(file, 'FROZEN');
      if (i % 25 === 24) await sleep(1);
      const state = readFileSync(file, 'utf8').trim();
      if (state === 'FROZEN') return;
      if (state !== 'FREEZING') throw new Error(`${file}: unexpected state ${JSON.stringify(state)} while freezing`);
    }
    throw new Error(`${file}: the container's processes did not freeze (still FREEZING after 1000 attempts)`);
  } catch (e) {
    try {
      writeFileSync(file, 'THAWED');
    } catch {
      // the error that got us here says more
    }
    throw e;
  }
}

/** cgroup.freeze asks; cgroup.events says "frozen 1" once every task has stopped. */
async function freezeV2(dir: string, timeoutMs = 10_000): Promise<void> {
  const control = join(dir, 'cgroup.freeze');
  const events = join(dir, 'cgroup.events');
  writeFileSync(control, '1');
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 10)) {
    let text: string;
    try {
      text = readFileSync(events, 'utf8');
    } catch (e) {
      writeFileSync(control, '0');
      throw new Error(`${events}: ${(e as Error).message}`);
    }
    if (/^frozen 1$/m.test(text)) return;
    if (Date.now() > deadline) {
      writeFileSync(control, '0');
      throw new Error(`${events}: the container's processes did not freeze within ${timeoutMs / 1000} s`);
    }
    await sleep(delay);
  }
}
