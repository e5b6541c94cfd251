// `hull rm [-f] [-v] CONTAINER...`
import { removeContainer } from '../../engine/containers/lifecycle.ts';
import { eachContainer } from './each-container.ts';
import type { Verb } from './verb.ts';

export const rm: Verb = {
  names: ['rm', 'container rm', 'container remove'],
  define(cmd) {
    cmd
      .description('Remove one or more containers')
      .argument('<container...>')
      .option('-f, --force', 'force the removal of a running container (uses SIGKILL)')
      .option('-l, --link', 'remove the specified link')
      .option('-v, --volumes', 'remove anonymous volumes associated with the container');
  },
  async run(ctx, args, opts) {
    const env = ctx.containerEnv();
    await eachContainer(args, (ref) => removeContainer(env, env.containers.find(ref).Id, { force: Boolean(opts.force), volumes: Boolean(opts.volumes) }));
  },
};
