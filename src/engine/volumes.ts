// Named and anonymous volumes with docker's local driver: a directory <root>/volumes/<name>/_data,
// or, for a volume created with options (type/device/o), a filesystem mounted there while a
// container uses it. The rows live in the engine's `volumes` table; which container uses which
// volume is `container_volumes`, so a used volume cannot be removed. Every change runs under the
// database's write lock (or the caller's transaction), so two hull processes never make, mount or
// remove the same volume at once.
import { randomBytes } from '../crypto.ts';
import { chmodSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { transaction, type Db } from '../image/store/metadata.ts';
import { diskUsage } from '../image/store/disk-usage.ts';
import { processStart, sameProcess } from '../sys/proc.ts';
import { ensureEngineSchema } from './store/schema.ts';
import { ConflictError, NotFoundError } from './images.ts';
import { copyTree } from './volumes/copy-up.ts';
import { allFilter, boolFilter, checkKeys, LIST_FILTERS, matchLabels, matchName, PRUNE_FILTERS, type Filters } from './volumes/filters.ts';
import { InvalidVolumeError, mountCount, mountLocal, mountsUnder, needsMount, unmountAll, validateLocalOptions } from './volumes/local-driver.ts';

export { InvalidVolumeError };

export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  Scope: 'local';
  Anonymous: boolean;
}

export class VolumeNotFoundError extends NotFoundError {
  override name = 'VolumeNotFoundError';
}
export class VolumeInUseError extends ConflictError {
  override name = 'VolumeInUseError';
  readonly containers: string[];
  constructor(message: string, containers: string[]) {
    super(message);
    this.containers = containers;
  }
}

/** The label docker (23 and later) puts on volumes made without a name; prune takes only these unless --all. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
export const LOCAL_DRIVER = 'local';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const NAME_CHARS = '[a-zA-Z0-9][a-zA-Z0-9_.-]';
const DATA = '_data';
// A removed volume's directory is renamed to this (plus pid, start time and a random part) under
// the lock and deleted after it, so a big volume never holds the lock while it is deleted.
const TRASH = '.removing-';
// A copy-up is made in a hidden directory inside the volume and moved into place under the lock.
const COPY = '.hull-copyup-';

interface Row {
  name: string;
  driver: string;
  mountpoint: string;
  created: string;
  labels: string;
  options: string;
  anonymous: number;
}

export interface CreateVolume {
  name?: string;
  driver?: string;
  labels?: Record<string, string>;
  options?: Record<string, string>;
  /** Defaults to true when no name is given, as docker does. */
  anonymous?: boolean;
}

export class VolumeStore {
  private readonly db: Db;
  /** <root>/volumes, resolved through symlinks, as mountinfo names it. */
  readonly dir: string;

  constructor(db: Db, root: string) {
    this.db = ensureEngineSchema(db);
    const dir = join(resolve(root), 'volumes');
    mkdirSync(dir, { recursive: true, mode: 0o701 });
    this.dir = realpathSync(dir);
  }

  create(o: CreateVolume = {}): Volume {
    const name = o.name || randomBytes(32).toString('hex');
    const driver = o.driver || LOCAL_DRIVER;
    const anonymous = o.anonymous ?? !o.name;
    if (driver !== LOCAL_DRIVER) {
      throw new VolumeNotFoundError(`create ${name}: error looking up volume plugin ${driver}: plugin ${JSON.stringify(driver)} not found`);
    }
    return this.locked(() => {
      const existing = this.row(name);
      if (existing) return toVolume(existing);
      checkName('create', name);
      const options = { ...o.options };
      try {
        validateLocalOptions(options);
      } catch (err) {
        throw new InvalidVolumeError(`create ${name}: ${(err as Error).message}`);
      }
      const labels = { ...o.labels };
      if (anonymous) labels[ANONYMOUS_LABEL] ??= '';
      this.sweep();
      const root = join(this.dir, name);
      const data = join(root, DATA);
      const created = rfc3339(new Date());
      // only something mounted survives the sweep; never adopt or delete it
      if (existsSync(root)) throw new Error(`create ${name}: volume already exists under ${root}`);
      let made = false;
      try {
        makeDir(root, 0o701, 'root');
        made = true;
        makeDir(data, 0o755, 'data');
        this.db
          .prepare('INSERT INTO volumes (name, driver, mountpoint, created, labels, options, anonymous) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(name, driver, data, created, JSON.stringify(labels), JSON.stringify(options), anonymous ? 1 : 0);
      } catch (err) {
        if (made) rmSync(root, { recursive: true, force: true });
        throw new Error(`create ${name}: ${(err as Error).message}`, { cause: err });
      }
      return { Name: name, Driver: driver, Mountpoint: data, CreatedAt: created, Labels: labels, Options: options, Scope: 'local', Anonymous: anonymous };
    });
  }

  get(name: string): Volume {
    const row = this.row(name);
    if (!row) throw new VolumeNotFoundError(`get ${name}: no such volume`);
    return toVolume(row);
  }

  /** Volumes by name; filters are docker's: dangling, name (exact or a pattern), label (k or k=v), driver. */
  list(filters: Filters = {}): Volume[] {
    checkKeys(filters, LIST_FILTERS);
    const dangling = boolFilter(filters, 'dangling');
    const used = this.usedNames();
    return this.rows()
      .filter((r) => !filters.driver || filters.driver.includes(r.driver))
      .filter((r) => matchName(filters.name, r.name))
      .map(toVolume)
      .filter((v) => matchLabels(filters.label, v.Labels))
      .filter((v) => dangling === undefined || dangling !== used.has(v.Name));
  }

  /** The containers that use the volume, in the order they took it. */
  usedBy(name: string): string[] {
    return (this.db.prepare('SELECT container FROM container_volumes WHERE volume = ? ORDER BY rowid').all(name) as { container: string }[]).map((r) => r.container);
  }

  /**
   * Removes the volume and its data. A volume a container uses is refused even with force, as
   * docker does; force only makes a missing volume no error. A mounted options volume is
   * unmounted first, and nothing is deleted while anything stays mounted inside it.
   */
  remove(name: string, force = false): void {
    if (!NAME.test(name)) {
      if (force) return;
      throw new VolumeNotFoundError(`get ${name}: no such volume`);
    }
    const trash = this.locked(() => {
      if (!this.row(name)) {
        if (force) return undefined;
        throw new VolumeNotFoundError(`get ${name}: no such volume`);
      }
      const users = this.usedBy(name);
      if (users.length > 0) throw new VolumeInUseError(`remove ${name}: volume is in use - [${users.join(', ')}]`, users);
      const root = join(this.dir, name);
      try {
        unmountAll(join(root, DATA));
        const left = mountsUnder(root);
        if (left.length > 0) throw new Error(`unable to remove volume: still mounted at ${left.join(', ')}`);
      } catch (err) {
        throw new Error(`remove ${name}: ${(err as Error).message}`, { cause: err });
      }
      this.db.prepare('DELETE FROM volumes WHERE name = ?').run(name);
      if (!existsSync(root)) return undefined;
      const to = join(this.dir, `${TRASH}${process.pid}-${processStart(process.pid) ?? 0}-${randomBytes(4).toString('hex')}`);
      renameSync(root, to);
      return to;
    });
    if (trash) rmSync(trash, { recursive: true, force: true });
  }

  /**
   * Removes the volumes no container uses: with all, every one; otherwise only anonymous ones
   * (docker 23 and later). Volumes with driver options are never pruned (they may be a bind of
   * host data or a network share), as in docker. Filters: label, label!, all.
   */
  prune(o: { all: boolean; filters?: Filters }): { removed: string[]; spaceReclaimed: number } {
    const filters = o.filters ?? {};
    checkKeys(filters, PRUNE_FILTERS);
    const everything = allFilter(filters) || o.all;
    const wanted = [...(filters.label ?? []), ...(everything ? [] : [ANONYMOUS_LABEL])];
    const unwanted = filters['label!'];
    const used = this.usedNames();
    const candidates = this.rows()
      .map(toVolume)
      .filter((v) => v.Driver === LOCAL_DRIVER && !used.has(v.Name) && Object.keys(v.Options).length === 0)
      .filter((v) => matchLabels(wanted, v.Labels))
      .filter((v) => !unwanted || !matchLabels(unwanted, v.Labels));
    const removed: string[] = [];
    let spaceReclaimed = 0;
    for (const v of candidates) {
      let size = 0;
      try {
        size = this.size(v.Name);
      } catch {
        // docker prunes a volume whose size it cannot tell, and counts it as 0
      }
      try {
        this.remove(v.Name);
      } catch {
        continue; // taken by a container since the list was made, or already gone
      }
      removed.push(v.Name);
      spaceReclaimed += size;
    }
    this.locked(() => this.sweep());
    return { removed, spaceReclaimed };
  }

  /** Inside the caller's transaction: record that a container uses the volume. */
  attach(containerId: string, name: string): void {
    if (!this.row(name)) throw new VolumeNotFoundError(`get ${name}: no such volume`);
    this.db.prepare('INSERT OR IGNORE INTO container_volumes (container, volume) VALUES (?, ?)').run(containerId, name);
  }

  /**
   * Makes the volume usable and returns its host path. A volume with driver options is mounted
   * on its _data directory the first time (later calls find it mounted); a plain volume is its
   * _data directory. A failed mount leaves nothing mounted.
   */
  activate(name: string): string {
    return this.locked(() => {
      const v = this.get(name);
      // deleted behind hull's back: give the container an empty volume rather than fail
      if (!existsSync(join(v.Mountpoint, '..'))) makeDir(join(v.Mountpoint, '..'), 0o701, 'root');
      if (!existsSync(v.Mountpoint)) makeDir(v.Mountpoint, 0o755, 'data');
      if (!needsMount(v.Options) || mountCount(v.Mountpoint) > 0) return v.Mountpoint;
      try {
        mountLocal(v.Options, v.Mountpoint);
      } catch (err) {
        throw new Error(`error while mounting volume '${v.Mountpoint}': ${(err as Error).message}`, { cause: err });
      }
      return v.Mountpoint;
    });
  }

  /** The engine calls this when no running container uses the volume any more: unmounts an options volume. */
  deactivate(name: string): void {
    if (!NAME.test(name)) return;
    this.locked(() => {
      const row = this.row(name);
      if (row && !needsMount(JSON.parse(row.options) as Record<string, string>)) return;
      unmountAll(row?.mountpoint ?? join(this.dir, name, DATA));
    });
  }

  /**
   * Docker's copy-up: a volume that is still empty when mounted over a non-empty image directory
   * gets that directory's content (owners, modes, xattrs, links kept). The copy is made aside,
   * inside the volume, and moved in under the lock only if the volume is still empty then, so
   * two containers starting on one new volume never mix two copies. Nothing is left on failure.
   */
  populate(name: string, fromDir: string): void {
    const data = this.activate(name);
    let from;
    try {
      from = lstatSync(fromDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    if (!from.isDirectory()) return;
    sweepCopies(data);
    if (!isEmpty(data)) return;
    const aside = join(data, `${COPY}${process.pid}-${processStart(process.pid) ?? 0}-${randomBytes(4).toString('hex')}`);
    try {
      mkdirSync(aside, { mode: 0o700 });
      copyTree(fromDir, aside);
      this.locked(() => {
        if (!isEmpty(data)) return;
        for (const entry of readdirSync(aside)) renameSync(join(aside, entry), join(data, entry));
        // the volume's root takes the image directory's owner and mode (copyTree gave them to aside);
        // owner first, since chown clears a setgid bit
        const st = lstatSync(aside);
        lchown(data, st.uid, st.gid);
        chmodSync(data, st.mode & 0o7777);
      });
    } finally {
      rmSync(aside, { recursive: true, force: true });
    }
  }

  /** Bytes the volume's data takes on disk, as du counts them (for system df and prune). */
  size(name: string): number {
    const v = this.get(name);
    return existsSync(v.Mountpoint) ? diskUsage(v.Mountpoint) : 0;
  }

  /**
   * What `system df` reports, as docker counts it: local volumes without driver options (those
   * are mounts of something else, not local data), each with its size and how many containers
   * use it (active when > 0; the size of the unused ones is reclaimable).
   */
  usage(): { volume: Volume; size: number; links: number }[] {
    const links = new Map((this.db.prepare('SELECT volume, count(*) AS n FROM container_volumes GROUP BY volume').all() as { volume: string; n: number }[]).map((r) => [r.volume, r.n]));
    return this.rows()
      .map(toVolume)
      .filter((v) => v.Driver === LOCAL_DRIVER && Object.keys(v.Options).length === 0)
      .map((volume) => ({ volume, size: existsSync(volume.Mountpoint) ? diskUsage(volume.Mountpoint) : 0, links: links.get(volume.Name) ?? 0 }));
  }

  private row(name: string): Row | undefined {
    return this.db.prepare('SELECT * FROM volumes WHERE name = ?').get(name) as Row | undefined;
  }

  private rows(): Row[] {
    return this.db.prepare('SELECT * FROM volumes ORDER BY name').all() as unknown as Row[];
  }

  private usedNames(): Set<string> {
    return new Set((this.db.prepare('SELECT DISTINCT volume FROM container_volumes').all() as { volume: string }[]).map((r) => r.volume));
  }

  /** Runs fn under the write lock: in the caller's transaction if there is one, else in its own. */
  private locked<T>(fn: () => T): T {
    return this.db.isTransaction ? fn() : transaction(this.db, fn);
  }

  /**
   * Under the lock: deletes what killed processes left: a volume directory with no row (a create
   * killed before its commit; only lock holders make them) and the trash of a dead remover.
   */
  private sweep(): void {
    const names = new Set(this.rows().map((r) => r.name));
    for (const entry of readdirSync(this.dir)) {
      const path = join(this.dir, entry);
      if (entry.startsWith(TRASH)) {
        const [pid, start] = entry.slice(TRASH.length).split('-');
        if (sameProcess(Number(pid), start ?? '')) continue;
      } else if (entry.startsWith('.') || names.has(entry)) {
        continue;
      }
      if (mountsUnder(path).length === 0) rmSync(path, { recursive: true, force: true });
    }
  }
}

function checkName(op: string, name: string): void {
  if (name.length === 1) {
    throw new InvalidVolumeError(`${op} ${name}: volume name is too short, names should be at least two alphanumeric characters`);
  }
  if (!NAME.test(name)) {
    throw new InvalidVolumeError(
      `${op} ${name}: ${JSON.stringify(name)} includes invalid characters for a local volume name, only ${JSON.stringify(NAME_CHARS)} are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
}

function makeDir(path: string, mode: number, what: 'root' | 'data'): void {
  try {
    mkdirSync(path, { mode });
    chmodSync(path, mode); // mkdir's mode passes through the umask
  } catch (err) {
    throw new Error(`error while creating volume ${what} path '${path}': ${(err as Error).message}`, { cause: err });
  }
}

function lchown(path: string, uid: number, gid: number): void {
  const st = lstatSync(path);
  if (st.uid !== uid || st.gid !== gid) lchownSync(path, uid, gid);
}

/** Empty but for copy-ups in flight. */
function isEmpty(dir: string): boolean {
  return readdirSync(dir).every((e) => e.startsWith(COPY));
}

/** Removes the copy-ups that a killed process left inside a volume. */
function sweepCopies(dir: string): void {
  for (const entry of readdirSync(dir)) {
    if (!entry.startsWith(COPY)) continue;
    const [pid, start] = entry.slice(COPY.length).split('-');
    if (!sameProcess(Number(pid), start ?? '')) rmSync(join(dir, entry), { recursive: true, force: true });
  }
}

function toVolume(r: Row): Volume {
  return {
    Name: r.name,
    Driver: r.driver,
    Mountpoint: r.mountpoint,
    CreatedAt: r.created,
    Labels: JSON.parse(r.labels) as Record<string, string>,
    Options: JSON.parse(r.options) as Record<string, string>,
    Scope: 'local',
    Anonymous: r.anonymous === 1,
  };
}

/** Go's time.RFC3339 in local time: seconds, and "Z" or a ±hh:mm offset. */
function rfc3339(d: Date): string {
  const offset = -d.getTimezoneOffset();
  const pad = (n: number) => String(n).padStart(2, '0');
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (offset === 0) return `${date}Z`;
  const abs = Math.abs(offset);
  return `${date}${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}
