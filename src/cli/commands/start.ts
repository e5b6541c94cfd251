// `hull start [-a] [-i] CONTAINER...`
import { startContainer } from '../../engine/containers/lifecycle.ts';
import { CliError } from '../context.ts';
import { asCliError } from './container-errors.ts';
import { eachContainer } from './each-container.ts';
import { startAttached } from './start-attached.ts';
import type { Verb } from './verb.ts';

export const start: Verb = {
  names: ['start', 'container start'],
  define(cmd) {
    cmd
      .description('Start one or more stopped containers')
      .argument('<container...>')
      .option('-a, --attach', "attach STDOUT/STDERR and forward signals")
      .option('-i, --interactive', "attach container's STDIN")
      .option('--detach-keys <keys>', 'override the key sequence for detaching a container');
  },
  async run(ctx, args, opts) {
    const env = ctx.containerEnv();
    if (!opts.attach && !opts.interactive) {
      const failed: string[] = [];
      try {
        await eachContainer(args, async (ref) => {
          try {
            await startContainer(env, env.containers.find(ref));
          } catch (e) {
            failed.push(ref);
            throw e;
          }
        });
      } catch (e) {
        // after each failure's own line, docker sums up which ones did not start
        if (failed.length > 0) throw new CliError(`failed to start containers: ${failed.join(', ')}`, 1);
        throw e;
      }
      return;
    }
    if (args.length > 1) throw new CliError('you cannot start and attach multiple containers at once', 1);
    try {
      const c = env.containers.find(args[0]!);
      await startAttached(env, c, {
        stdin: Boolean(opts.interactive) && c.Config.OpenStdin,
        ...(opts.detachKeys !== undefined ? { detachKeys: opts.detachKeys as string } : {}),
        sigProxy: true,
      });
    } catch (e) {
      throw asCliError(e);
    }
  },
};
