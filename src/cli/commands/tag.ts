// `hull tag SOURCE TARGET`
import { tagImage } from '../../engine/images.ts';
import { CliError } from '../context.ts';
import type { Verb } from './verb.ts';

export const tag: Verb = {
  names: ['tag', 'image tag'],
  define(cmd) {
    cmd.description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE').argument('<source>').argument('<target>');
  },
  async run(ctx, args) {
    if (args.length !== 2) throw new CliError('"tag" requires exactly 2 arguments.', 1);
    tagImage(ctx.store(), args[0]!, args[1]!);
  },
};
