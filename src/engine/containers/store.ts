// The containers table: rows <-> Container records, and docker's ways of naming one.
import { randomBytes } from '../../crypto.ts';
import { transaction, type Db } from '../../image/store/metadata.ts';
import { ensureEngineSchema } from '../store/schema.ts';
import type { Container, ContainerState, HostConfig } from './model.ts';
import { randomName } from './names.ts';

interface Row {
  id: string; name: string; image: string; created: string; config: string; host_config: string; state: string;
  mounts: string; path: string; args: string; restart_count: number; shim_pid: number; shim_start: string; stopped_by_user: number;
  ports: string | null;
}

function fromRow(r: Row): Container {
  return {
    Id: r.id, Name: r.name, Image: r.image, Created: r.created,
    Config: JSON.parse(r.config), HostConfig: JSON.parse(r.host_config), State: JSON.parse(r.state), Mounts: JSON.parse(r.mounts),
    Path: r.path, Args: JSON.parse(r.args), RestartCount: r.restart_count, ShimPid: r.shim_pid, ShimStart: r.shim_start,
    StoppedByUser: r.stopped_by_user !== 0, Ports: r.ports ? JSON.parse(r.ports) : null,
  };
}

export class NoSuchContainer extends Error {
  constructor(ref: string) {
    super(`No such container: ${ref}`);
  }
}

const NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function checkName(name: string): string {
  if (!NAME.test(name)) throw new Error(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.replace(/^\//, '');
}

export function newContainerId(): string {
  // docker's ids never look like a short numeric id, which would be ambiguous with a name
  for (;;) {
    const id = randomBytes(32).toString('hex');
    if (!/^\d{12}/.test(id)) return id;
  }
}

export class ContainerStore {
  readonly db: Db;
  constructor(db: Db) {
    this.db = ensureEngineSchema(db);
  }

  /** Inserts c; a taken name is docker's conflict error. Runs inside the caller's transaction if there is one. */
  insert(c: Container): void {
    const taken = this.db.prepare('SELECT id FROM containers WHERE name = ?').get(c.Name) as { id: string } | undefined;
    if (taken) {
      throw new Error(`Conflict. The container name "/${c.Name}" is already in use by container "${taken.id}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    this.db
      .prepare(`INSERT INTO containers (id, name, image, created, config, host_config, state, mounts, path, args, restart_count, shim_pid, shim_start, stopped_by_user)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(c.Id, c.Name, c.Image, c.Created, JSON.stringify(c.Config), JSON.stringify(c.HostConfig), JSON.stringify(c.State),
        JSON.stringify(c.Mounts), c.Path, JSON.stringify(c.Args), c.RestartCount, c.ShimPid, c.ShimStart, c.StoppedByUser ? 1 : 0);
  }

  /** A name no container has, docker style ("quirky_hopper"). */
  freshName(): string {
    for (let i = 0; ; i++) {
      const name = randomName(i > 10);
      if (!this.db.prepare('SELECT 1 FROM containers WHERE name = ?').get(name)) return name;
    }
  }

  get(id: string): Container | undefined {
    const r = this.db.prepare('SELECT * FROM containers WHERE id = ?').get(id) as Row | undefined;
    return r && fromRow(r);
  }

  /** Docker's lookup order: full id, exact name, then a unique id prefix. */
  find(ref: string): Container {
    const byId = this.get(ref);
    if (byId) return byId;
    const name = ref.replace(/^\//, '');
    const byName = this.db.prepare('SELECT * FROM containers WHERE name = ?').get(name) as Row | undefined;
    if (byName) return fromRow(byName);
    if (/^[0-9a-f]+$/.test(ref)) {
      const rows = this.db.prepare("SELECT * FROM containers WHERE id LIKE ? || '%'").all(ref) as unknown as Row[];
      if (rows.length > 1) throw new Error(`multiple containers found with provided prefix: ${ref}`);
      if (rows.length === 1) return fromRow(rows[0]!);
    }
    throw new NoSuchContainer(ref);
  }

  list(): Container[] {
    return (this.db.prepare('SELECT * FROM containers ORDER BY created DESC, rowid DESC').all() as unknown as Row[]).map(fromRow);
  }

  setState(id: string, state: ContainerState, extra: { shimPid?: number; shimStart?: string; restartCount?: number; stoppedByUser?: boolean } = {}): void {
    const sets = ['state = ?'];
    const values: (string | number)[] = [JSON.stringify(state)];
    if (extra.shimPid !== undefined) (sets.push('shim_pid = ?'), values.push(extra.shimPid));
    if (extra.shimStart !== undefined) (sets.push('shim_start = ?'), values.push(extra.shimStart));
    if (extra.restartCount !== undefined) (sets.push('restart_count = ?'), values.push(extra.restartCount));
    if (extra.stoppedByUser !== undefined) (sets.push('stopped_by_user = ?'), values.push(extra.stoppedByUser ? 1 : 0));
    this.db.prepare(`UPDATE containers SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
  }

  /** Changes a container's state only if it is still what the caller saw: two cleanups never both win. */
  transition(id: string, from: (c: Container) => boolean, change: (c: Container) => void): Container | undefined {
    return transaction(this.db, () => {
      const c = this.get(id);
      if (!c || !from(c)) return undefined;
      change(c);
      this.setState(id, c.State, { shimPid: c.ShimPid, shimStart: c.ShimStart, restartCount: c.RestartCount, stoppedByUser: c.StoppedByUser });
      return c;
    });
  }

  setPorts(id: string, ports: Container['Ports']): void {
    this.db.prepare('UPDATE containers SET ports = ? WHERE id = ?').run(ports ? JSON.stringify(ports) : null, id);
  }

  setHostConfig(id: string, hc: HostConfig): void {
    this.db.prepare('UPDATE containers SET host_config = ? WHERE id = ?').run(JSON.stringify(hc), id);
  }

  rename(id: string, name: string): void {
    transaction(this.db, () => {
      const taken = this.db.prepare('SELECT id FROM containers WHERE name = ? AND id != ?').get(name, id) as { id: string } | undefined;
      if (taken) throw new Error(`Error when allocating new name: Conflict. The container name "/${name}" is already in use by container "${taken.id}". You have to remove (or rename) that container to be able to reuse that name.`);
      this.db.prepare('UPDATE containers SET name = ? WHERE id = ?').run(name, id);
    });
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM containers WHERE id = ?').run(id);
  }
}
