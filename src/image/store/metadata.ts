// The image store's SQLite database: the one source of truth for what the store holds.
// Files under blobs/ and snapshots/ that no row or live lease accounts for are garbage.
import { DatabaseSync } from 'node:sqlite';

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- one row per unpacked layer directory, keyed by chain ID
CREATE TABLE IF NOT EXISTS snapshots (
  chain_id TEXT PRIMARY KEY, parent TEXT, diff_id TEXT NOT NULL,
  size INTEGER NOT NULL,   -- bytes of the uncompressed layer tar
  disk INTEGER NOT NULL,   -- bytes the directory takes on disk, as du counts them
  created INTEGER NOT NULL);
-- an image is its config digest, as in docker
CREATE TABLE IF NOT EXISTS images (
  id TEXT PRIMARY KEY, manifest TEXT NOT NULL, manifest_type TEXT NOT NULL,
  os TEXT NOT NULL, architecture TEXT NOT NULL, variant TEXT,
  created TEXT, stored INTEGER NOT NULL, size INTEGER NOT NULL, top_chain TEXT);
CREATE TABLE IF NOT EXISTS image_layers (
  image TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
  chain_id TEXT NOT NULL, diff_id TEXT NOT NULL, blob TEXT, blob_type TEXT, blob_size INTEGER,
  PRIMARY KEY (image, idx));
-- every blob an image keeps alive: manifest, config, layers, and the index it came from
CREATE TABLE IF NOT EXISTS image_blobs (
  image TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE, digest TEXT NOT NULL,
  PRIMARY KEY (image, digest));
CREATE TABLE IF NOT EXISTS tags (name TEXT PRIMARY KEY, image TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE, updated INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS repo_digests (name TEXT PRIMARY KEY, image TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);
-- users of an image outside the image layer (containers): they keep its snapshots alive
CREATE TABLE IF NOT EXISTS holds (holder TEXT PRIMARY KEY, image TEXT NOT NULL, chain_id TEXT);
-- a running operation (pull, push, load, rmi) and what it is making; a lease whose process died is reaped
CREATE TABLE IF NOT EXISTS leases (id TEXT PRIMARY KEY, pid INTEGER NOT NULL, pid_start TEXT NOT NULL, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS lease_resources (
  lease TEXT NOT NULL REFERENCES leases(id) ON DELETE CASCADE, kind TEXT NOT NULL, key TEXT NOT NULL,
  PRIMARY KEY (kind, key, lease));
CREATE INDEX IF NOT EXISTS image_layers_chain ON image_layers(chain_id);
CREATE INDEX IF NOT EXISTS image_blobs_digest ON image_blobs(digest);
CREATE INDEX IF NOT EXISTS tags_image ON tags(image);
`;

export type Db = DatabaseSync;

export function openMetadata(file: string): Db {
  const db = new DatabaseSync(file, { timeout: 30_000 });
  // WAL lets readers run beside one writer; NORMAL sync survives a killed process (not a power cut mid-commit).
  // A hull command exits without closing (src/cli/bin.ts), leaving the WAL for the next opener
  // to take over: checkpointing every 100 pages (not 1000) keeps that read under ~0.5 MB.
  enterWal(db);
  db.exec('PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 100;');
  const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  if (version > SCHEMA_VERSION) {
    db.close();
    throw new Error(`image store ${file}: schema version ${version} is newer than this hull understands (${SCHEMA_VERSION})`);
  }
  if (version < SCHEMA_VERSION) {
    transaction(db, () => {
      db.exec(SCHEMA);
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    });
  }
  return db;
}

const SQLITE_BUSY = 5;
const BUSY_WAIT_MS = 30_000;

/**
 * Switches the database to WAL. SQLite answers "database is locked" at once, without its busy
 * handler, when another process holds the new database's lock at that moment (two commands
 * opening a store for the first time), so the switch is retried for as long as a busy statement
 * would wait.
 */
function enterWal(db: Db): void {
  const deadline = Date.now() + BUSY_WAIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    try {
      db.exec('PRAGMA journal_mode = WAL');
      return;
    } catch (e) {
      if ((e as { errcode?: number }).errcode !== SQLITE_BUSY || Date.now() > deadline) throw e;
      Atomics.wait(pause, 0, 0, wait);
    }
  }
}

/** Runs fn in a write transaction taken up front, so two processes never deadlock upgrading a read lock. */
export function transaction<T>(db: Db, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}
