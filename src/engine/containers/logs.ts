// `docker logs` for hull's json-file logs: the entries hull-shim writes to <id>-json.log, and the
// files it rotated away (<log>.1 is the newest of those, <log>.N the oldest), read oldest first
// with docker's tail, since, until, timestamps, details and follow.
//
// Each line of a log file is one entry, {"log": ..., "stream": "stdout"|"stderr", "time": ...}.
// An entry is a line of output with its "\n", or a piece of one (the shim cuts lines at 16 KiB
// and flushes what is left when a stream ends); pieces are printed one after the other, so they
// join up again, and each is one entry for --tail and gets its own timestamp, as with docker.
// The shim appends an entry with as few writes as it can, but a reader may still see the start
// of one: a last line without its "\n" is left for later (follow) or ignored.
import { closeSync, constants, fstatSync, openSync, readSync, readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { sameProcess } from '../../sys/proc.ts';
import { FilterTimeError, parseFilterTime, rfc3339Nanos } from '../filter-time.ts';
import type { ContainerEnv } from './lifecycle.ts';
import type { Container } from './model.ts';
import { ContainerPaths } from './paths.ts';

export interface LogOptions {
  /** Only the last n entries (of all files together); undefined for all. */
  tail?: number;
  /** Nanoseconds since the epoch: entries before since, or after until, are left out. */
  since?: bigint;
  until?: bigint;
  timestamps?: boolean;
  /** Prefix each entry with the attributes of --log-opt labels/env (docker's --details). */
  details?: boolean;
  /** Keep printing new entries until the container stops and its log has been read to the end. */
  follow?: boolean;
  /** Stops a follow early (the caller's ^C, a closed output). */
  signal?: AbortSignal;
}

/** Where entries go: 1 stdout, 2 stderr. A returned promise holds the reader back (backpressure). */
export interface LogSink {
  write(stream: 1 | 2, data: Buffer): void | Promise<void>;
  /** Called before a follow waits for more: what the sink holds back should go out now. */
  flush?(): void | Promise<void>;
}

export class LogsNotSupported extends Error {
  constructor() {
    super('configured logging driver does not support reading');
  }
}

/** A bad log line: reading goes on past it, and the caller reports these at the end. */
export interface LogProblem {
  file: string;
  /** Counted from the start of the file, or from byte `from` when reading began there (--tail). */
  line: number;
  from?: number;
  why: string;
}

/** docker's --tail: a count of entries; "all", a negative number or anything else means all. */
export function parseTail(value: string | undefined): number | undefined {
  if (value === undefined || !/^[+-]?\d+$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * docker's --since/--until: a Go duration back from now, an RFC 3339 date or time, or unix
 * seconds with a fraction, as the docker CLI reads them. Errors name the flag, as docker's.
 */
export function parseLogTime(flag: 'since' | 'until', value: string, now = Date.now()): bigint | undefined {
  if (value === '') return undefined;
  try {
    return parseFilterTime(value, now);
  } catch (e) {
    if (e instanceof FilterTimeError) throw new Error(`invalid value for ${JSON.stringify(flag)}: ${e.message}`);
    throw e;
  }
}

/** The live log and the files rotated from it, oldest first. */
export function logFiles(live: string): string[] {
  const dir = dirname(live);
  const base = basename(live);
  const rotated: number[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  for (const name of names) {
    if (!name.startsWith(`${base}.`)) continue;
    const n = name.slice(base.length + 1);
    if (/^[1-9]\d{0,5}$/.test(n)) rotated.push(Number(n));
  }
  rotated.sort((a, b) => b - a);
  const files = rotated.map((n) => `${live}.${n}`);
  if (names.includes(base)) files.push(live);
  return files;
}

// ---- entries ----

interface Entry {
  stream: 1 | 2;
  log: string;
  time: string;
  attrs?: Record<string, string>;
}

function decodeEntry(line: string): Entry | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return `not JSON: ${(e as Error).message}`;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'not a JSON object';
  const o = v as Record<string, unknown>;
  if (typeof o.log !== 'string') return '"log" is not a string';
  if (typeof o.time !== 'string') return '"time" is not a string';
  if (o.stream !== 'stdout' && o.stream !== 'stderr') return '"stream" is neither "stdout" nor "stderr"';
  const e: Entry = { stream: o.stream === 'stderr' ? 2 : 1, log: o.log, time: o.time };
  if (o.attrs && typeof o.attrs === 'object' && !Array.isArray(o.attrs)) {
    e.attrs = Object.fromEntries(Object.entries(o.attrs).filter(([, x]) => typeof x === 'string')) as Record<string, string>;
  }
  return e;
}

const NS = 1_000_000_000n;

/** docker's RFC3339NanoFixed in UTC: always nine digits of fraction. */
export function fixedTimestamp(ns: bigint): string {
  const secs = ns / NS - (ns % NS < 0n ? 1n : 0n);
  const frac = ns - secs * NS;
  const iso = new Date(Number(secs) * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  return `${iso.slice(0, 19)}.${frac.toString().padStart(9, '0')}Z`;
}

/** Go's url.QueryEscape, which docker applies to the keys and values of --details. */
function queryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function compileRegex(option: string, source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (e) {
    throw new Error(`--log-opt ${option}: ${(e as Error).message}`);
  }
}

/**
 * The extra attributes docker's json-file driver records with every entry: the container's
 * labels named by --log-opt labels (or matching labels-regex) and its environment variables
 * named by env (or matching env-regex).
 */
export function logAttributes(c: Container): Record<string, string> {
  const opts = c.HostConfig.LogConfig.Config ?? {};
  const labels = c.Config.Labels ?? {};
  const out: Record<string, string> = {};
  for (const key of (opts.labels ?? '').split(',')) if (key && key in labels) out[key] = labels[key]!;
  if (opts['labels-regex']) {
    const re = compileRegex('labels-regex', opts['labels-regex']);
    for (const [k, v] of Object.entries(labels)) if (re.test(k)) out[k] = v;
  }
  const envs = new Map<string, string>();
  for (const e of c.Config.Env ?? []) {
    const eq = e.indexOf('=');
    if (eq > 0) envs.set(e.slice(0, eq), e.slice(eq + 1));
  }
  for (const key of (opts.env ?? '').split(',')) if (key && envs.has(key)) out[key] = envs.get(key)!;
  if (opts['env-regex']) {
    const re = compileRegex('env-regex', opts['env-regex']);
    for (const [k, v] of envs) if (re.test(k)) out[k] = v;
  }
  return out;
}

/** docker's rendering of attributes for --details: k=v pairs sorted by key, comma separated. */
function detailsPrefix(attrs: Record<string, string>): string {
  return Object.keys(attrs)
    .sort()
    .map((k) => `${queryEscape(k)}=${queryEscape(attrs[k]!)}`)
    .join(',');
}

// ---- reading files ----

const CHUNK = 64 * 1024;
/** A 16 KiB line escaped as JSON at worst (\u00XX for every byte), with room to spare. */
const MAX_LINE = 1024 * 1024;
const OVERLONG = '\u0000overlong';

/** Where reading starts: a file of the list and a byte offset in it. */
interface Position {
  index: number;
  offset: number;
}

/**
 * Where the last n complete entries of all files together start (n = 0: after the last complete
 * entry). A last line without its "\n" is not an entry yet. Files are read backwards a chunk at
 * a time, so that the tail of a large log costs what the tail holds.
 */
function tailPosition(files: string[], n: number): Position {
  let need = n;
  for (let index = files.length - 1; index >= 0; index--) {
    let fd: number;
    try {
      fd = openSync(files[index]!, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch {
      continue;
    }
    try {
      const buf = Buffer.alloc(CHUNK);
      let newlines = 0;
      for (let end = fstatSync(fd).size; end > 0;) {
        const start = Math.max(0, end - CHUNK);
        const got = readSync(fd, buf, 0, end - start, start);
        for (let i = got - 1; i >= 0; i--) {
          if (buf[i] !== 0x0a) continue;
          // the k-th newline from the end closes the entry before the k-th from the end
          if (++newlines === need + 1) return { index, offset: start + i + 1 };
        }
        end = start;
      }
      // this file holds `newlines` complete entries, the first starting at offset 0
      if (newlines === need) return { index, offset: 0 };
      need -= newlines;
    } finally {
      closeSync(fd);
    }
  }
  return { index: 0, offset: 0 };
}

/** Reads one file from an offset, a chunk at a time, and hands out its complete lines. */
class LineReader {
  readonly path: string;
  readonly fd: number;
  /** Where reading began. */
  readonly start: number;
  offset: number;
  lineNo = 0;
  private pending: Buffer[] = [];
  private pendingLength = 0;
  /** Inside a line longer than MAX_LINE: skipped to its end, then reported. */
  private overlong = false;
  private readonly buf = Buffer.alloc(CHUNK);

  constructor(path: string, offset: number) {
    this.path = path;
    // O_NONBLOCK: a FIFO planted in the container directory must not hang the reader
    this.fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const st = fstatSync(this.fd);
    if (!st.isFile()) {
      closeSync(this.fd);
      throw new Error(`${path}: not a regular file`);
    }
    this.start = offset;
    this.offset = offset;
  }

  /** The complete lines that can be read now (without their "\n"); [] at the end of the file. */
  read(): string[] {
    // a line may be longer than a chunk: read on until one ends, or the file does
    for (;;) {
      const got = readSync(this.fd, this.buf, 0, CHUNK, this.offset);
      if (got === 0) return [];
      this.offset += got;
      const lines = this.split(got);
      if (lines.length > 0) return lines;
    }
  }

  private split(got: number): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = this.buf.indexOf(0x0a, 0); nl >= 0 && nl < got; nl = this.buf.indexOf(0x0a, start)) {
      if (this.overlong) {
        lines.push(OVERLONG);
        this.overlong = false;
      } else if (this.pendingLength) {
        lines.push(Buffer.concat([...this.pending, this.buf.subarray(start, nl)]).toString('utf8'));
      } else {
        lines.push(this.buf.toString('utf8', start, nl));
      }
      this.pending = [];
      this.pendingLength = 0;
      start = nl + 1;
    }
    if (start < got && !this.overlong) {
      this.pending.push(Buffer.from(this.buf.subarray(start, got)));
      this.pendingLength += got - start;
      // no entry of the shim's is this long: do not hold a file without newlines in memory
      if (this.pendingLength > MAX_LINE) {
        this.overlong = true;
        this.pending = [];
        this.pendingLength = 0;
      }
    }
    return lines;
  }

  /** A line being written has not been counted as read: where the next complete line starts. */
  get resumeOffset(): number {
    return this.offset - this.pendingLength;
  }

  size(): number {
    return fstatSync(this.fd).size;
  }

  ino(): number {
    return fstatSync(this.fd).ino;
  }

  close(): void {
    closeSync(this.fd);
  }
}

function inode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/**
 * Whether the run of the container that began at startedAt may still add to its log. It has
 * ended for `logs -f` once the engine has recorded its end (the shim flushed and closed the log
 * before it reported the exit), or once its shim is gone; a restart is a new run, as for docker.
 */
function stillWriting(env: ContainerEnv, id: string, startedAt: string): boolean {
  const c = env.containers.get(id);
  if (!c || !c.State.Running || c.State.StartedAt !== startedAt) return false;
  return c.ShimPid > 0 && sameProcess(c.ShimPid, c.ShimStart);
}

/** Resolves after ms, at an abort, or when wake is called (a change in the log's directory). */
function pause(ms: number, signal: AbortSignal | undefined, setWake: (wake: (() => void) | undefined) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      setWake(undefined);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    setWake(done);
  });
}

/**
 * Writes a container's log entries to sink. Returns the bad lines it skipped (docker stops at
 * the first; hull reads on and says which lines were bad).
 */
export async function readContainerLogs(env: ContainerEnv, c: Container, o: LogOptions, sink: LogSink): Promise<LogProblem[]> {
  if (c.HostConfig.LogConfig.Type === 'none') throw new LogsNotSupported();
  const live = new ContainerPaths(env.roots, c.Id).log;
  const problems: LogProblem[] = [];
  const prefix = o.details ? `${detailsPrefix(logAttributes(c))}` : undefined;
  let stopped = false;

  /** Prints one line; false once an entry after --until has been seen. */
  const emit = async (reader: LineReader, line: string): Promise<boolean> => {
    reader.lineNo++;
    if (line === '') return true;
    const e = line === OVERLONG ? `longer than ${MAX_LINE} bytes, which no log entry is` : decodeEntry(line);
    if (typeof e === 'string') {
      problems.push({ file: reader.path, line: reader.lineNo, why: e, ...(reader.start ? { from: reader.start } : {}) });
      return true;
    }
    let ns: bigint | undefined;
    if (o.since !== undefined || o.until !== undefined || o.timestamps) {
      ns = rfc3339Nanos(e.time);
      if (ns === undefined) {
        problems.push({ file: reader.path, line: reader.lineNo, why: `"time" is not an RFC 3339 time: ${JSON.stringify(e.time)}`, ...(reader.start ? { from: reader.start } : {}) });
        return true;
      }
      if (o.since !== undefined && ns < o.since) return true;
      if (o.until !== undefined && ns > o.until) return false;
    }
    let text = e.log;
    if (prefix !== undefined) text = `${e.attrs ? detailsPrefix({ ...logAttributes(c), ...e.attrs }) : prefix} ${text}`;
    if (o.timestamps) text = `${fixedTimestamp(ns!)} ${text}`;
    await sink.write(e.stream, Buffer.from(text, 'utf8'));
    return true;
  };

  /** Reads what reader has now; false when --until says to stop. */
  const drain = async (reader: LineReader): Promise<boolean> => {
    for (;;) {
      const lines = reader.read();
      if (lines.length === 0) return true;
      for (const line of lines) {
        if (o.signal?.aborted) return false;
        if (!(await emit(reader, line))) return false;
      }
    }
  };

  const files = logFiles(live);
  const start = o.tail === undefined ? { index: 0, offset: 0 } : tailPosition(files, o.tail);
  // the live log is read last and, with follow, kept open across rotations
  let current: LineReader | undefined;
  for (let i = start.index; i < files.length && !stopped; i++) {
    let reader: LineReader;
    try {
      reader = new LineReader(files[i]!, i === start.index ? start.offset : 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // rotated away meanwhile
      throw e;
    }
    if (files[i] === live && o.follow) {
      current = reader;
      break;
    }
    try {
      if (!(await drain(reader))) stopped = true;
    } finally {
      reader.close();
    }
  }
  if (stopped || !o.follow) {
    current?.close();
    return problems;
  }
  await follow(env, c.Id, c.State.StartedAt, live, current, drain, sink, o);
  return problems;
}

/**
 * Reads the live log as the shim writes it, following it when the shim rotates it away (to
 * <log>.1, and on: what was rotated past is read before the new live file) or truncates it
 * (max-file 1), until the container has stopped and the last entry has been read.
 */
async function follow(
  env: ContainerEnv,
  id: string,
  startedAt: string,
  live: string,
  first: LineReader | undefined,
  drain: (r: LineReader) => Promise<boolean>,
  sink: LogSink,
  o: LogOptions,
): Promise<void> {
  let current = first;
  let watcher: FSWatcher | undefined;
  let wake: (() => void) | undefined;
  try {
    watcher = watch(dirname(live), { persistent: false }, () => wake?.());
    watcher.on('error', () => {});
  } catch {
    // polling alone will do
  }
  try {
    for (;;) {
      // asked before reading: whatever was written before the shim finished is read below
      const writing = stillWriting(env, id, startedAt);
      if (!current) {
        try {
          current = new LineReader(live, 0);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
      }
      if (current) {
        if (!(await drain(current))) return;
        const moved = inode(live) !== current.ino();
        if (moved) {
          // rotated: what the shim wrote to the old file is all there; then the files after it
          if (!(await drain(current))) return;
          const old = current.ino();
          current.close();
          current = undefined;
          if (!(await readRotatedAfter(live, old, drain))) return;
          continue;
        }
        if (current.size() < current.resumeOffset) {
          // truncated in place (max-file 1): start again at its beginning
          const path = current.path;
          current.close();
          current = new LineReader(path, 0);
          continue;
        }
      }
      if (!writing || o.signal?.aborted) return;
      await sink.flush?.();
      if (o.until !== undefined && BigInt(Date.now()) * 1_000_000n > o.until) return;
      await pause(200, o.signal, (w) => (wake = w));
    }
  } finally {
    current?.close();
    watcher?.close();
  }
}

/** After the file with inode `old` was rotated away: the rotated files newer than it, oldest first. */
async function readRotatedAfter(live: string, old: number, drain: (r: LineReader) => Promise<boolean>): Promise<boolean> {
  const rotated = logFiles(live).filter((f) => f !== live);
  const at = rotated.findIndex((f) => inode(f) === old);
  // not found: it was rotated off the end, and every rotated file is newer
  for (const path of rotated.slice(at + 1)) {
    let reader: LineReader;
    try {
      reader = new LineReader(path, 0);
    } catch {
      continue;
    }
    try {
      if (!(await drain(reader))) return false;
    } finally {
      reader.close();
    }
  }
  return true;
}
