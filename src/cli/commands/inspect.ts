// `hull inspect` (any object: containers, then images, then networks, as docker looks them up),
// `hull container inspect` and `hull image inspect`: a JSON array, or --format per object.
import { inspectContainer } from '../../engine/containers/inspect.ts';
import { NoSuchContainer } from '../../engine/containers/store.ts';
import { inspectImage } from '../../engine/images.ts';
import { ensureBuiltinNetworks } from '../../engine/networks/manage.ts';
import { NoSuchNetwork } from '../../engine/networks/store.ts';
import { FormatError, renderInspect } from '../format/render.ts';
import { CliError, type Context } from '../context.ts';
import { networkView } from './network-common.ts';
import type { Verb } from './verb.ts';

type Kind = 'container' | 'image' | 'network';
const KINDS: Kind[] = ['container', 'image', 'network'];

/** An error docker prints as it is, with no "Error: " before it (the daemon's, for one type). */
class DaemonLookupError extends Error {}

function lookup(ctx: Context, ref: string, kinds: Kind[], size: boolean): Record<string, unknown> {
  for (const kind of kinds) {
    try {
      if (kind === 'container') {
        const env = ctx.containerEnv();
        return inspectContainer(env, env.containers.find(ref), size);
      }
      if (kind === 'network') {
        const env = ctx.containerEnv();
        ensureBuiltinNetworks(env, ctx.engineSettings());
        return networkView(env, env.networks.find(ref));
      }
      return inspectImage(ctx.store(), ref);
    } catch (e) {
      // docker's inspect --type network shows the daemon's "network x not found"
      if (e instanceof NoSuchNetwork && kinds.length === 1) throw new DaemonLookupError(`Error response from daemon: ${e.message}`);
      // as docker's isErrSkippable: a name that is no image reference may still name a network
      const skippable = e instanceof NoSuchContainer || e instanceof NoSuchNetwork || /^No such image/.test((e as Error).message)
        || (kinds.length > 1 && (e as Error).message.includes('invalid reference format'));
      if (!skippable) throw e;
    }
  }
  throw new Error(kinds.length === 1 ? `No such ${kinds[0]}: ${ref}` : `No such object: ${ref}`);
}

function inspectVerb(names: string[], kinds: Kind[] | undefined): Verb {
  return {
    names,
    define(cmd) {
      cmd.description(kinds?.[0] === 'image' ? 'Display detailed information on one or more images' : 'Return low-level information on Docker objects')
        .argument('<name...>')
        .option('-f, --format <format>', 'format output using a custom template');
      if (kinds?.[0] !== 'image') cmd.option('-s, --size', 'display total file sizes');
      if (!kinds) cmd.option('--type <type>', 'only inspect objects of the given type');
    },
    async run(ctx, args, opts) {
      let types = kinds ?? KINDS;
      if (opts.type) {
        if (!KINDS.includes(opts.type as Kind)) throw new CliError(`"${opts.type}" is not a valid value for --type`, 1);
        types = [opts.type as Kind];
      }
      const found: Record<string, unknown>[] = [];
      const errors: string[] = [];
      let rawFirst: boolean | undefined;
      for (const ref of args) {
        try {
          found.push(lookup(ctx, ref, types, Boolean(opts.size)));
        } catch (e) {
          rawFirst ??= e instanceof DaemonLookupError;
          errors.push((e as Error).message);
        }
      }
      let result;
      try {
        result = renderInspect((opts.format as string | undefined) ?? '', found);
      } catch (err) {
        if (err instanceof FormatError && err.kind === 'parse') throw new CliError(err.message, 64);
        throw err;
      }
      process.stdout.write(result.output);
      errors.push(...result.errors);
      if (rawFirst) {
        process.stderr.write(`${errors.join('\n')}\n`);
        throw new CliError('', 1);
      }
      if (errors.length) throw new CliError(errors.join('\n'), 1);
    },
  };
}

export const inspect = inspectVerb(['inspect'], undefined);
export const containerInspect = inspectVerb(['container inspect'], ['container']);
export const imageInspect = inspectVerb(['image inspect'], ['image']);
