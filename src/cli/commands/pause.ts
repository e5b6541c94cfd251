// `hull pause CONTAINER...`: freezes every process of each container.
import { reconcile } from '../../engine/containers/lifecycle.ts';
import { pauseContainer } from '../../engine/containers/pause.ts';
import { eachContainer } from './each-container.ts';
import type { Verb } from './verb.ts';

export const pause: Verb = {
  names: ['pause', 'container pause'],
  define(cmd) {
    cmd.description('Pause all processes within one or more containers').argument('<container...>');
  },
  async run(ctx, args) {
    const env = ctx.containerEnv();
    // a container whose monitor died is recorded as stopped first, as ps would show it
    await reconcile(env);
    await eachContainer(args, (ref) => pauseContainer(env, env.containers.find(ref)), true, true);
  },
};
