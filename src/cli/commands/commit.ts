// `hull commit [-a AUTHOR] [-c CHANGE]... [-m MESSAGE] [-p|--pause=false] CONTAINER [REPOSITORY[:TAG]]`
import { commitContainer } from '../../engine/containers/commit.ts';
import { ReferenceError } from '../../image/reference.ts';
import { write } from '../context.ts';
import { pflagBooleans } from '../pflag-bool.ts';
import { clientError, daemonError } from './daemon-error.ts';
import { collect, type Verb } from './verb.ts';

export const commit: Verb = {
  names: ['commit', 'container commit'],
  define(cmd) {
    cmd
      .description("Create a new image from a container's changes")
      .argument('<container>')
      .argument('[repository]', 'REPOSITORY[:TAG]')
      .option('-a, --author <string>', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
      .option('-c, --change <instruction>', 'Apply Dockerfile instruction to the created image', collect, [])
      .option('-m, --message <string>', 'Commit message')
      .option('-p, --pause', 'Pause container during commit', true)
      .option('--no-pause', 'Do not pause the container during commit');
    const pause = { label: '-p, --pause', on: '--pause', off: '--no-pause' };
    pflagBooleans(cmd, { '--pause': pause, '-p': pause });
  },
  async run(ctx, args, opts) {
    const env = ctx.containerEnv();
    let id: string;
    try {
      const record = await commitContainer(env, args[0]!, {
        reference: args[1],
        author: opts.author as string | undefined,
        comment: opts.message as string | undefined,
        changes: opts.change as string[],
        pause: opts.pause !== false,
        limits: { maxUncompressedBytes: ctx.engineSettings().layerMaxBytes },
      });
      id = record.id;
    } catch (e) {
      if (e instanceof ReferenceError) throw clientError(e.message);
      throw daemonError(e);
    }
    write(id);
  },
};
