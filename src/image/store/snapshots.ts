// Overlay snapshots: one directory per layer, named by the layer's chain ID, so that each layer
// unpacks on its own (in parallel) and is shared by every image whose layers start the same way.
import { createHash } from '../../crypto.ts';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { heldByOther, type Lease } from './leases.ts';
import { transaction, type Db } from './metadata.ts';

export interface Snapshot {
  chainId: string;
  parent: string | null;
  diffId: string;
  size: number;
  disk: number;
}

/** The chain IDs of an image's layers: the first is its diff ID, each next one hashes "parent diffID". */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const parent = out.at(-1);
    out.push(parent === undefined ? diffId : 'sha256:' + createHash('sha256').update(`${parent} ${diffId}`).digest('hex'));
  }
  return out;
}

export class SnapshotStore {
  readonly root: string;
  private readonly db: Db;

  constructor(root: string, db: Db) {
    this.root = root;
    this.db = db;
  }

  dir(chainId: string): string {
    return join(this.root, 'snapshots', chainId.slice(chainId.indexOf(':') + 1));
  }

  get(chainId: string): Snapshot | undefined {
    const row = this.db.prepare('SELECT chain_id, parent, diff_id, size, disk FROM snapshots WHERE chain_id = ?').get(chainId) as
      | { chain_id: string; parent: string | null; diff_id: string; size: number; disk: number }
      | undefined;
    return row && { chainId: row.chain_id, parent: row.parent, diffId: row.diff_id, size: row.size, disk: row.disk };
  }

  /**
   * Claims for the lease the snapshots of chainIds: those that do not exist yet all at once, so
   * that while another live lease is making any of them it claims none and waits (claimed one at
   * a time, two pulls of one image could each hold a layer the other waited for, for ever), and
   * those that exist where no other lease holds them, so that no GC takes them meanwhile.
   * Returns the chain IDs the caller is to make.
   */
  async acquireAll(lease: Lease, chainIds: string[], signal?: AbortSignal): Promise<Set<string>> {
    const unique = [...new Set(chainIds)];
    for (;;) {
      const mine = transaction(this.db, () => {
        const missing = unique.filter((c) => !this.get(c));
        const free = unique.filter((c) => !heldByOther(this.db, 'snapshot', c, lease.id));
        if (missing.some((c) => !free.includes(c))) return undefined;
        const insert = this.db.prepare('INSERT OR IGNORE INTO lease_resources (lease, kind, key) VALUES (?, ?, ?)');
        for (const c of free) insert.run(lease.id, 'snapshot', c);
        return new Set(missing);
      });
      if (mine) return mine;
      await sleep(50, undefined, { signal });
    }
  }

  /** Where the lease unpacks a layer before it is committed (it must not exist yet). */
  scratch(lease: Lease, chainId: string): string {
    const dir = join(this.root, 'tmp', lease.id);
    mkdirSync(dir, { recursive: true });
    return join(dir, 'snapshot-' + chainId.slice(chainId.indexOf(':') + 1, 20));
  }

  /** Moves an unpacked scratch directory, of `disk` bytes on disk, into place and records it. */
  commit(chainId: string, parent: string | null, diffId: string, size: number, disk: number, scratch: string): Snapshot {
    const dir = this.dir(chainId);
    // a directory without a row is what a killed run left between the rename and the insert
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(this.root, 'snapshots'), { recursive: true });
    renameSync(scratch, dir);
    const snap: Snapshot = { chainId, parent, diffId, size, disk };
    this.db
      .prepare('INSERT OR REPLACE INTO snapshots (chain_id, parent, diff_id, size, disk, created) VALUES (?, ?, ?, ?, ?, ?)')
      .run(chainId, parent, diffId, size, snap.disk, Date.now());
    return snap;
  }

  /** Lower directories for an overlay mount of chainId, top layer first. */
  lowerDirs(chainId: string): string[] {
    const dirs: string[] = [];
    for (let c: string | null = chainId; c; ) {
      const s = this.get(c);
      if (!s) throw new Error(`snapshot ${c} is missing from the image store`);
      dirs.push(this.dir(c));
      c = s.parent;
    }
    return dirs;
  }
}
