// `hull pull NAME[:TAG|@DIGEST]`
import { pullImage } from '../../engine/pull.ts';
import { parsePlatform } from '../../image/platform.ts';
import { fullString, parseReference } from '../../image/reference.ts';
import { progressRenderer } from '../progress.ts';
import { write } from '../context.ts';
import type { Verb } from './verb.ts';

export const pull: Verb = {
  names: ['pull', 'image pull'],
  define(cmd) {
    cmd
      .description('Download an image from a registry')
      .argument('<name>', 'NAME[:TAG|@DIGEST]')
      .option('-a, --all-tags', 'download all tagged images in the repository')
      .option('--platform <platform>', 'set platform if server is multi-platform capable')
      .option('-q, --quiet', 'suppress verbose output');
  },
  async run(ctx, args, opts) {
    const name = args[0]!;
    // parsed as typed: normalize would already have added the `latest` docker announces
    const parsed = parseReference(name);
    const quiet = Boolean(opts.quiet);
    if (!parsed.tag && !parsed.digest && !opts.allTags && !quiet) write('Using default tag: latest');
    const progress = progressRenderer({ quiet });
    const common = {
      config: ctx.engineSettings(),
      dockerConfigDir: ctx.dockerConfigDir(),
      onProgress: progress.sink,
      ...(opts.platform ? { platform: parsePlatform(opts.platform as string) } : {}),
    };
    try {
      const result = await pullImage(ctx.store(), name, common);
      progress.done();
      write(fullString(result.ref));
    } finally {
      progress.done();
    }
  },
};
