// Commands that open a new image store at the same moment (two pulls into a fresh --root) must
// all get it: SQLite refuses the switch to WAL at once, without waiting, while another process
// holds the new file's lock.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const opener = `
import { openMetadata, transaction } from ${JSON.stringify(new URL('../../src/image/store/metadata.ts', import.meta.url).href)};
const at = Number(process.argv[2]);
while (Date.now() < at) {}
const db = openMetadata(process.argv[1]);
transaction(db, () => db.prepare("INSERT INTO leases (id, pid, pid_start, created) VALUES (?, ?, '', 0)").run(String(process.pid), process.pid));
if (db.prepare('PRAGMA journal_mode').get().journal_mode !== 'wal') throw new Error('not in WAL mode');
`;

function open(file: string, at: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', opener, file, String(at)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

test('three processes opening one new store at the same moment all get it, in WAL mode', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hull-metadata-'));
  try {
    for (let round = 0; round < 15; round++) {
      const file = join(dir, `images-${round}.db`);
      // each spins until the same instant, so the three opens collide
      const at = Date.now() + 400;
      const results = await Promise.all([open(file, at), open(file, at), open(file, at)]);
      for (const r of results) assert.equal(r.code, 0, r.stderr);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
