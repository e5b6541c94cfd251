// `pause` and `unpause`: the container's processes frozen and thawed through the runtime's freezer
// (v1 freezer or cgroup.freeze), recorded as State.Paused; docker's refusals for the states that
// cannot be paused or unpaused.
import { pause as runtimePause, resume as runtimeResume } from '../../runtime/container.ts';
import type { ContainerEnv } from './lifecycle.ts';
import type { Container } from './model.ts';
import { runtimeStore } from './runtime-state.ts';

export async function pauseContainer(env: ContainerEnv, ref: Container): Promise<void> {
  const c = env.containers.get(ref.Id) ?? ref;
  if (!c.State.Running && !c.State.Restarting) throw new Error(`Container ${c.Id} is not running`);
  if (c.State.Paused) throw new Error(`Container ${c.Id} is already paused`);
  if (c.State.Restarting) throw new Error(`Container ${c.Id} is restarting, wait until the container is running`);
  try {
    await runtimePause(runtimeStore(env), c.Id);
  } catch (e) {
    // the process ended between the check and the freeze: the shim's cleanup is on its way
    if (/not running|does not exist|No such/i.test((e as Error).message)) throw new Error(`Container ${c.Id} is not running`);
    throw new Error(`Cannot pause container ${c.Id}: ${(e as Error).message}`);
  }
  const done = env.containers.transition(c.Id, (x) => x.State.Running && x.ShimPid === c.ShimPid, (x) => {
    x.State = { ...x.State, Paused: true };
  });
  if (!done) {
    // it stopped meanwhile: leave nothing frozen behind
    try {
      runtimeResume(runtimeStore(env), c.Id);
    } catch {
      // gone with it
    }
    throw new Error(`Container ${c.Id} is not running`);
  }
}

export async function unpauseContainer(env: ContainerEnv, ref: Container): Promise<void> {
  const c = env.containers.get(ref.Id) ?? ref;
  if (!c.State.Paused) throw new Error(`Container ${c.Id} is not paused`);
  try {
    runtimeResume(runtimeStore(env), c.Id);
  } catch (e) {
    // thawed behind hull's back: the record was stale, and the container is unpaused as asked
    if ((e as Error).message !== 'container not paused') throw new Error(`Cannot unpause container ${c.Id}: ${(e as Error).message}`);
  }
  env.containers.transition(c.Id, (x) => x.State.Paused, (x) => (x.State = { ...x.State, Paused: false }));
}
