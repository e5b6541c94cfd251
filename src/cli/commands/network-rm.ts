// `hull network rm`: removes each network, printing it as it was named; a failure is printed
// where it happens and makes the exit status 1. -f makes a missing network no error (docker's rule).
import { removeNetwork } from '../../engine/networks/manage.ts';
import { NoSuchNetwork } from '../../engine/networks/store.ts';
import { CliError, write } from '../context.ts';
import { networkEnv } from './network-common.ts';
import type { Verb } from './verb.ts';

export const networkRm: Verb = {
  names: ['network rm', 'network remove'],
  define(cmd) {
    cmd
      .description('Remove one or more networks')
      .argument('<network...>', 'NETWORK')
      .option('-f, --force', 'Do not error if the network does not exist');
  },
  async run(ctx, args, opts) {
    const env = await networkEnv(ctx);
    let failed = false;
    for (const ref of args) {
      try {
        removeNetwork(env, ref);
      } catch (err) {
        if (opts.force && err instanceof NoSuchNetwork) continue;
        process.stderr.write(`Error response from daemon: ${(err as Error).message}\n`);
        failed = true;
        continue;
      }
      write(ref);
    }
    if (failed) throw new CliError('', 1);
  },
};
