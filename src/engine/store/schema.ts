// The engine's tables, in the image store's database so that a container and the image hold
// that keeps its layers alive change in one transaction. Versioned apart from the image
// store's schema (meta key "engine_schema").
import { transaction, type Db } from '../../image/store/metadata.ts';

const ENGINE_SCHEMA_VERSION = 2;

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

// version 2: networks (issue 6)
const NETWORKS = `
CREATE TABLE IF NOT EXISTS networks (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created TEXT NOT NULL,
  doc TEXT NOT NULL);         -- JSON: networks/model.ts Network
-- a container's membership of a network, in the order it joined; the addresses are held while it runs
CREATE TABLE IF NOT EXISTS endpoints (
  network TEXT NOT NULL REFERENCES networks(id) ON DELETE CASCADE,
  container TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  settings TEXT NOT NULL,     -- JSON: networks/model.ts EndpointSettings
  ip4 TEXT,
  ip6 TEXT,
  PRIMARY KEY (network, container),
  UNIQUE (network, ip4),
  UNIQUE (network, ip6));
CREATE INDEX IF NOT EXISTS endpoints_container ON endpoints(container);
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
      // another process may have upgraded between the read above and this transaction's lock
      const now = db.prepare("SELECT value FROM meta WHERE key = 'engine_schema'").get() as { value: string } | undefined;
      const version = now ? Number(now.value) : 0;
      if (version < 1) db.exec(SCHEMA);
      if (version < 2) {
        db.exec(NETWORKS);
        // the host ports a running container's published ports got (docker's NetworkSettings.Ports)
        db.exec('ALTER TABLE containers ADD COLUMN ports TEXT');
      }
      db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('engine_schema', ?)").run(String(ENGINE_SCHEMA_VERSION));
    });
  }
  ready.add(db);
  return db;
}
