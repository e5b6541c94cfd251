// Partial downloads under ingest/: a pull killed mid-blob leaves one, the next pull resumes it
// with a Range request, `image prune` collects those no pull is resuming, and opening the store
// collects those abandoned for a day. A real registry behind a proxy that stalls the blob.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { humanSize } from '../../src/cli/units.ts';
import { ImageStore } from '../../src/image/store/image-store.ts';
import { claim } from '../../src/image/store/leases.ts';
import { skopeoPush, writeOciLayout } from './helpers/oci-images.ts';
import { processesMentioning, startMisbehavingRegistry, startRegistry, type MisbehavingRegistry, type TestRegistry } from './helpers/registry.ts';

const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
const STALL_AFTER = 300_000;
const DAY_MS = 24 * 60 * 60 * 1000;

function hull(root: string, args: string[]) {
  return spawnSync(process.execPath, [BIN, '--root', root, ...args], { encoding: 'utf8', timeout: 120_000 });
}

function ok(root: string, args: string[]): string {
  const r = hull(root, args);
  assert.equal(r.status, 0, `hull ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Runs hull without blocking this process, whose event loop serves the proxy the pull goes through. */
function pullThroughProxy(root: string, image: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--root', root, 'pull', '-q', image], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`hull pull exited with ${code}: ${err}`))));
  });
}

function partials(root: string): { name: string; size: number }[] {
  const dir = join(root, 'ingest');
  return existsSync(dir) ? readdirSync(dir).map((name) => ({ name, size: statSync(join(dir, name)).size })) : [];
}

describe('partial downloads', { concurrency: false }, () => {
  let reg: TestRegistry;
  let proxy: MisbehavingRegistry;
  let work: string;
  let image: string;
  let layer: string;

  before(async () => {
    reg = await startRegistry({ auth: 'none' });
    proxy = await startMisbehavingRegistry({ upstream: reg.url });
    work = mkdtempSync(join(tmpdir(), 'hull-partials-'));
    const layout = join(work, 'layout');
    // random bytes do not compress: the layer blob is about 1.3 MB
    await writeOciLayout(layout, [{ layers: [{ files: { 'big.bin': randomBytes(1 << 20).toString('base64') } }] }]);
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    const manifest = JSON.parse(readFileSync(join(layout, 'blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8'));
    layer = manifest.layers[0].digest;
    assert.ok(manifest.layers[0].size > STALL_AFTER * 2);
    skopeoPush(layout, 'latest', `${reg.host}/partial/big:1`);
    image = `${proxy.host}/partial/big:1`;
  });

  after(async () => {
    await proxy?.stop();
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    assert.deepEqual(processesMentioning(work), [], 'a hull process outlived its test');
  });

  /** Pulls through the proxy, which sends STALL_AFTER bytes of the layer and then nothing, and kills the pull once they are on disk. */
  async function killedPull(root: string): Promise<{ name: string; size: number }> {
    proxy.rule = (r) => (r.method === 'GET' && r.path.endsWith(`/blobs/${layer}`) ? { kind: 'stall-body', after: STALL_AFTER } : null);
    const child = spawn(process.execPath, [BIN, '--root', root, 'pull', '-q', image], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    try {
      for (let i = 0; i < 600 && !partials(root).some((p) => p.size >= STALL_AFTER); i++) await new Promise((r) => setTimeout(r, 50));
    } finally {
      child.kill('SIGKILL');
      await exited;
      proxy.rule = () => null;
    }
    const left = partials(root);
    assert.deepEqual(left, [{ name: layer.replace(':', '-'), size: STALL_AFTER }], 'the killed pull left the bytes it had as a partial download');
    return left[0]!;
  }

  function assertNoLeases(root: string): void {
    const db = new DatabaseSync(join(root, 'images.db'), { readOnly: true });
    try {
      assert.deepEqual(db.prepare('SELECT id FROM leases').all(), [], 'a lease survived its process');
    } finally {
      db.close();
    }
  }

  test('a young partial survives the next commands, and the next pull resumes it with a Range request', async () => {
    const root = join(work, 'resume');
    await killedPull(root);
    ok(root, ['images', '-q']);
    assert.deepEqual(partials(root), [{ name: layer.replace(':', '-'), size: STALL_AFTER }], 'opening the store keeps a partial younger than a day');
    assertNoLeases(root);
    proxy.requests.length = 0;
    await pullThroughProxy(root, image);
    const gets = proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${layer}`));
    assert.deepEqual(gets.map((r) => r.headers.range), [`bytes=${STALL_AFTER}-`], 'the layer was fetched once, from where the partial ended');
    assert.deepEqual(partials(root), []);
    assert.match(ok(root, ['images', '--format', '{{.Repository}}:{{.Tag}}']), /partial\/big:1/);
  });

  test('image prune removes a partial no pull is resuming, and counts it in the space reclaimed', async () => {
    const root = join(work, 'prune');
    await killedPull(root);
    assert.equal(ok(root, ['image', 'prune', '-f']), `Total reclaimed space: ${humanSize(STALL_AFTER)}\n`);
    assert.deepEqual(partials(root), []);
    assertNoLeases(root);
    // the pull after it starts from the first byte, and completes
    proxy.requests.length = 0;
    await pullThroughProxy(root, image);
    assert.deepEqual(proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${layer}`)).map((r) => r.headers.range), [undefined]);
  });

  test('a partial abandoned for more than a day goes when the store is next opened, unless a live operation holds it', async () => {
    const root = join(work, 'stale');
    const p = await killedPull(root);
    const file = join(root, 'ingest', p.name);
    const dayAgo = (Date.now() - DAY_MS - 60_000) / 1000;
    utimesSync(file, dayAgo, dayAgo);
    ok(root, ['images', '-q']);
    assert.deepEqual(partials(root), [], 'an abandoned partial is collected by any command');

    // a partial whose blob a live operation (this process) claims stays, however old, through reap and prune
    await killedPull(root);
    const store = ImageStore.open(root);
    try {
      const lease = store.lease();
      assert.ok(claim(store.db, lease, 'ingest', layer));
      utimesSync(file, dayAgo, dayAgo);
      ok(root, ['images', '-q']);
      assert.equal(ok(root, ['image', 'prune', '-f']), 'Total reclaimed space: 0B\n');
      assert.deepEqual(partials(root), [{ name: p.name, size: STALL_AFTER }]);
      store.endLease(lease);
      assert.deepEqual(store.collectPartials(DAY_MS), { files: [layer], bytes: STALL_AFTER });
      assert.deepEqual(partials(root), []);
    } finally {
      store.close();
    }
    assertNoLeases(root);
  });
});
