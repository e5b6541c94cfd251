// `hull run IMAGE [COMMAND] [ARG...]`: create, start, and (without -d) attach until the container exits.
import { cleanupContainer, createContainer, killContainer, removeContainer, startContainer, waitStopped } from '../../engine/containers/lifecycle.ts';
import { defineContainerFlags, parseContainerFlags } from '../container-flags.ts';
import { streamContainer } from '../container-io.ts';
import { CliError, write } from '../context.ts';
import { ensureImage } from '../ensure-image.ts';
import { asCliError } from './container-errors.ts';
import type { Verb } from './verb.ts';

export const run: Verb = {
  names: ['run', 'container run'],
  define(cmd) {
    cmd.description('Create and run a new container from an image').argument('<image>').argument('[command...]');
    defineContainerFlags(cmd);
  },
  async run(ctx, args, opts) {
    const [image, ...command] = args;
    const parsed = parseContainerFlags(opts, image!, command);
    const env = ctx.containerEnv();
    let id: string | undefined;
    try {
      const img = await ensureImage(ctx, image!, parsed.pull, parsed.platform, Boolean(opts.quiet));
      const c = createContainer(env, { ...(parsed.name ? { name: parsed.name } : {}), config: parsed.config, hostConfig: parsed.hostConfig, image: img });
      id = c.Id;
      if (parsed.detach) {
        await startContainer(env, c);
        write(c.Id);
        return;
      }
      const policy = c.HostConfig.RestartPolicy.Name;
      // we clean up ourselves (fast) unless a restart policy needs the shim's exit command to outlive us
      const claim = !policy || policy === 'no';
      const client = (await startContainer(env, c, { attach: { stdin: c.Config.AttachStdin, claimCleanup: claim } }))!;
      const code = await streamContainer(client, {
        tty: c.Config.Tty,
        stdin: c.Config.AttachStdin,
        ...(parsed.detachKeys !== undefined ? { detachKeys: parsed.detachKeys } : {}),
        ...(parsed.sigProxy ? { proxySignal: (sig) => void killContainer(env, env.containers.get(c.Id) ?? c, sig).catch(() => {}) } : {}),
      }).catch(async (e: unknown) => {
        // the shim went away without an exit record: record how the container ended before saying so
        await waitStopped(env, c.Id, 2000).catch(() => {});
        throw e;
      });
      if (code === undefined) {
        client.close();
        return;
      }
      if (claim) {
        await cleanupContainer(env, c.Id);
        client.cleanupDone();
      }
      client.close();
      if (code !== 0) throw new CliError('', code);
    } catch (e) {
      if (id && parsed.hostConfig.AutoRemove) await removeContainer(env, id, { force: true, volumes: true }).catch(() => {});
      throw asCliError(e);
    }
  },
};
