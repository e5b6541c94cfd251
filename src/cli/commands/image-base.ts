// `hull image base [TAG]`: hull's embedded base image, made from the host's busybox-static with no network.
import { makeBusyboxImage, DEFAULT_BUSYBOX } from '../../image/base-image.ts';
import { fullString, normalize } from '../../image/reference.ts';
import { write } from '../context.ts';
import type { Verb } from './verb.ts';

export const imageBase: Verb = {
  names: ['image base'],
  define(cmd) {
    cmd
      .description("Make a small base image from the host's busybox-static (no network needed)")
      .argument('[tag]', 'name for the image', 'busybox:latest')
      .option('--busybox <path>', 'the static busybox binary to use', DEFAULT_BUSYBOX);
  },
  async run(ctx, args, opts) {
    const name = fullString(normalize(args[0] ?? 'busybox:latest'));
    const img = await makeBusyboxImage(ctx.store(), name, opts.busybox as string);
    write(img.id);
  },
};
