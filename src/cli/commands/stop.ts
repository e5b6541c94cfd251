// `hull stop [-t N] [-s SIG] CONTAINER...`
import { monitorGone, stopContainer } from '../../engine/containers/lifecycle.ts';
import { CliError } from '../context.ts';
import { eachContainer } from './each-container.ts';
import type { Verb } from './verb.ts';

export function parseTimeout(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new CliError(`invalid argument "${value}" for "-t, --timeout" flag: strconv.ParseInt: parsing "${value}": invalid syntax`, 125);
  return n;
}

export const stop: Verb = {
  names: ['stop', 'container stop'],
  define(cmd) {
    cmd
      .description('Stop one or more running containers')
      .argument('<container...>')
      .option('-s, --signal <signal>', 'signal to send to the container')
      .option('-t, --timeout <seconds>', 'seconds to wait before killing the container');
  },
  async run(ctx, args, opts) {
    const env = ctx.containerEnv();
    const timeout = parseTimeout(opts.timeout);
    await eachContainer(args, async (ref) => {
      const c = env.containers.find(ref);
      await stopContainer(env, c, timeout, opts.signal as string | undefined);
      // the exit command that recorded the stop may still be finishing: stop leaves no process behind
      await monitorGone(c.Id);
    }, true, true);
  },
};
