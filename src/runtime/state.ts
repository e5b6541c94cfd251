// Container state on disk: <root>/<id>/state.json and the exec fifo beside it.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { containerCgroup } from './cgroups/controllers.ts';
import { freezerOf, isFrozen } from './cgroups/freezer.ts';
import { OCI_VERSION } from './spec/default.ts';
import type { Spec, State } from './spec/types.ts';
import { sameProcess } from '../sys/proc.ts';

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

// A leading dot is reserved for the runtime's own entries in the state root (.seccomp).
const ID = /^[\w+\-][\w+\-.]*$/;

export function checkId(id: string): void {
  if (!ID.test(id) || id.length > 1024) {
    throw new Error(`invalid container id ${JSON.stringify(id)}: use letters, digits, and _ + - . (not first)`);
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
    writeAtomic(join(dir, 'state.json'), JSON.stringify(s));
    if (!s.creating) writeFastFacts(dir, s);
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

function writeAtomic(path: string, data: string): void {
  const tmp = path + '.tmp';
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/**
 * What native/front.c needs to run start, state, kill and delete without Node: the facts and
 * the rendered state, with placeholders for what only the moment of asking can know.
 * Anything it cannot express (a newline in a path) is left out, and the front hands over.
 */
function writeFastFacts(dir: string, s: Saved): void {
  const hooks = s.config.hooks ?? {};
  const lines = [
    'v 1',
    `pid ${s.pid}`,
    `start ${s.pidStart}`,
    `start_hooks ${hooks.startContainer?.length || hooks.poststart?.length ? 1 : 0}`,
    `stop_hooks ${hooks.poststop?.length ? 1 : 0}`,
    ...s.cgroupDirs.map((d) => `leaf ${d}`),
    ...s.cgroupCreated.map((d) => `made ${d}`),
    ...cgroupFacts(s.cgroupDirs),
  ];
  if (lines.some((l) => l.includes('\n')) || s.cgroupDirs.length > 32 || s.cgroupCreated.length > 32) return;
  writeAtomic(join(dir, 'state.tmpl'), renderState(s, '@STATUS@', '@PID@', true));
  writeAtomic(join(dir, 'fast'), lines.join('\n') + '\n');
}

/**
 * Where the front reads whether the container is paused ("freezer 1|2 <dir>", or "freezer
 * none"), and the cgroup.kill file it may use to kill everything ("cgkill <dir>", if any).
 * A fast file without a freezer line makes the front hand every verb over.
 */
function cgroupFacts(dirs: string[]): string[] {
  const cg = containerCgroup(dirs);
  const f = freezerOf(cg);
  const out = [f ? `freezer ${f.version} ${f.dir}` : 'freezer none'];
  if (cg.unified !== undefined && existsSync(join(cg.unified, 'cgroup.kill'))) out.push(`cgkill ${cg.unified}`);
  return out;
}

/**
 * The state verb's output, in runc's field order (the spec's fields plus rootfs, created and
 * owner). With forTemplate, every '@' in a value is escaped so the placeholders are unique.
 */
export function renderState(s: Saved, status: string, pid: string, forTemplate = false): string {
  const q = (v: string) => {
    const j = JSON.stringify(v);
    return forTemplate ? j.replace(/@/g, '\\u0040') : j;
  };
  const fields = [
    `"ociVersion": ${q(OCI_VERSION)}`,
    `"id": ${q(s.id)}`,
    `"pid": ${pid}`,
    `"status": "${status}"`,
    `"bundle": ${q(s.bundle)}`,
    `"rootfs": ${q(s.rootfs)}`,
    `"created": ${q(s.created)}`,
  ];
  const annotations = s.config.annotations ?? {};
  if (Object.keys(annotations).length > 0) {
    const inner = Object.entries(annotations).map(([k, v]) => `    ${q(k)}: ${q(v)}`);
    fields.push(`"annotations": {\n${inner.join(',\n')}\n  }`);
  }
  fields.push(`"owner": ${q(s.owner)}`);
  return `{\n  ${fields.join(',\n  ')}\n}\n`;
}

export class NotFound extends Error {
  constructor(id: string) {
    super(`container ${id} does not exist`);
  }
}

export function alive(s: Saved): boolean {
  return sameProcess(s.pid, s.pidStart);
}

/** The runtime spec's states, and runc's "paused" for a container whose cgroup is frozen. */
export type Status = State['status'] | 'paused';

/** The state document as the state and list verbs print it (runc's, with "paused"). */
export interface RuntimeState extends Omit<State, 'status'> {
  status: Status;
}

export function status(store: StateStore, s: Saved): Status {
  if (s.creating) return alive(s) ? 'creating' : 'stopped';
  if (!alive(s)) return 'stopped';
  // a created container can be paused too (runc allows it); start then refuses until resumed
  if (isFrozen(freezerOf(s.cgroupDirs))) return 'paused';
  return existsSync(store.fifo(s.id)) ? 'created' : 'running';
}

export function ociState(store: StateStore, s: Saved): RuntimeState {
  const st = status(store, s);
  const out: RuntimeState = { ociVersion: OCI_VERSION, id: s.id, status: st, bundle: s.bundle };
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
