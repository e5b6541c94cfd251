// `hull network disconnect [-f] NETWORK CONTAINER`: a running container leaves the network at
// once (its interface, address and DNS names go); a created one only forgets it.
import { disconnectContainer } from '../../engine/networks/connect.ts';
import { daemonError } from './daemon-error.ts';
import { networkEnv } from './network-common.ts';
import type { Verb } from './verb.ts';

export const networkDisconnect: Verb = {
  names: ['network disconnect'],
  define(cmd) {
    cmd
      .description('Disconnect a container from a network')
      .argument('<network>', 'NETWORK')
      .argument('<container>', 'CONTAINER')
      .option('-f, --force', 'Force the container to disconnect from a network');
  },
  async run(ctx, args, opts) {
    const [network, container] = args as [string, string];
    const env = await networkEnv(ctx);
    try {
      disconnectContainer(env, network, container, Boolean(opts.force));
    } catch (err) {
      throw daemonError(err);
    }
  },
};
