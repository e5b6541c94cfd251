// `hull load [-i FILE] [-q] [--platform P]`: a docker-archive or OCI layout (tar, plain or compressed) from a file or stdin.
import { EmptyArchiveError, loadImages, loadMessages } from '../../engine/archive/load.ts';
import { parsePlatform } from '../../image/platform.ts';
import { CliError, write } from '../context.ts';
import type { Verb } from './verb.ts';

const EMPTY_STDIN = 'requested load from stdin, but stdin is empty';

export const load: Verb = {
  names: ['load', 'image load'],
  define(cmd) {
    cmd
      .description('Load an image from a tar archive or STDIN')
      .option('-i, --input <file>', 'Read from tar archive file (or an OCI layout directory), instead of STDIN')
      .option('-q, --quiet', 'Suppress the load output')
      .option('--platform <platform>', 'Load only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")');
  },
  async run(ctx, _args, opts) {
    const input = opts.input as string | undefined;
    // checked before stdin is read, as docker's CLI does
    const platform = opts.platform !== undefined ? parsePlatform(opts.platform as string) : undefined;
    if (!input && process.stdin.isTTY) throw new CliError(EMPTY_STDIN);
    let images;
    try {
      images = await loadImages(ctx.store(), input ?? process.stdin, {
        label: input ?? 'stdin',
        ...(platform ? { platform } : {}),
        layerLimits: { maxUncompressedBytes: ctx.engineSettings().layerMaxBytes, maxEntries: ctx.engineSettings().layerMaxEntries },
      });
    } catch (err) {
      if (err instanceof EmptyArchiveError && !input) throw new CliError(EMPTY_STDIN);
      throw err;
    }
    // as docker's, -q quiets progress only: what was loaded is still said
    write(loadMessages(images).join('\n'));
  },
};
