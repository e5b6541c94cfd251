import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { rootTag } from '../../src/engine/networks/store.ts';

const sha6 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 6);

test('the default root has no tag; another root is tagged by its path, and the tag is kept in it', () => {
  assert.equal(rootTag({ root: '/var/lib/hull', runroot: '/run/hull' }), '');
  const root = mkdtempSync(join(tmpdir(), 'hull-tag-'));
  try {
    const roots = { root, runroot: join(root, 'run') };
    assert.equal(rootTag(roots), sha6(root));
    assert.equal(readFileSync(join(root, 'network-tag'), 'utf8'), `${sha6(root)} ${root}\n`);
    assert.equal(rootTag(roots), sha6(root));
    // a kept tag spares a fresh process node:crypto
    const script = `const { rootTag } = await import(${JSON.stringify(new URL('../../src/engine/networks/store.ts', import.meta.url).href)});
      console.log(rootTag(${JSON.stringify(roots)}), process.moduleLoadList.some((m) => m.includes('crypto')));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `${sha6(root)} false`);
    // a root copied from another path (its kept tag names that path) gets its own; so does a spoilt file
    for (const kept of [`${sha6('/elsewhere')} /elsewhere\n`, 'garbage', `zzzzzz ${root}\n`]) {
      writeFileSync(join(root, 'network-tag'), kept);
      assert.equal(rootTag(roots), sha6(root));
      assert.equal(readFileSync(join(root, 'network-tag'), 'utf8'), `${sha6(root)} ${root}\n`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a root that does not exist yet is tagged all the same, and nothing is left behind', () => {
  const parent = mkdtempSync(join(tmpdir(), 'hull-tag-'));
  try {
    const root = join(parent, 'not-yet');
    assert.equal(rootTag({ root, runroot: join(parent, 'run') }), sha6(root));
    assert.deepEqual(spawnSync('ls', ['-A', parent], { encoding: 'utf8' }).stdout, '');
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});
