// `hull run IMAGE [COMMAND] [ARG...]`: create, start, and (without -d) attach until the container exits.
import { createContainer, removeContainer, startContainer } from '../../engine/containers/lifecycle.ts';
import { defineContainerFlags, parseContainerFlags } from '../container-flags.ts';
import { write } from '../context.ts';
import { ensureImage } from '../ensure-image.ts';
import { asCliError } from './container-errors.ts';
import { clientError } from './daemon-error.ts';
import { startAttached } from './start-attached.ts';
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
    // checked before anything is made, as docker's CLI does
    if (!parsed.detach && parsed.config.Tty && parsed.config.AttachStdin && !process.stdin.isTTY) throw clientError('the input device is not a TTY');
    const env = ctx.containerEnv();
    let id: string | undefined;
    try {
      const img = await ensureImage(ctx, image!, parsed.pull, parsed.platform, Boolean(opts.quiet));
      const c = createContainer(env, { ...(parsed.name ? { name: parsed.name } : {}), config: parsed.config, hostConfig: parsed.hostConfig, networking: parsed.networking, image: img });
      id = c.Id;
      if (parsed.detach) {
        await startContainer(env, c);
        write(c.Id);
        return;
      }
      await startAttached(env, c, {
        stdin: c.Config.AttachStdin,
        ...(parsed.detachKeys !== undefined ? { detachKeys: parsed.detachKeys } : {}),
        sigProxy: parsed.sigProxy,
      });
    } catch (e) {
      if (id && parsed.hostConfig.AutoRemove) await removeContainer(env, id, { force: true, volumes: true }).catch(() => {});
      throw asCliError(e);
    }
  },
};
