// `hull kill [-s SIG] CONTAINER...`
import { killContainer } from '../../engine/containers/lifecycle.ts';
import { NoSuchContainer } from '../../engine/containers/store.ts';
import { eachContainer } from './each-container.ts';
import type { Verb } from './verb.ts';

export const kill: Verb = {
  names: ['kill', 'container kill'],
  define(cmd) {
    cmd.description('Kill one or more running containers').argument('<container...>').option('-s, --signal <signal>', 'signal to send to the container', 'KILL');
  },
  async run(ctx, args, opts) {
    const env = ctx.containerEnv();
    await eachContainer(args, async (ref) => {
      try {
        await killContainer(env, env.containers.find(ref), opts.signal as string, ref);
      } catch (e) {
        // docker names the container as it was given: "cannot kill container: web: No such container: web"
        if (e instanceof NoSuchContainer) throw new Error(`cannot kill container: ${ref}: ${e.message}`);
        throw e;
      }
    }, true, true);
  },
};
