// `hull export [-o FILE] CONTAINER`: the container's filesystem as a tar.
import { CopyError, validateOutputPath } from '../../engine/containers/cp.ts';
import { exportContainer } from '../../engine/containers/export.ts';
import { CliError } from '../context.ts';
import { clientError, daemonError } from './daemon-error.ts';
import type { Verb } from './verb.ts';

export const containerExport: Verb = {
  names: ['export', 'container export'],
  define(cmd) {
    cmd
      .description("Export a container's filesystem as a tar archive")
      .argument('<container>')
      .option('-o, --output <file>', 'Write to a file, instead of STDOUT');
  },
  async run(ctx, args, opts) {
    const output = opts.output as string | undefined;
    if (output === undefined && process.stdout.isTTY) throw clientError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    if (output !== undefined) {
      try {
        validateOutputPath(output);
      } catch (e) {
        if (e instanceof CopyError) throw clientError(`failed to export container: ${e.message}`);
        throw e;
      }
    }
    const env = ctx.containerEnv();
    try {
      await exportContainer(env, args[0]!, output ?? process.stdout);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EPIPE') throw new CliError('', 1);
      throw daemonError(e);
    }
  },
};
