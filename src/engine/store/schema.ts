// The engine's tables, in the image store's database so that a container and the image hold
// that keeps its layers alive change in one transaction. Versioned apart from the image
// store's schema (meta key "engine_schema").
import { transaction, type Db } from '../../image/store/metadata.ts';

const ENGINE_SCHEMA_VERSION = 1;

const SCHEMA = `
-- one row per container; the JSON columns hold the Docker API shapes (containers/model.ts)
CREATE TABLE IF NOT EXISTS containers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  image TEXT NOT NULL,
  created TEXT NOT NULL,
  config TEXT NOT NULL,
  host_config TEXT NOT NULL,
  state TEXT NOT NULL,
  mounts TEXT NOT NULL,
  path TEXT NOT NULL,
  args TEXT NOT NULL,
  restart_count INTEGER NOT NULL DEFAULT 0,
  shim_pid INTEGER NOT NULL DEFAULT 0,
  shim_start TEXT NOT NULL DEFAULT '',
  stopped_by_user INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS volumes (
  name TEXT PRIMARY KEY,
  driver TEXT NOT NULL,
  mountpoint TEXT NOT NULL,
  created TEXT NOT NULL,
  labels TEXT NOT NULL,       -- JSON object
  options TEXT NOT NULL,      -- JSON object (the local driver's type/device/o)
  anonymous INTEGER NOT NULL DEFAULT 0);
-- which container uses which volume: a used volume cannot be removed, and rm -v removes a container's anonymous ones
CREATE TABLE IF NOT EXISTS container_volumes (
  container TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
  volume TEXT NOT NULL REFERENCES volumes(name),
  PRIMARY KEY (container, volume));
CREATE INDEX IF NOT EXISTS container_volumes_volume ON container_volumes(volume);
`;

const ready = new WeakSet<Db>();

/** Creates or upgrades the engine's tables once per connection. */
export function ensureEngineSchema(db: Db): Db {
  if (ready.has(db)) return db;
  const row = db.prepare("SELECT value FROM meta WHERE key = 'engine_schema'").get() as { value: string } | undefined;
  const version = row ? Number(row.value) : 0;
  if (version > ENGINE_SCHEMA_VERSION) {
    throw new Error(`engine schema version ${version} is newer than this hull understands (${ENGINE_SCHEMA_VERSION})`);
  }
  if (version < ENGINE_SCHEMA_VERSION) {
    transaction(db, () => {
      db.exec(SCHEMA);
      db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('engine_schema', ?)").run(String(ENGINE_SCHEMA_VERSION));
    });
  }
  ready.add(db);
  return db;
}
