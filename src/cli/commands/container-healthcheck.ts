// `hull container healthcheck [--next-delay] ID`: one health check of a running container, its
// result recorded as docker records it. The container's hull-shim runs it on a timer with
// --next-delay, and reads from its stdout when to run it next (src/engine/containers/health.ts).
import { HEALTH_DEFAULTS, healthEnabled, runHealthcheck } from '../../engine/containers/health.ts';
import { CliError, write } from '../context.ts';
import { asCliError } from './container-errors.ts';
import type { Verb } from './verb.ts';

export const containerHealthcheck: Verb = {
  names: ['container healthcheck'],
  define(cmd) {
    cmd
      .description('Run a container\'s health check once and record the result (its monitor runs this on a timer)')
      .argument('<container>')
      .option('--next-delay', 'print when the next check is due, in ms, instead of the health status (for the monitor)');
  },
  async run(ctx, args, opts) {
    const env = ctx.containerEnv();
    if (opts.nextDelay) {
      // the monitor's run: it always gets a delay; what went wrong goes to its timer.log
      let next = HEALTH_DEFAULTS.interval / 1_000_000;
      try {
        const c = env.containers.get(args[0]!);
        if (c) next = (await runHealthcheck(env, c)).nextMs;
      } catch (e) {
        process.stderr.write(`hull container healthcheck: ${(e as Error).message}\n`);
      }
      write(String(next));
      return;
    }
    try {
      const c = env.containers.find(args[0]!);
      if (!c.State.Running || c.State.Paused) throw new CliError(`container ${c.Id} is not running`, 125);
      if (!healthEnabled(c.Config.Healthcheck)) throw new CliError(`container ${c.Id} has no health check`, 125);
      const out = await runHealthcheck(env, c);
      if (!out.container) throw new CliError(`container ${c.Id} stopped during the check`, 125);
      write(out.container.State.Health!.Status);
    } catch (e) {
      throw asCliError(e);
    }
  },
};
