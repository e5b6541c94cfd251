// `hull image inspect` (and `hull inspect` for images): a JSON array, or --format per image.
import { inspectImage } from '../../engine/images.ts';
import { FormatError, renderInspect } from '../format/render.ts';
import { CliError } from '../context.ts';
import type { Verb } from './verb.ts';

export const imageInspect: Verb = {
  names: ['image inspect'],
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
    let result;
    try {
      result = renderInspect((opts.format as string | undefined) ?? '', found);
    } catch (err) {
      // docker exits 64 for a template that does not parse
      if (err instanceof FormatError && err.kind === 'parse') throw new CliError(err.message, 64);
      throw err;
    }
    process.stdout.write(result.output);
    errors.push(...result.errors);
    if (errors.length) throw new CliError(errors.join('\n'), 1);
  },
};
