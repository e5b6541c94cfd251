// `hull diff CONTAINER`: the files a container added (A), changed (C) and deleted (D).
import { CHANGE_KIND_LETTER, containerChanges } from '../../engine/containers/diff.ts';
import { daemonError } from './daemon-error.ts';
import type { Verb } from './verb.ts';

export const diff: Verb = {
  names: ['diff', 'container diff'],
  define(cmd) {
    cmd.description("Inspect changes to files or directories on a container's filesystem").argument('<container>');
  },
  async run(ctx, args) {
    const env = ctx.containerEnv();
    let lines: string[];
    try {
      lines = containerChanges(env, env.containers.find(args[0]!)).map((c) => `${CHANGE_KIND_LETTER[c.Kind]} ${c.Path}`);
    } catch (e) {
      throw daemonError(e);
    }
    if (lines.length > 0) process.stdout.write(lines.join('\n') + '\n');
  },
};
