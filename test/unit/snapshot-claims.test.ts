// Snapshot claims between two operations on one store: the layers an image lacks are claimed all
// at once or not at all, so that two pulls of one image never each hold a layer the other waits for.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLease, type Lease } from '../../src/image/store/leases.ts';
import { openMetadata } from '../../src/image/store/metadata.ts';
import { SnapshotStore } from '../../src/image/store/snapshots.ts';

test('a lease waits, holding none, while another makes any layer it lacks, and then claims the rest', async () => {
  const root = mkdtempSync(join(tmpdir(), 'hull-claims-'));
  try {
    const db = openMetadata(join(root, 'images.db'));
    const snapshots = new SnapshotStore(root, db);
    const held = (lease: Lease) => (db.prepare("SELECT key FROM lease_resources WHERE lease = ? AND kind = 'snapshot' ORDER BY key").all(lease.id) as { key: string }[]).map((r) => r.key);
    const a = createLease(db);
    const b = createLease(db);

    assert.deepEqual([...(await snapshots.acquireAll(a, ['sha256:1', 'sha256:2']))].sort(), ['sha256:1', 'sha256:2']);
    let got: Set<string> | undefined;
    const waiting = snapshots.acquireAll(b, ['sha256:2', 'sha256:3']).then((s) => (got = s));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(got, undefined, 'b must wait while a makes sha256:2');
    assert.deepEqual(held(b), [], 'b must hold nothing while it waits, not even sha256:3');

    // a finishes sha256:2; it still holds its claims until its lease ends
    db.prepare("INSERT INTO snapshots (chain_id, parent, diff_id, size, disk, created) VALUES ('sha256:2', NULL, 'sha256:2', 0, 0, 0)").run();
    await waiting;
    assert.deepEqual([...got!], ['sha256:3'], 'b makes only what does not exist');
    assert.deepEqual(held(b), ['sha256:3'], 'what a holds stays a\'s');
    assert.deepEqual(held(a), ['sha256:1', 'sha256:2']);
    db.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
