// `hull rmi` / `hull image rm`: docker's untag-then-delete rules and its output lines.
import { removeImage } from '../../engine/images.ts';
import { CliError, write } from '../context.ts';
import type { Verb } from './verb.ts';

export const rmi: Verb = {
  names: ['rmi', 'image rm', 'image remove'],
  define(cmd) {
    cmd
      .description('Remove one or more images')
      .argument('<image...>')
      .option('-f, --force', 'force removal of the image')
      .option('--no-prune', 'do not delete untagged parents');
  },
  async run(ctx, args, opts) {
    let failed = 0;
    const env = ctx.containerEnv();
    // a running container's image cannot be removed even with -f; a stopped one's can (docker)
    const running = (holder: string) => !!env.containers.get(holder.replace(/^container:/, ''))?.State.Running;
    for (const name of args) {
      try {
        const r = removeImage(ctx.store(), name, { force: Boolean(opts.force), noPrune: opts.prune === false, running });
        write([...r.untagged.map((u) => `Untagged: ${u}`), ...r.deleted.map((d) => `Deleted: ${d}`)].join('\n'));
      } catch (err) {
        process.stderr.write(`Error response from daemon: ${(err as Error).message}\n`);
        failed++;
      }
    }
    if (failed) throw new CliError('', 1);
  },
};
