import { ociState } from '../state.ts';
import type { Verb } from './args.ts';
import type { Context } from './context.ts';

export function verb(ctx: () => Context): Verb {
  return {
    name: 'list',
    aliases: ['ls'],
    args: '',
    help: 'list containers',
    flags: [
      { name: 'format', short: 'f', kind: 'string', value: '<format>', default: 'table', help: 'table or json' },
      { name: 'quiet', short: 'q', kind: 'bool', help: 'print only the container ids' },
    ],
    min: 0,
    max: 0,
    run(_args, f) {
      const { store } = ctx();
      if (f.format !== 'table' && f.format !== 'json') throw new Error(`--format: must be table or json`);
      const rows = [];
      for (const id of store.list()) {
        try {
          const saved = store.load(id);
          const st = ociState(store, saved);
          rows.push({
            ociVersion: st.ociVersion, id, pid: st.pid ?? 0, status: st.status, bundle: saved.bundle,
            rootfs: saved.rootfs, created: saved.created, owner: saved.owner,
            ...(st.annotations ? { annotations: st.annotations } : {}),
          });
        } catch {
          continue; // a container being deleted right now
        }
      }
      if (f.quiet) {
        for (const r of rows) process.stdout.write(r.id + '\n');
      } else if (f.format === 'json') {
        process.stdout.write(JSON.stringify(rows) + '\n');
      } else {
        const table = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...rows.map((r) => [r.id, String(r.pid), r.status, r.bundle, r.created, r.owner])];
        const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
        for (const row of table) process.stdout.write(row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('') + '\n');
      }
    },
  };
}
