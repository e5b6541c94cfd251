// The networks and endpoints tables: rows <-> Network records, and docker's ways of naming one.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes } from '../../crypto.ts';
import { type Db } from '../../image/store/metadata.ts';
import { ensureEngineSchema } from '../store/schema.ts';
import type { EngineRoots } from '../containers/paths.ts';
import { emptyEndpoint, type EndpointSettings, type Network } from './model.ts';

export class NoSuchNetwork extends Error {
  constructor(ref: string) {
    super(`network ${ref} not found`);
  }
}

export interface Endpoint {
  network: string;
  container: string;
  seq: number;
  settings: EndpointSettings;
  ip4: string | null;
  ip6: string | null;
}

interface EndpointRow { network: string; container: string; seq: number; settings: string; ip4: string | null; ip6: string | null }

const fromEndpointRow = (r: EndpointRow): Endpoint => ({ ...r, settings: JSON.parse(r.settings) });

export const PREDEFINED = ['bridge', 'host', 'none'];

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function checkNetworkName(name: string): string {
  if (!NAME.test(name) || name.length > 128) throw new Error(`invalid network name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name;
}

export function newNetworkId(): string {
  for (;;) {
    const id = randomBytes(32).toString('hex');
    if (!/^\d{12}/.test(id)) return id;
  }
}

const TAG_FILE = 'network-tag';

/**
 * What keeps two state roots on one host apart in the host's shared namespaces (link names, the
 * firewall table): nothing for the default root, a short sha256 of the root path for any other.
 * The hash is kept in the root (with the path it is of: a copied root gets its own) so that a
 * start on a network need not load node:crypto (~5 ms) for it.
 */
export function rootTag(roots: EngineRoots): string {
  if (roots.root === '/var/lib/hull') return '';
  const file = join(roots.root, TAG_FILE);
  try {
    const [tag, ...path] = readFileSync(file, 'utf8').split(' ');
    if (/^[0-9a-f]{6}$/.test(tag!) && path.join(' ') === `${roots.root}\n`) return tag!;
  } catch {
    // not kept yet
  }
  const tag = createHash('sha256').update(roots.root).digest('hex').slice(0, 6);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${tag} ${roots.root}\n`, { mode: 0o644 });
    renameSync(tmp, file);
  } catch {
    // a root not yet made, or read-only: computed again next time
    rmSync(tmp, { force: true });
  }
  return tag;
}

export class NetworkStore {
  readonly db: Db;
  constructor(db: Db) {
    this.db = ensureEngineSchema(db);
  }

  list(): Network[] {
    return (this.db.prepare('SELECT doc FROM networks ORDER BY created, rowid').all() as { doc: string }[]).map((r) => JSON.parse(r.doc));
  }

  get(id: string): Network | undefined {
    const r = this.db.prepare('SELECT doc FROM networks WHERE id = ?').get(id) as { doc: string } | undefined;
    return r && JSON.parse(r.doc);
  }

  byName(name: string): Network | undefined {
    const r = this.db.prepare('SELECT doc FROM networks WHERE name = ?').get(name) as { doc: string } | undefined;
    return r && JSON.parse(r.doc);
  }

  /** docker's lookup order: full id, exact name, then a unique id prefix. */
  find(ref: string): Network {
    const found = this.get(ref) ?? this.byName(ref);
    if (found) return found;
    if (/^[0-9a-f]+$/.test(ref)) {
      const rows = this.db.prepare("SELECT doc FROM networks WHERE id LIKE ? || '%'").all(ref) as { doc: string }[];
      if (rows.length > 1) throw new Error(`network ${ref} is ambiguous (${rows.length} matches found based on ID prefix)`);
      if (rows.length === 1) return JSON.parse(rows[0]!.doc);
    }
    throw new NoSuchNetwork(ref);
  }

  /** Inserts n; runs inside the caller's transaction if there is one. */
  insert(n: Network): void {
    if (this.byName(n.Name)) throw new Error(`network with name ${n.Name} already exists`);
    this.db.prepare('INSERT INTO networks (id, name, created, doc) VALUES (?, ?, ?, ?)').run(n.Id, n.Name, n.Created, JSON.stringify(n));
  }

  update(n: Network): void {
    this.db.prepare('UPDATE networks SET doc = ? WHERE id = ?').run(JSON.stringify(n), n.Id);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM networks WHERE id = ?').run(id);
  }

  endpoints(networkId: string): Endpoint[] {
    return (this.db.prepare('SELECT * FROM endpoints WHERE network = ? ORDER BY seq').all(networkId) as unknown as EndpointRow[]).map(fromEndpointRow);
  }

  /** A container's networks, in the order it joined them (eth0 first). */
  containerEndpoints(containerId: string): Endpoint[] {
    return (this.db.prepare('SELECT * FROM endpoints WHERE container = ? ORDER BY seq').all(containerId) as unknown as EndpointRow[]).map(fromEndpointRow);
  }

  /** Joins a container to a network (not yet addressed); runs inside the caller's transaction if there is one. */
  addEndpoint(networkId: string, containerId: string, settings: Partial<EndpointSettings>): void {
    const seq = (this.db.prepare('SELECT COALESCE(MAX(seq), -1) + 1 AS n FROM endpoints WHERE container = ?').get(containerId) as { n: number }).n;
    const s = { ...emptyEndpoint(networkId), ...settings, NetworkID: networkId };
    this.db.prepare('INSERT INTO endpoints (network, container, seq, settings) VALUES (?, ?, ?, ?)').run(networkId, containerId, seq, JSON.stringify(s));
  }

  removeEndpoint(networkId: string, containerId: string): void {
    this.db.prepare('DELETE FROM endpoints WHERE network = ? AND container = ?').run(networkId, containerId);
  }

  /** Records (or with nulls, releases) the addresses an endpoint holds; the table's UNIQUE keys refuse a taken one. */
  setAddresses(e: Endpoint): void {
    this.db.prepare('UPDATE endpoints SET ip4 = ?, ip6 = ?, settings = ? WHERE network = ? AND container = ?')
      .run(e.ip4, e.ip6, JSON.stringify(e.settings), e.network, e.container);
  }
}
