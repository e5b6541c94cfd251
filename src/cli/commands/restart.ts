// `hull restart [-t N] CONTAINER...`
import { startContainer, stopContainer } from '../../engine/containers/lifecycle.ts';
import { eachContainer } from './each-container.ts';
import { parseTimeout } from './stop.ts';
import type { Verb } from './verb.ts';

export const restart: Verb = {
  names: ['restart', 'container restart'],
  define(cmd) {
    cmd
      .description('Restart one or more containers')
      .argument('<container...>')
      .option('-s, --signal <signal>', 'signal to send to the container')
      .option('-t, --timeout <seconds>', 'seconds to wait before killing the container');
  },
  async run(ctx, args, opts) {
    const env = ctx.containerEnv();
    const timeout = parseTimeout(opts.timeout);
    await eachContainer(args, async (ref) => {
      const c = env.containers.find(ref);
      await stopContainer(env, c, timeout, opts.signal as string | undefined);
      await startContainer(env, env.containers.get(c.Id)!);
    });
  },
};
