// The image store: content, snapshots and the metadata that ties them into images and tags.
// Every operation that makes something runs under a lease; whatever a killed operation left is
// found through its dead lease and reclaimed by the next command that opens the store.
import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ContentStore, digestOfPartial } from './content.ts';
import { createLease, deadLeases, dropLease, heldByOther, resourcesOf, type Lease } from './leases.ts';
import { openMetadata, transaction, type Db } from './metadata.ts';
import { SnapshotStore } from './snapshots.ts';

export interface ImageLayer {
  chainId: string;
  diffId: string;
  /** The compressed blob this layer came as, when the store has it (for push and save). */
  blob: string | null;
  blobType: string | null;
  blobSize: number | null;
}

export interface NewImage {
  id: string;
  manifest: string;
  manifestType: string;
  os: string;
  architecture: string;
  variant?: string | undefined;
  created?: string | undefined;
  layers: ImageLayer[];
  /** Every blob the image keeps: config, manifest, layers, the index it came from. */
  blobs: string[];
  tags: string[];
  repoDigests: string[];
}

export interface ImageRecord {
  id: string;
  manifest: string;
  manifestType: string;
  os: string;
  architecture: string;
  variant: string | null;
  created: string | null;
  stored: number;
  /** Bytes of the uncompressed layers, as docker reports an image's size. */
  size: number;
  topChain: string | null;
  tags: string[];
  repoDigests: string[];
}

/** A partial download no one resumes for this long is taken to be abandoned. */
export const PARTIAL_MAX_AGE_MS = 24 * 60 * 60 * 1000;

export interface GcResult {
  blobs: string[];
  snapshots: string[];
  bytes: number;
}

export class ImageStore {
  readonly root: string;
  readonly db: Db;
  readonly content: ContentStore;
  readonly snapshots: SnapshotStore;

  private constructor(root: string, db: Db) {
    this.root = root;
    this.db = db;
    this.content = new ContentStore(root, db);
    this.snapshots = new SnapshotStore(root, db);
  }

  /** Opens (creating) the store under root and reclaims what killed operations left. */
  static open(root: string): ImageStore {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const store = new ImageStore(root, openMetadata(join(root, 'images.db')));
    store.reap();
    return store;
  }

  close(): void {
    this.db.close();
  }

  lease(): Lease {
    return createLease(this.db);
  }

  /**
   * Ends an operation. What it made and nothing committed (an image) or another lease holds is
   * deleted; an operation that committed everything it claimed needs no collection.
   */
  endLease(lease: Lease): GcResult {
    const leftovers = resourcesOf(this.db, lease.id).length > 0;
    // scratch first: on a full disk the database write below may fail, and must not strand it
    rmSync(join(this.root, 'tmp', lease.id), { recursive: true, force: true });
    dropLease(this.db, lease.id);
    return leftovers ? this.gc() : { blobs: [], snapshots: [], bytes: 0 };
  }

  /**
   * Reclaims the leftovers of operations whose process died, and partial downloads abandoned for
   * a day. A younger partial stays, so that the next pull of a killed one resumes it.
   */
  reap(): void {
    this.collectPartials(PARTIAL_MAX_AGE_MS);
    const dead = deadLeases(this.db);
    if (dead.length === 0) return;
    for (const id of dead) {
      dropLease(this.db, id);
      rmSync(join(this.root, 'tmp', id), { recursive: true, force: true });
    }
    this.gc();
  }

  /**
   * Deletes the partial downloads under ingest/ that no live operation is writing (none holds
   * their ingest claim) and, with olderThanMs, that were last written longer ago than that.
   */
  collectPartials(olderThanMs?: number): { files: string[]; bytes: number } {
    const dir = join(this.root, 'ingest');
    const out = { files: [] as string[], bytes: 0 };
    const cutoff = olderThanMs === undefined ? Infinity : Date.now() - olderThanMs;
    const stale = (name: string) => {
      try {
        const st = lstatSync(join(dir, name));
        return st.mtimeMs <= cutoff ? st : undefined;
      } catch {
        return undefined;
      }
    };
    // every command opens the store: look without a lock first, as there is rarely anything to do
    const candidates = existsSync(dir) ? readdirSync(dir).filter((n) => stale(n)) : [];
    if (candidates.length === 0) return out;
    // look again and delete in one write transaction: an ingest claims its blob in one too, so it
    // either holds the claim before this looks (and its partial stays) or finds no partial
    transaction(this.db, () => {
      for (const name of candidates) {
        const st = stale(name);
        const digest = digestOfPartial(name);
        if (!st || heldByOther(this.db, 'ingest', digest)) continue;
        rmSync(join(dir, name), { recursive: true, force: true });
        out.files.push(digest);
        out.bytes += st.isFile() ? st.size : 0;
      }
    });
    return out;
  }

  commitImage(lease: Lease, image: NewImage): void {
    const size = image.layers.reduce((n, l) => n + (this.snapshots.get(l.chainId)?.size ?? 0), 0);
    transaction(this.db, () => {
      for (const l of image.layers) {
        if (!this.snapshots.get(l.chainId)) throw new Error(`image ${image.id}: layer ${l.chainId} is not in the store`);
      }
      for (const b of image.blobs) {
        if (!this.content.has(b)) throw new Error(`image ${image.id}: blob ${b} is not in the store`);
      }
      const now = Date.now();
      this.db.prepare('DELETE FROM image_layers WHERE image = ?').run(image.id);
      this.db
        .prepare(
          `INSERT INTO images (id, manifest, manifest_type, os, architecture, variant, created, stored, size, top_chain)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET manifest = excluded.manifest, manifest_type = excluded.manifest_type, size = excluded.size`,
        )
        .run(image.id, image.manifest, image.manifestType, image.os, image.architecture, image.variant ?? null, image.created ?? null, now, size, image.layers.at(-1)?.chainId ?? null);
      const layer = this.db.prepare('INSERT INTO image_layers (image, idx, chain_id, diff_id, blob, blob_type, blob_size) VALUES (?, ?, ?, ?, ?, ?, ?)');
      image.layers.forEach((l, i) => layer.run(image.id, i, l.chainId, l.diffId, l.blob, l.blobType, l.blobSize));
      const blob = this.db.prepare('INSERT OR IGNORE INTO image_blobs (image, digest) VALUES (?, ?)');
      for (const b of image.blobs) blob.run(image.id, b);
      const tag = this.db.prepare('INSERT INTO tags (name, image, updated) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET image = excluded.image, updated = excluded.updated');
      for (const t of image.tags) tag.run(t, image.id, now);
      const digest = this.db.prepare('INSERT INTO repo_digests (name, image) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET image = excluded.image');
      for (const d of image.repoDigests) digest.run(d, image.id);
      this.db.prepare('DELETE FROM lease_resources WHERE lease = ?').run(lease.id);
    });
  }

  list(): ImageRecord[] {
    const rows = this.db.prepare('SELECT * FROM images ORDER BY stored DESC, id').all() as unknown as ImageRow[];
    const tags = groupBy(this.db.prepare('SELECT name, image FROM tags ORDER BY name').all() as { name: string; image: string }[]);
    const digests = groupBy(this.db.prepare('SELECT name, image FROM repo_digests ORDER BY name').all() as { name: string; image: string }[]);
    return rows.map((r) => toRecord(r, tags.get(r.id) ?? [], digests.get(r.id) ?? []));
  }

  get(id: string): ImageRecord | undefined {
    const row = this.db.prepare('SELECT * FROM images WHERE id = ?').get(id) as unknown as ImageRow | undefined;
    if (!row) return undefined;
    const names = (table: string) => (this.db.prepare(`SELECT name FROM ${table} WHERE image = ? ORDER BY name`).all(id) as { name: string }[]).map((r) => r.name);
    return toRecord(row, names('tags'), names('repo_digests'));
  }

  layers(id: string): ImageLayer[] {
    const rows = this.db.prepare('SELECT chain_id, diff_id, blob, blob_type, blob_size FROM image_layers WHERE image = ? ORDER BY idx').all(id) as {
      chain_id: string;
      diff_id: string;
      blob: string | null;
      blob_type: string | null;
      blob_size: number | null;
    }[];
    return rows.map((r) => ({ chainId: r.chain_id, diffId: r.diff_id, blob: r.blob, blobType: r.blob_type, blobSize: r.blob_size }));
  }

  /** The image a full tag or repo@digest name points at. */
  byName(name: string): string | undefined {
    const table = name.includes('@') ? 'repo_digests' : 'tags';
    return (this.db.prepare(`SELECT image FROM ${table} WHERE name = ?`).get(name) as { image: string } | undefined)?.image;
  }

  /** Images whose ID starts with the hex prefix (with or without "sha256:"). */
  byIdPrefix(prefix: string): string[] {
    const full = prefix.startsWith('sha256:') ? prefix : 'sha256:' + prefix;
    return (this.db.prepare("SELECT id FROM images WHERE substr(id, 1, ?) = ?").all(full.length, full) as { id: string }[]).map((r) => r.id);
  }

  tag(id: string, name: string): void {
    this.db.prepare('INSERT INTO tags (name, image, updated) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET image = excluded.image, updated = excluded.updated').run(name, id, Date.now());
  }

  /** Removes a tag or repo digest; returns whether it existed. */
  untag(name: string): boolean {
    const table = name.includes('@') ? 'repo_digests' : 'tags';
    return Number(this.db.prepare(`DELETE FROM ${table} WHERE name = ?`).run(name).changes) > 0;
  }

  /** Records that the image is known in a registry repository as repo@digest (after a push). */
  addRepoDigest(name: string, imageId: string): void {
    this.db.prepare('INSERT OR REPLACE INTO repo_digests (name, image) VALUES (?, ?)').run(name, imageId);
  }

  /** Every blob the image keeps alive. */
  blobsOf(imageId: string): string[] {
    return (this.db.prepare('SELECT digest FROM image_blobs WHERE image = ?').all(imageId) as { digest: string }[]).map((r) => r.digest);
  }

  /** repo@digest names of images that keep this blob: where a push can mount it from. */
  repoDigestsWithBlob(digest: string): string[] {
    return (this.db.prepare('SELECT d.name FROM repo_digests d JOIN image_blobs b ON b.image = d.image WHERE b.digest = ?').all(digest) as { name: string }[]).map((r) => r.name);
  }

  /** Records that holder (a container) uses the image and its top snapshot. */
  hold(holder: string, imageId: string, chainId: string | null): void {
    this.db.prepare('INSERT OR REPLACE INTO holds (holder, image, chain_id) VALUES (?, ?, ?)').run(holder, imageId, chainId);
  }

  unhold(holder: string): void {
    this.db.prepare('DELETE FROM holds WHERE holder = ?').run(holder);
  }

  holders(imageId: string): string[] {
    return (this.db.prepare('SELECT holder FROM holds WHERE image = ? ORDER BY holder').all(imageId) as { holder: string }[]).map((r) => r.holder);
  }

  /** Deletes the image record (tags and digests go with it); its content goes at the next gc. */
  deleteImage(id: string): void {
    transaction(this.db, () => {
      this.db.prepare('DELETE FROM tags WHERE image = ?').run(id);
      this.db.prepare('DELETE FROM repo_digests WHERE image = ?').run(id);
      this.db.prepare('DELETE FROM images WHERE id = ?').run(id);
    });
  }

  /**
   * Deletes every blob and snapshot that no image, holder or live lease references, and
   * directories no row accounts for. Rows and files go inside one transaction (directories are
   * renamed into a trash first), so a concurrent operation never sees a row without its files.
   */
  gc(): GcResult {
    const trash = join(this.root, 'tmp', 'trash-' + process.pid + '-' + Date.now());
    const result: GcResult = { blobs: [], snapshots: [], bytes: 0 };
    transaction(this.db, () => {
      const live = new Set((this.db.prepare('SELECT DISTINCT chain_id FROM image_layers').all() as { chain_id: string }[]).map((r) => r.chain_id));
      for (const h of this.db.prepare('SELECT chain_id FROM holds WHERE chain_id IS NOT NULL').all() as { chain_id: string }[]) {
        for (let c: string | null = h.chain_id; c && !live.has(c); c = this.snapshots.get(c)?.parent ?? null) live.add(c);
      }
      const rows = this.db.prepare('SELECT chain_id, disk FROM snapshots').all() as { chain_id: string; disk: number }[];
      const known = new Set(rows.map((r) => this.snapshots.dir(r.chain_id)));
      for (const r of rows) {
        if (live.has(r.chain_id) || heldByOther(this.db, 'snapshot', r.chain_id)) continue;
        this.db.prepare('DELETE FROM snapshots WHERE chain_id = ?').run(r.chain_id);
        known.delete(this.snapshots.dir(r.chain_id));
        moveToTrash(this.snapshots.dir(r.chain_id), trash);
        result.snapshots.push(r.chain_id);
        result.bytes += r.disk;
      }
      const snapRoot = join(this.root, 'snapshots');
      for (const name of existsSync(snapRoot) ? readdirSync(snapRoot) : []) {
        const dir = join(snapRoot, name);
        if (!known.has(dir) && !heldByOther(this.db, 'snapshot', 'sha256:' + name)) moveToTrash(dir, trash);
      }
      const referenced = new Set((this.db.prepare('SELECT DISTINCT digest FROM image_blobs').all() as { digest: string }[]).map((r) => r.digest));
      for (const algorithm of ['sha256', 'sha512']) {
        const dir = join(this.root, 'blobs', algorithm);
        for (const hex of existsSync(dir) ? readdirSync(dir) : []) {
          const digest = `${algorithm}:${hex}`;
          if (referenced.has(digest) || heldByOther(this.db, 'blob', digest)) continue;
          const path = join(dir, hex);
          result.bytes += this.content.size(digest);
          rmSync(path, { force: true });
          result.blobs.push(digest);
        }
      }
    });
    rmSync(trash, { recursive: true, force: true });
    return result;
  }
}

function moveToTrash(dir: string, trash: string): void {
  if (!existsSync(dir)) return;
  mkdirSync(trash, { recursive: true });
  renameSync(dir, join(trash, dir.slice(dir.lastIndexOf('/') + 1)));
}

interface ImageRow {
  id: string;
  manifest: string;
  manifest_type: string;
  os: string;
  architecture: string;
  variant: string | null;
  created: string | null;
  stored: number;
  size: number;
  top_chain: string | null;
}

function toRecord(r: ImageRow, tags: string[], repoDigests: string[]): ImageRecord {
  return {
    id: r.id,
    manifest: r.manifest,
    manifestType: r.manifest_type,
    os: r.os,
    architecture: r.architecture,
    variant: r.variant,
    created: r.created,
    stored: r.stored,
    size: r.size,
    topChain: r.top_chain,
    tags,
    repoDigests,
  };
}

function groupBy(rows: { name: string; image: string }[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const r of rows) m.set(r.image, [...(m.get(r.image) ?? []), r.name]);
  return m;
}
