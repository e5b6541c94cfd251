import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { cgroupPids } from '../cgroups/manager.ts';
import type { Context } from './context.ts';

export function register(program: Command, ctx: () => Context): void {
  program
    .command('ps')
    .argument('<container-id>')
    .argument('[ps-options...]', 'options for ps(1)', [])
    .passThroughOptions()
    .option('-f, --format <format>', 'table or json', 'table')
    .description('list the processes running inside a container')
    .action((id: string, psArgs: string[], f: { format: string }) => {
      const saved = ctx().store.load(id);
      const pids = cgroupPids(saved.cgroupDirs);
      if (f.format === 'json') {
        process.stdout.write(JSON.stringify(pids) + '\n');
        return;
      }
      if (f.format !== 'table') throw new Error('--format: must be table or json');
      const args = psArgs.length > 0 ? psArgs : ['-ef'];
      const r = spawnSync('ps', args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ps ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
      const lines = r.stdout.split('\n');
      const header = lines[0] ?? '';
      const col = header.trim().split(/\s+/).indexOf('PID');
      if (col < 0) throw new Error('ps output has no PID column');
      const want = new Set(pids);
      const out = [header];
      for (const line of lines.slice(1)) {
        const pid = Number(line.trim().split(/\s+/)[col]);
        if (want.has(pid)) out.push(line);
      }
      process.stdout.write(out.join('\n') + '\n');
    });
}
