// `hull commit [-a AUTHOR] [-c CHANGE]... [-m MESSAGE] [-p|--pause=false] CONTAINER [REPOSITORY[:TAG]]`
import { commitContainer } from '../../engine/containers/commit.ts';
import { ReferenceError } from '../../image/reference.ts';
import { CliError, write } from '../context.ts';
import { goQuote, parseBool } from '../go-strconv.ts';
import { clientError, daemonError } from './daemon-error.ts';
import { collect, type Verb } from './verb.ts';

/** pflag's "--pause=false" and "-p=false" as commander's "--no-pause". */
function pflagPause(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const m = /^(--pause|-p)=(.*)$/.exec(arg);
    if (!m) {
      out.push(arg);
      continue;
    }
    let on: boolean;
    try {
      on = parseBool(m[2]!);
    } catch (e) {
      throw new CliError(`invalid argument ${goQuote(m[2]!)} for "-p, --pause" flag: ${(e as Error).message}`, 125);
    }
    out.push(on ? '--pause' : '--no-pause');
  }
  return out;
}

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
    const parseOptions = cmd.parseOptions.bind(cmd);
    cmd.parseOptions = (args: string[]) => parseOptions(pflagPause(args));
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
