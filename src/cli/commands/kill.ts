// `hull kill [-s SIG] CONTAINER...`
import { killContainer } from '../../engine/containers/lifecycle.ts';
import { eachContainer } from './each-container.ts';
import type { Verb } from './verb.ts';

export const kill: Verb = {
  names: ['kill', 'container kill'],
  define(cmd) {
    cmd.description('Kill one or more running containers').argument('<container...>').option('-s, --signal <signal>', 'signal to send to the container', 'KILL');
  },
  async run(ctx, args, opts) {
    const env = ctx.containerEnv();
    await eachContainer(args, (ref) => killContainer(env, env.containers.find(ref), opts.signal as string));
  },
};
