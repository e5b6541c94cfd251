// `hull push NAME[:TAG]`
import { pushImage } from '../../engine/push.ts';
import { progressRenderer } from '../progress.ts';
import { familiarName, parseReference, repository } from '../../image/reference.ts';
import { CliError, write } from '../context.ts';
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
    const name = args[0]!;
    let names = [name];
    if (opts.allTags) {
      const ref = parseReference(name);
      if (ref.tag || ref.digest) throw new CliError('tag can\'t be used with --all-tags/-a');
      const repo = repository(ref);
      names = ctx.store().list().flatMap((i) => i.tags).filter((t) => t.startsWith(repo + ':')).sort();
      if (names.length === 0) throw new CliError(`An image does not exist locally with the tag: ${familiarName(ref)}`);
    }
    try {
      for (const n of names) {
        const result = await pushImage(ctx.store(), n, {
          config: ctx.engineSettings(),
          dockerConfigDir: ctx.dockerConfigDir(),
          onProgress: progress.sink,
          ...(chunk ? { chunkSize: chunk } : {}),
        });
        if (quiet) write(`${result.ref.domain}/${result.ref.path}:${result.ref.tag}`);
      }
      progress.done();
    } finally {
      progress.done();
    }
  },
};
