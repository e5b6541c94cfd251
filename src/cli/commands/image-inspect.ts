// `hull image inspect` (and `hull inspect` for images): a JSON array, or --format per image.
import { inspectImage } from '../../engine/images.ts';
import { renderOne } from '../format/render.ts';
import { CliError, write } from '../context.ts';
import type { Verb } from './verb.ts';

export const imageInspect: Verb = {
  names: ['image inspect', 'inspect'],
  define(cmd) {
    cmd.description('Display detailed information on one or more images').argument('<image...>').option('-f, --format <format>', 'format output using a custom template');
  },
  async run(ctx, args, opts) {
    const found: Record<string, unknown>[] = [];
    const errors: string[] = [];
    for (const name of args) {
      try {
        found.push(inspectImage(ctx.store(), name));
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    const format = opts.format as string | undefined;
    if (format) {
      for (const f of found) write(renderOne(format, f));
    } else {
      write(JSON.stringify(found, null, 4));
    }
    if (errors.length) throw new CliError(errors.join('\n'), 1);
  },
};
