// `hull volume inspect`: docker's JSON (its field order, labels and options as sorted maps), or
// --format per volume. Errors are printed after the output, as docker's.
import type { Volume } from '../../engine/volumes.ts';
import { goMap, writeInspect } from '../format/render.ts';
import { CliError } from '../context.ts';
import type { Verb } from './verb.ts';
import { daemonError, volumeStore } from './volume-common.ts';

export const volumeInspect: Verb = {
  names: ['volume inspect'],
  define(cmd) {
    cmd.description('Display detailed information on one or more volumes').argument('<volume...>').option('-f, --format <format>', 'format output using a custom template');
  },
  async run(ctx, args, opts) {
    const store = volumeStore(ctx);
    const found: unknown[] = [];
    const errors: string[] = [];
    for (const name of args) {
      try {
        found.push(inspectView(store.get(name)));
      } catch (err) {
        errors.push(daemonError(err));
      }
    }
    const status = writeInspect((opts.format as string | undefined) ?? '', found, errors);
    if (status) throw new CliError('', status);
  },
};

/** The Engine API's Volume object: its fields in docker's order, maps as Go maps. */
export function inspectView(v: Volume) {
  return {
    CreatedAt: v.CreatedAt,
    Driver: v.Driver,
    Labels: goMap({ ...v.Labels }, ''),
    Mountpoint: v.Mountpoint,
    Name: v.Name,
    Options: goMap({ ...v.Options }, ''),
    Scope: v.Scope,
  };
}
