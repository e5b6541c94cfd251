// `hull import [-c CHANGE]... [-m MESSAGE] [--platform P] file|URL|- [REPOSITORY[:TAG]]`
import { importImage } from '../../engine/archive/import.ts';
import { write } from '../context.ts';
import { collect, type Verb } from './verb.ts';

export const imageImport: Verb = {
  names: ['import', 'image import'],
  define(cmd) {
    cmd
      .description('Import the contents from a tarball to create a filesystem image')
      .argument('<source>', 'file|URL|-')
      .argument('[repository]', 'REPOSITORY[:TAG]')
      .option('-c, --change <instruction>', 'Apply Dockerfile instruction to the created image', collect, [])
      .option('-m, --message <message>', 'Set commit message for imported image')
      .option('--platform <platform>', 'Set platform if server is multi-platform capable');
  },
  async run(ctx, args, opts) {
    const record = await importImage(ctx.store(), args[0]!, {
      changes: opts.change as string[],
      ...(opts.message !== undefined ? { message: opts.message as string } : {}),
      ...(opts.platform !== undefined ? { platform: opts.platform as string } : {}),
      ...(args[1] !== undefined ? { tag: args[1] } : {}),
      maxBytes: ctx.engineSettings().layerMaxBytes,
    });
    write(record.id);
  },
};
