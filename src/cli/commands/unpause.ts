// `hull unpause CONTAINER...`: thaws every process of each paused container.
import { reconcile } from '../../engine/containers/lifecycle.ts';
import { unpauseContainer } from '../../engine/containers/pause.ts';
import { eachContainer } from './each-container.ts';
import type { Verb } from './verb.ts';

export const unpause: Verb = {
  names: ['unpause', 'container unpause'],
  define(cmd) {
    cmd.description('Unpause all processes within one or more containers').argument('<container...>');
  },
  async run(ctx, args) {
    const env = ctx.containerEnv();
    // a container whose monitor died is recorded as stopped first, as ps would show it
    await reconcile(env);
    await eachContainer(args, (ref) => unpauseContainer(env, env.containers.find(ref)), true, true);
  },
};
