// `hull push NAME[:TAG]`
import { pushImage } from '../../engine/push.ts';
import { progressRenderer } from '../progress.ts';
import { write } from '../context.ts';
import type { Verb } from './verb.ts';

export const push: Verb = {
  names: ['push', 'image push'],
  define(cmd) {
    cmd
      .description('Upload an image to a registry')
      .argument('<name>', 'NAME[:TAG]')
      .option('-a, --all-tags', 'push all tags of an image to the repository')
      .option('-q, --quiet', 'suppress verbose output');
  },
  async run(ctx, args, opts) {
    const quiet = Boolean(opts.quiet);
    const progress = progressRenderer({ quiet });
    const chunk = process.env.HULL_PUSH_CHUNK_SIZE ? Number(process.env.HULL_PUSH_CHUNK_SIZE) : undefined;
    try {
      const result = await pushImage(ctx.store(), args[0]!, {
        config: ctx.engineSettings(),
        dockerConfigDir: ctx.dockerConfigDir(),
        onProgress: progress.sink,
        ...(chunk ? { chunkSize: chunk } : {}),
      });
      progress.done();
      if (quiet) write(`${result.ref.domain}/${result.ref.path}:${result.ref.tag}`);
    } finally {
      progress.done();
    }
  },
};
