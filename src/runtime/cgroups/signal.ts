// Signalling every process in a container's cgroup, with none escaping by forking meanwhile.
import { writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { containerCgroup } from './controllers.ts';
import { freeze, freezerOf, isFrozen, thaw } from './freezer.ts';
import { cgroupPids } from './manager.ts';

const SIGKILL = constants.signals.SIGKILL;

/** cgroup.kill (Linux 5.14+) SIGKILLs the whole cgroup in the kernel, forks in flight included. */
function cgroupKill(dir: string): boolean {
  try {
    writeFileSync(join(dir, 'cgroup.kill'), '1');
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new Error(`cannot write ${join(dir, 'cgroup.kill')}: ${(e as Error).message}`);
  }
}

/**
 * Sends sig to every process in the container's cgroup. SIGKILL goes through cgroup.kill
 * when the container has a cgroup2 directory (on a pure v2 host, or the cgroup2 companion on a
 * hybrid one); otherwise the cgroup is frozen while its processes are listed and signalled,
 * so that no process forks one the list misses, and thawed afterwards.
 * A paused container stays paused, except after SIGKILL: a task frozen by the v1 freezer does
 * not die until it is thawed.
 */
export async function signalAll(dirs: string[], sig: number, warn: (msg: string) => void): Promise<void> {
  if (cgroupPids(dirs).length === 0) return;
  const cg = containerCgroup(dirs);
  const f = freezerOf(cg);
  const paused = isFrozen(f);
  if (sig === SIGKILL && cg.unified !== undefined && cgroupKill(cg.unified)) {
    if (paused && f) thaw(f);
    return;
  }
  let froze = false;
  if (f && !paused) {
    try {
      await freeze(f);
      froze = true;
    } catch (e) {
      warn(`${(e as Error).message}; signalling the processes without freezing them`);
    }
  }
  try {
    for (const pid of cgroupPids(dirs)) {
      try {
        process.kill(pid, sig);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
    }
  } finally {
    if (f && (froze || (paused && sig === SIGKILL))) thaw(f);
  }
}
