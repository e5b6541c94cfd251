// `hull network inspect`: docker's NetworkResource documents as a JSON array, or --format per
// network. A network not found is reported after the output, as docker does, and exits 1.
import { writeInspect } from '../format/render.ts';
import { CliError } from '../context.ts';
import { networkEnv, networkView } from './network-common.ts';
import type { Verb } from './verb.ts';

export const networkInspect: Verb = {
  names: ['network inspect'],
  define(cmd) {
    cmd
      .description('Display detailed information on one or more networks')
      .argument('<network...>', 'NETWORK')
      .option('-f, --format <string>', 'Format output using a custom template')
      // docker's verbose adds only swarm services and peers, which local networks do not have
      .option('-v, --verbose', 'Verbose output for diagnostics');
  },
  async run(ctx, args, opts) {
    const env = await networkEnv(ctx);
    const found: unknown[] = [];
    const errors: string[] = [];
    for (const ref of args) {
      try {
        found.push(networkView(env, env.networks.find(ref)));
      } catch (err) {
        errors.push(`Error response from daemon: ${(err as Error).message}`);
      }
    }
    const status = writeInspect((opts.format as string | undefined) ?? '', found, errors);
    if (status) throw new CliError('', status);
  },
};
