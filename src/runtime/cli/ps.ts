import { childProcess } from '../../child-process.ts';
import { cgroupPids } from '../cgroups/manager.ts';
import type { Verb } from './args.ts';
import type { Context } from './context.ts';

export function verb(ctx: () => Context): Verb {
  return {
    name: 'ps',
    args: '<container-id> [ps options...]',
    help: 'list the processes running inside a container',
    flags: [{ name: 'format', short: 'f', kind: 'string', value: '<format>', default: 'table', help: 'table or json' }],
    min: 1,
    stopAtFirstArg: true,
    run([id, ...psArgs], f) {
      const saved = ctx().store.load(id!);
      const pids = cgroupPids(saved.cgroupDirs);
      if (f.format === 'json') {
        process.stdout.write(JSON.stringify(pids) + '\n');
        return;
      }
      if (f.format !== 'table') throw new Error('--format: must be table or json');
      const args = psArgs.length > 0 ? psArgs : ['-ef'];
      const r = childProcess().spawnSync('ps', args, { encoding: 'utf8' });
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
    },
  };
}
