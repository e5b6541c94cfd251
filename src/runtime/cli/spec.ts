import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultSpec } from '../spec/default.ts';
import type { Verb } from './args.ts';

export const verb: Verb = {
  name: 'spec',
  args: '',
  help: 'write a new config.json for a bundle',
  flags: [
    { name: 'bundle', short: 'b', kind: 'string', value: '<path>', default: '.', help: 'directory to write config.json in' },
    { name: 'rootless', kind: 'bool', help: 'a spec for a container run by an unprivileged user' },
  ],
  min: 0,
  max: 0,
  run(_args, f) {
    const path = join(f.bundle as string, 'config.json');
    if (existsSync(path)) throw new Error(`File ${path} exists. Remove it first`);
    writeFileSync(path, JSON.stringify(defaultSpec({ rootless: !!f.rootless }), null, '\t') + '\n');
  },
};
