// `hull system reset [-f]`: podman's verb, removing every container, network, volume and image of
// this state root (and the bridges and firewall rules its networks made), after asking.
import { systemReset } from '../../engine/system/reset.ts';
import { CliError } from '../context.ts';
import { confirm } from './prompt.ts';
import type { Verb } from './verb.ts';

const WARNING = `WARNING! This will remove:
  - all containers
  - all networks, with their bridges and firewall rules
  - all volumes
  - all images`;

export const systemResetVerb: Verb = {
  names: ['system reset'],
  define(cmd) {
    cmd.description('Reset hull storage back to the initial state').option('-f, --force', 'do not prompt for confirmation');
  },
  async run(ctx, _args, opts) {
    if (!opts.force && !(await confirm(WARNING))) return;
    const { errors } = await systemReset(ctx.containerEnv());
    if (errors.length) {
      process.stderr.write(errors.map((e) => `Error: ${e}`).join('\n') + '\n');
      throw new CliError('', 1);
    }
  },
};
