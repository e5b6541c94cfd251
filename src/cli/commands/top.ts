// `hull top CONTAINER [ps OPTIONS]`: the host's ps on the container's processes, as docker's table.
import { reconcile } from '../../engine/containers/lifecycle.ts';
import { containerTop } from '../../engine/containers/top.ts';
import { tabwrite } from '../format/tabwriter.ts';
import { daemonError } from './daemon-error.ts';
import type { Verb } from './verb.ts';

// docker's top table: tabwriter.NewWriter(out, 20, 1, 3, ' ', 0)
const TOP_TABLE = { minWidth: 20, tabWidth: 1, padding: 3, padChar: ' ' };

export const top: Verb = {
  names: ['top', 'container top'],
  define(cmd) {
    cmd
      .description('Display the running processes of a container')
      .usage('CONTAINER [ps OPTIONS]')
      .argument('<container>')
      .argument('[ps-options...]')
      // everything after the container is ps's, flags included
      .passThroughOptions()
      .allowUnknownOption();
  },
  async run(ctx, args) {
    const env = ctx.containerEnv();
    // a container whose monitor died is recorded as stopped first, as ps would show it
    await reconcile(env);
    const [ref, ...ps] = args;
    let result;
    try {
      result = containerTop(env, env.containers.find(ref!), ps.join(' '));
    } catch (e) {
      throw daemonError(e);
    }
    const lines = [result.Titles, ...result.Processes].map((row) => row.join('\t'));
    process.stdout.write(tabwrite(lines.join('\n') + '\n', TOP_TABLE));
  },
};
