import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { defaultSpec } from '../spec/default.ts';

export function register(program: Command): void {
  program
    .command('spec')
    .description('write a new config.json for a bundle')
    .option('-b, --bundle <path>', 'directory to write config.json in', '.')
    .option('--rootless', 'a spec for a container run by an unprivileged user')
    .action((f: { bundle: string; rootless?: boolean }) => {
      const path = join(f.bundle, 'config.json');
      if (existsSync(path)) throw new Error(`File ${path} exists. Remove it first`);
      writeFileSync(path, JSON.stringify(defaultSpec({ rootless: !!f.rootless }), null, '\t') + '\n');
    });
}
