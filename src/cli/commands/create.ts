// `hull create IMAGE [COMMAND] [ARG...]`: a container ready to start, its ID printed.
import { createContainer } from '../../engine/containers/lifecycle.ts';
import { defineContainerFlags, parseContainerFlags } from '../container-flags.ts';
import { write } from '../context.ts';
import { ensureImage } from '../ensure-image.ts';
import { asCliError } from './container-errors.ts';
import type { Verb } from './verb.ts';

export const create: Verb = {
  names: ['create', 'container create'],
  define(cmd) {
    cmd.description('Create a new container').argument('<image>').argument('[command...]');
    defineContainerFlags(cmd);
  },
  async run(ctx, args, opts) {
    const [image, ...command] = args;
    const parsed = parseContainerFlags(opts, image!, command);
    try {
      const img = await ensureImage(ctx, image!, parsed.pull, parsed.platform, Boolean(opts.quiet));
      const c = createContainer(ctx.containerEnv(), { ...(parsed.name ? { name: parsed.name } : {}), config: parsed.config, hostConfig: parsed.hostConfig, networking: parsed.networking, image: img });
      write(c.Id);
    } catch (e) {
      throw asCliError(e);
    }
  },
};
