// The runtime's record of a running container (its init pid and cgroup directories), for the
// engine verbs that look at a live container from outside: top, stats, pause, update.
import { NotFound, StateStore, type Saved } from '../../runtime/state.ts';
import type { ContainerEnv } from './lifecycle.ts';
import { runtimeRoot } from './paths.ts';

export function runtimeStore(env: ContainerEnv): StateStore {
  return new StateStore(runtimeRoot(env.roots));
}

/** The runtime's saved state of the container, or undefined when the runtime has none (not running). */
export function runtimeState(env: ContainerEnv, id: string): Saved | undefined {
  try {
    return runtimeStore(env).load(id);
  } catch (e) {
    if (e instanceof NotFound) return undefined;
    throw e;
  }
}
