// `hull rm [-f] [-v] CONTAINER...`
import { monitorGone, removeContainer, type ContainerEnv } from '../../engine/containers/lifecycle.ts';
import { NoSuchContainer } from '../../engine/containers/store.ts';
import { eachContainer } from './each-container.ts';
import type { Verb } from './verb.ts';

export const rm: Verb = {
  names: ['rm', 'container rm', 'container remove'],
  define(cmd) {
    cmd
      .description('Remove one or more containers')
      .argument('<container...>')
      .option('-f, --force', 'force the removal of a running container (uses SIGKILL)')
      .option('-l, --link', 'remove the specified link')
      .option('-v, --volumes', 'remove anonymous volumes associated with the container');
  },
  async run(ctx, args, opts) {
    const env = ctx.containerEnv();
    const force = Boolean(opts.force);
    // docker's rm -f is quiet about a container that is not there (it may have just gone)
    const refs = force ? args.filter((ref) => !missing(env, ref)) : args;
    await eachContainer(refs, async (ref) => {
      let id: string;
      try {
        id = env.containers.find(ref).Id;
      } catch (e) {
        if (force && e instanceof NoSuchContainer) return;
        throw e;
      }
      await removeContainer(env, id, { force, volumes: Boolean(opts.volumes) });
      // the exit command of a run this ended may still be finishing: rm leaves no process behind
      await monitorGone(id);
    }, true, true);
  },
};

function missing(env: ContainerEnv, ref: string): boolean {
  try {
    env.containers.find(ref);
    return false;
  } catch (e) {
    return e instanceof NoSuchContainer;
  }
}
