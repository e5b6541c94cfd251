import type { Command } from 'commander';
import { features } from '../features.ts';

export function register(program: Command): void {
  program
    .command('features')
    .description('show what this runtime implements (runtime-spec features document)')
    .action(() => {
      process.stdout.write(JSON.stringify(features(), null, 4) + '\n');
    });
}
