// `hull wait CONTAINER...`: blocks until each stops, then prints its exit code.
import { waitStopped } from '../../engine/containers/lifecycle.ts';
import { write } from '../context.ts';
import { eachContainer } from './each-container.ts';
import type { Verb } from './verb.ts';

export const wait: Verb = {
  names: ['wait', 'container wait'],
  define(cmd) {
    cmd.description('Block until one or more containers stop, then print their exit codes').argument('<container...>');
  },
  async run(ctx, args) {
    const env = ctx.containerEnv();
    await eachContainer(args, async (ref) => {
      const c = await waitStopped(env, env.containers.find(ref).Id);
      write(String(c?.State.ExitCode ?? 0));
    }, false);
  },
};
