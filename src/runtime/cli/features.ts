import { features } from '../features.ts';
import type { Verb } from './args.ts';

export const verb: Verb = {
  name: 'features',
  args: '',
  help: 'show what this runtime implements (runtime-spec features document)',
  flags: [],
  min: 0,
  max: 0,
  run() {
    process.stdout.write(JSON.stringify(features(), null, 4) + '\n');
  },
};
