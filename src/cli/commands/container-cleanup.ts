// `hull container cleanup ID`: what a container's hull-shim runs once the container has exited.
import { cleanupContainer, restartLater } from '../../engine/containers/lifecycle.ts';
import type { Verb } from './verb.ts';

export const containerCleanup: Verb = {
  names: ['container cleanup'],
  define(cmd) {
    cmd.description('Clean up after an exited container (run by its monitor)').argument('<container>');
  },
  async run(ctx, args) {
    const env = ctx.containerEnv();
    const result = await cleanupContainer(env, args[0]!);
    if (result.restartIn !== undefined) await restartLater(env, args[0]!, result.restartIn);
  },
};
