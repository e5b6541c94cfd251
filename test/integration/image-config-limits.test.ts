// The engine's layer limits (daemon.json layer-max-entries / layer-max-bytes) reach pull and load.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startRegistry, type TestRegistry } from './helpers/registry.ts';

const HULL = fileURLToPath(new URL('../../dist/hull', import.meta.url));
let reg: TestRegistry;
let work: string;

function hull(root: string, args: string[], config?: string) {
  return spawnSync(HULL, ['--root', root, ...args], { encoding: 'utf8', env: { ...process.env, HULL_DAEMON_CONFIG: config ?? join(work, 'empty.json') } });
}

before(async () => {
  reg = await startRegistry({ auth: 'none' });
  work = mkdtempSync(join(tmpdir(), 'hull-limits-'));
  writeFileSync(join(work, 'empty.json'), '{}');
  writeFileSync(join(work, 'tight.json'), JSON.stringify({ 'layer-max-entries': 10 }));
  const src = join(work, 'src');
  for (const args of [['image', 'base'], ['tag', 'busybox', `${reg.host}/limits/bb:1`], ['push', '-q', `${reg.host}/limits/bb:1`], ['save', '-o', join(work, 'bb.tar'), 'busybox']]) {
    const r = hull(src, args);
    assert.equal(r.status, 0, r.stderr);
  }
});

after(async () => {
  await reg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

for (const [what, args] of [
  ['pull', (_: string) => ['pull', '-q', `${reg.host}/limits/bb:1`]],
  ['load', (w: string) => ['load', '-i', join(w, 'bb.tar')]],
] as const) {
  test(`${what} honours layer-max-entries from the engine config and leaves nothing`, () => {
    const root = join(work, what);
    const r = hull(root, args(work), join(work, 'tight.json'));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /more than the limit of 10 entries/);
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
    assert.equal(existsSync(join(root, 'snapshots')) ? readdirSync(join(root, 'snapshots')).length : 0, 0);
    assert.equal(hull(root, args(work)).status, 0, 'without the limit it works');
  });
}
