// `hull rename CONTAINER NEW_NAME`: docker prints the daemon's refusal, then its own summary line.
import { renameContainer } from '../../engine/containers/rename.ts';
import { CliError } from '../context.ts';
import type { Verb } from './verb.ts';

export const rename: Verb = {
  names: ['rename', 'container rename'],
  define(cmd) {
    cmd.description('Rename a container').argument('<container>').argument('<new-name>');
  },
  async run(ctx, args) {
    // trimmed and checked before anything is looked up, as docker's client does
    const [oldName, newName] = (args as [string, string]).map((a) => a.trim()) as [string, string];
    if (oldName === '' || newName === '') throw new CliError('Neither old nor new names may be empty', 1);
    try {
      renameContainer(ctx.containerEnv(), oldName, newName);
    } catch (e) {
      process.stderr.write(`Error response from daemon: ${(e as Error).message}\n`);
      throw new CliError(`failed to rename container named ${oldName}`, 1);
    }
  },
};
