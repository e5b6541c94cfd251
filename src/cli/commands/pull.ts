// `hull pull NAME[:TAG|@DIGEST]`
import { pullImage, registryClient } from '../../engine/pull.ts';
import { parsePlatform } from '../../image/platform.ts';
import { fullString, parseReference, repository } from '../../image/reference.ts';
import { progressRenderer } from '../progress.ts';
import { CliError, write } from '../context.ts';
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
    let names = [name];
    if (opts.allTags) {
      if (parsed.tag || parsed.digest) throw new CliError('tag can\'t be used with --all-tags/-a');
      const client = registryClient(parsed.domain, { config: ctx.engineSettings(), dockerConfigDir: ctx.dockerConfigDir() });
      try {
        names = (await client.listTags(parsed.path)).map((t) => `${repository(parsed)}:${t}`);
      } finally {
        await client.close();
      }
    }
    try {
      let last;
      for (const n of names) last = await pullImage(ctx.store(), n, common);
      progress.done();
      if (last) write(opts.allTags ? repository(parsed) : fullString(last.ref));
    } finally {
      progress.done();
    }
  },
};
