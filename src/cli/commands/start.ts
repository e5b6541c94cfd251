// `hull start [-a] [-i] CONTAINER...`
import { cleanupContainer, killContainer, startContainer, waitStopped } from '../../engine/containers/lifecycle.ts';
import { streamContainer } from '../container-io.ts';
import { CliError } from '../context.ts';
import { asCliError } from './container-errors.ts';
import { eachContainer } from './each-container.ts';
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
      const policy = c.HostConfig.RestartPolicy.Name;
      const claim = !policy || policy === 'no';
      const stdin = Boolean(opts.interactive) && c.Config.OpenStdin;
      const client = await startContainer(env, c, { attach: { stdin, claimCleanup: claim } });
      if (!client) throw new CliError(`container ${c.Id} is already running`, 1);
      const code = await streamContainer(client, {
        tty: c.Config.Tty,
        stdin,
        ...(opts.detachKeys !== undefined ? { detachKeys: opts.detachKeys as string } : {}),
        proxySignal: (sig) => void killContainer(env, env.containers.get(c.Id) ?? c, sig).catch(() => {}),
      }).catch(async (e: unknown) => {
        // the shim went away without an exit record: record how the container ended before saying so
        await waitStopped(env, c.Id, 2000).catch(() => {});
        throw e;
      });
      if (code === undefined) return client.close();
      if (claim) {
        await cleanupContainer(env, c.Id);
        client.cleanupDone();
      }
      client.close();
      if (code !== 0) throw new CliError('', code);
    } catch (e) {
      throw asCliError(e);
    }
  },
};
