// Container state on disk: <root>/<id>/state.json and the exec fifo beside it.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OCI_VERSION } from './spec/default.ts';
import type { Spec, State } from './spec/types.ts';

export const DEFAULT_ROOT = '/run/hull-runtime';

export interface Saved {
  id: string;
  /** The init process, and its start time to tell it from a later process with the same pid. */
  pid: number;
  pidStart: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  /** Set while create runs; a crash then leaves the container visibly "creating". */
  creating?: boolean;
  cgroupDirs: string[];
  cgroupCreated: string[];
  config: Spec;
}

const ID = /^[\w+\-.]+$/;

export function checkId(id: string): void {
  if (!ID.test(id) || id === '.' || id === '..' || id.length > 1024) {
    throw new Error(`invalid container id ${JSON.stringify(id)}: use letters, digits, and _ + - .`);
  }
}

export class StateStore {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
  }

  dir(id: string): string {
    checkId(id);
    return join(this.root, id);
  }

  fifo(id: string): string {
    return join(this.dir(id), 'exec.fifo');
  }

  /** Claims the id atomically; fails if a container of that name exists. */
  claim(id: string): string {
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    const dir = this.dir(id);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`container with id ${id} already exists`);
      throw e;
    }
    return dir;
  }

  save(s: Saved): void {
    const dir = this.dir(s.id);
    const tmp = join(dir, 'state.json.tmp');
    writeFileSync(tmp, JSON.stringify(s));
    renameSync(tmp, join(dir, 'state.json'));
  }

  load(id: string): Saved {
    const dir = this.dir(id);
    let text: string;
    try {
      text = readFileSync(join(dir, 'state.json'), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFound(id);
      throw e;
    }
    return JSON.parse(text) as Saved;
  }

  exists(id: string): boolean {
    return existsSync(this.dir(id));
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }

  list(): string[] {
    try {
      return readdirSync(this.root).filter((n) => ID.test(n)).sort();
    } catch {
      return [];
    }
  }
}

export class NotFound extends Error {
  constructor(id: string) {
    super(`container ${id} does not exist`);
  }
}

/** Field 22 of /proc/<pid>/stat, or undefined when the process is gone or a zombie. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

export function alive(s: Saved): boolean {
  return s.pid > 0 && processStart(s.pid) === s.pidStart;
}

export function status(store: StateStore, s: Saved): State['status'] {
  if (s.creating) return alive(s) ? 'creating' : 'stopped';
  if (!alive(s)) return 'stopped';
  return existsSync(store.fifo(s.id)) ? 'created' : 'running';
}

export function ociState(store: StateStore, s: Saved): State {
  const st = status(store, s);
  const out: State = { ociVersion: OCI_VERSION, id: s.id, status: st, bundle: s.bundle };
  if (st !== 'stopped') out.pid = s.pid;
  const annotations = s.config.annotations;
  if (annotations && Object.keys(annotations).length > 0) out.annotations = annotations;
  return out;
}

export function ownerOf(path: string): string {
  try {
    const uid = statSync(path).uid;
    if (uid === 0) return 'root';
    return String(uid);
  } catch {
    return '';
  }
}
