// Crash safety and concurrency of the image store: a kill -9 at any moment of a pull, push or rmi
// leaves the store consistent, the next command reclaims the leftovers, and a pull then completes.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startRegistry, type TestRegistry } from './helpers/registry.ts';
import { skopeoPush, writeOciLayout, type LayerSpec } from './helpers/oci-images.ts';

const HULL = fileURLToPath(new URL('../../dist/hull', import.meta.url));

function hull(root: string, args: string[]) {
  return spawnSync(HULL, ['--root', root, ...args], { encoding: 'utf8', timeout: 120_000 });
}

function ok(root: string, args: string[]): string {
  const r = hull(root, args);
  assert.equal(r.status, 0, `hull ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Runs hull and SIGKILLs it after delayMs (if it is still running); resolves when it is gone. */
function killAfter(root: string, args: string[], delayMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(HULL, ['--root', root, ...args], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** Every row has its files, every file its row, blobs hash to their names, and nothing is left in flight. */
function assertConsistent(root: string): void {
  const db = new DatabaseSync(join(root, 'images.db'), { readOnly: true });
  try {
    assert.deepEqual(db.prepare('SELECT id FROM leases').all(), [], 'a lease survived its process');
    const tmp = join(root, 'tmp');
    assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], [], 'scratch files survived');
    const referenced = new Set((db.prepare('SELECT DISTINCT digest FROM image_blobs').all() as { digest: string }[]).map((r) => r.digest));
    const blobDir = join(root, 'blobs/sha256');
    const files = existsSync(blobDir) ? readdirSync(blobDir).map((h) => `sha256:${h}`) : [];
    for (const d of referenced) assert.ok(files.includes(d), `blob ${d} of an image is missing`);
    for (const d of files) {
      assert.ok(referenced.has(d), `blob ${d} belongs to no image`);
      const got = 'sha256:' + createHash('sha256').update(readFileSync(join(blobDir, d.slice(7)))).digest('hex');
      assert.equal(got, d, `blob ${d} is corrupt`);
    }
    const rows = (db.prepare('SELECT chain_id FROM snapshots').all() as { chain_id: string }[]).map((r) => r.chain_id.slice(7));
    const dirs = existsSync(join(root, 'snapshots')) ? readdirSync(join(root, 'snapshots')) : [];
    assert.deepEqual([...dirs].sort(), [...rows].sort(), 'snapshot rows and directories differ');
    const chains = db.prepare('SELECT chain_id FROM image_layers').all() as { chain_id: string }[];
    for (const c of chains) assert.ok(rows.includes(c.chain_id.slice(7)), `layer ${c.chain_id} of an image has no snapshot`);
  } finally {
    db.close();
  }
}

function manyFiles(prefix: string, n: number): LayerSpec {
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++) files[`${prefix}/d${i % 20}/f${i}`] = `${prefix}-${i}-`.repeat(40);
  return { files };
}

describe('image store crash safety', { concurrency: false }, () => {
  let reg: TestRegistry;
  let work: string;
  let image: string;
  let pullMs = 0;

  before(async () => {
    reg = await startRegistry({ auth: 'none' });
    work = mkdtempSync(join(tmpdir(), 'hull-crash-'));
    await writeOciLayout(join(work, 'layout'), [{ layers: [manyFiles('a', 1500), manyFiles('b', 1500), manyFiles('c', 1500), { files: { 'etc/top': 'x' }, compression: 'zstd' }] }]);
    image = `${reg.host}/crash/many:1`;
    skopeoPush(join(work, 'layout'), 'latest', image);
    const root = join(work, 'measure');
    const t = process.hrtime.bigint();
    ok(root, ['pull', '-q', image]);
    pullMs = Number(process.hrtime.bigint() - t) / 1e6;
    process.stderr.write(`# a full pull took ${Math.round(pullMs)} ms\n`);
    rmSync(root, { recursive: true, force: true });
  });

  after(async () => {
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('kill -9 at random points of a pull, then the next command reclaims and a pull completes', async () => {
    const root = join(work, 'pull');
    const outcomes: (number | null)[] = [];
    for (let i = 0; i < 10; i++) {
      // spread over the whole pull, start-up included
      outcomes.push(await killAfter(root, ['pull', '-q', image], Math.floor((pullMs * (i + 0.5)) / 10)));
      ok(root, ['images', '-q']);
      assertConsistent(root);
      // the pull may have finished before the kill: start the next round from an empty store
      hullQuiet(root, ['rmi', '-f', image]);
      assertConsistent(root);
    }
    assert.ok(outcomes.some((c) => c === null), 'no kill landed while the pull ran');
    ok(root, ['pull', '-q', image]);
    assertConsistent(root);
    assert.match(ok(root, ['images', '--format', '{{.Repository}}:{{.Tag}}']), /crash\/many:1/);
  });

  test('a killed pull leaves its partial download, and the next pull resumes it', async () => {
    const root = join(work, 'resume');
    await killAfter(root, ['pull', '-q', image], Math.floor(pullMs * 0.4));
    ok(root, ['pull', '-q', image]);
    assertConsistent(root);
  });

  test('kill -9 at random points of rmi, with another image sharing layers', async () => {
    const root = join(work, 'rmi');
    ok(root, ['pull', '-q', image]);
    ok(root, ['tag', image, `${reg.host}/crash/other:1`]);
    for (let i = 0; i < 6; i++) {
      ok(root, ['tag', image, 'victim:1']);
      await killAfter(root, ['rmi', '-f', image.replace(/:1$/, ':1')], 20 + i * 25);
      ok(root, ['images', '-q']);
      assertConsistent(root);
      hullQuiet(root, ['pull', '-q', image]);
      assertConsistent(root);
    }
  });

  test('kill -9 at random points of a push leaves the store consistent', async () => {
    const root = join(work, 'push');
    ok(root, ['pull', '-q', image]);
    for (let i = 0; i < 4; i++) {
      const target = `${reg.host}/crash/pushed${i}:1`;
      ok(root, ['tag', image, target]);
      await killAfter(root, ['push', '-q', target], 40 + i * 60);
      ok(root, ['images', '-q']);
      assertConsistent(root);
    }
  });

  test('two pulls of one image at once both succeed and make each snapshot once', async () => {
    const root = join(work, 'twice');
    const run = () => new Promise<number | null>((resolve) => spawn(HULL, ['--root', root, 'pull', '-q', image], { stdio: 'ignore' }).on('exit', resolve));
    assert.deepEqual(await Promise.all([run(), run()]), [0, 0]);
    assertConsistent(root);
    assert.equal(readdirSync(join(root, 'snapshots')).length, 4);
  });

  test('a pull during an rmi of an image that shares its layers leaves both consistent', async () => {
    const root = join(work, 'pull-rmi');
    ok(root, ['pull', '-q', image]);
    ok(root, ['tag', image, 'doomed:1']);
    ok(root, ['rmi', image]);
    const run = (args: string[]) => new Promise<number | null>((resolve) => spawn(HULL, ['--root', root, ...args], { stdio: 'ignore' }).on('exit', resolve));
    const [pulled, removed] = await Promise.all([run(['pull', '-q', image]), run(['rmi', 'doomed:1'])]);
    assert.equal(pulled, 0);
    assert.equal(removed, 0);
    assertConsistent(root);
    assert.equal(readdirSync(join(root, 'snapshots')).length, 4);
  });
});

function hullQuiet(root: string, args: string[]): void {
  hull(root, args);
}
