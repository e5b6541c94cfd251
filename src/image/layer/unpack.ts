// Applies one layer tar to a new, empty directory that becomes an overlay lowerdir (DESIGN.md,
// "State": one snapshot per layer, unpacked independently). Whiteouts become what overlayfs
// reads: a 0/0 character device for a deleted name, and trusted.overlay.opaque=y on a directory
// that hides the layers below it.
//
// The archive is hostile. The directory starts empty and only this code writes to it, so the
// code knows the type of every path it has made and never resolves a path through a symlink;
// any entry that would escape the directory, or write through a link, fails the whole layer,
// and a failed layer leaves nothing behind.
import {
  closeSync, constants, copyFileSync, fchmodSync, fchownSync, lchownSync, linkSync, lstatSync, mkdirSync, openSync,
  readFileSync, readlinkSync, rmSync, symlinkSync, unlinkSync, writeSync, chmodSync,
  type Stats,
} from 'node:fs';
import { dirname, join } from 'node:path';
import * as sys from '../../sys/index.ts';
import { readTar, TarLimitError, type TarEntry, type TarHeader } from '../tar/reader.ts';
import { diskUsage } from '../store/disk-usage.ts';
import { LayerLimitError, openLayer } from './decompress.ts';

export interface LayerLimits {
  maxUncompressedBytes: number;
  maxEntries: number;
  maxPaxHeaderBytes: number;
}

export const DEFAULT_LAYER_LIMITS: LayerLimits = {
  maxUncompressedBytes: 64 * 2 ** 30,
  maxEntries: 1_000_000,
  maxPaxHeaderBytes: 1 << 20,
};

export interface UnpackOptions {
  limits?: Partial<LayerLimits>;
  /** Create character and block devices; the default is whether this process may mknod them. */
  allowDevices?: boolean;
  signal?: AbortSignal;
  /** Names the layer in messages; the default is the source path. */
  name?: string;
}

export interface UnpackResult {
  /** sha256 of the uncompressed tar, "sha256:<hex>". */
  diffID: string;
  /** Uncompressed bytes. */
  size: number;
  entries: number;
  /** Bytes the directory takes on disk, as `du` counts them. */
  disk: number;
  /** Hard links whose target is not in this layer; see resolveLowerLinks. */
  lowerLinks: { path: string; target: string }[];
}

/** An entry the layer may not contain, or one that could not be applied. */
export class LayerUnpackError extends Error {
  override name = 'LayerUnpackError';
  /** The entry's name as the archive gave it. */
  readonly entry: string | undefined;
  constructor(message: string, entry?: string, options?: ErrorOptions) {
    super(message, options);
    this.entry = entry;
  }
}

const OPAQUE = 'trusted.overlay.opaque';
const WHITEOUT = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
/** aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): meaningless to overlayfs. */
const AUFS_META = '.wh..wh.';

const O_CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

let mknodAllowed: boolean | undefined;
/**
 * Whether this process may create device nodes: root with CAP_MKNOD (bit 27) in its effective
 * set, outside any user namespace (in one, the kernel refuses devices whatever the caps say).
 */
function mayMknod(): boolean {
  if (mknodAllowed === undefined) {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    const initialUserNs = /^\s*0\s+0\s+4294967295\s*$/.test(readFileSync('/proc/self/uid_map', 'utf8'));
    mknodAllowed = process.getuid?.() === 0 && initialUserNs && !!m && (BigInt(`0x${m[1]}`) & (1n << 27n)) !== 0n;
  }
  return mknodAllowed;
}

type Kind = 'dir' | 'file' | 'symlink' | 'node' | 'whiteout' | 'lowerlink';

/** "a/b/c" from an archive name, refusing anything that could leave the layer. */
function clean(raw: string, what: string, fail: (why: string) => never): string {
  if (raw.startsWith('/')) fail(`${what} is absolute`);
  const parts: string[] = [];
  for (const c of raw.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') fail(`${what} has a ".." component`);
    parts.push(c);
  }
  return parts.join('/');
}

interface Time {
  sec: number;
  nsec: number;
}

const timeOf = (h: TarHeader): Time => ({ sec: h.mtime, nsec: h.mtimeNsec });

/** Applies entries in archive order; every method is synchronous except for reading data. */
class Applier {
  /** Every path made so far, relative to the layer, with its type. */
  private readonly made = new Map<string, Kind>();
  private readonly dirTimes = new Map<string, Time>();
  /** Names this layer whited out; a directory made there later must hide the lower one. */
  private readonly whitedOut = new Set<string>();
  readonly lowerLinks = new Map<string, string>();
  private readonly root: string;
  private readonly allowDevices: boolean;
  private readonly layer: string;
  private entry = '';

  constructor(root: string, allowDevices: boolean, layer: string) {
    this.root = root;
    this.allowDevices = allowDevices;
    this.layer = layer;
  }

  private fail(why: string, cause?: unknown): never {
    throw new LayerUnpackError(`layer ${this.layer}: entry ${JSON.stringify(this.entry)}: ${why}`, this.entry, cause === undefined ? undefined : { cause });
  }

  async apply(entry: TarEntry): Promise<void> {
    const h = entry.header;
    this.entry = h.path;
    const fail = (why: string): never => this.fail(why);
    const rel = clean(h.path, 'path', fail);
    const slash = rel.lastIndexOf('/');
    const parent = slash < 0 ? '' : rel.slice(0, slash);
    const base = rel.slice(slash + 1);

    if (rel.split('/', 1)[0]!.startsWith(AUFS_META) && rel !== OPAQUE_MARKER) return;
    if (base.startsWith(WHITEOUT)) {
      if (base === OPAQUE_MARKER) {
        this.parents(rel);
        this.setXattr(parent, OPAQUE, Buffer.from('y'));
        return;
      }
      if (base.startsWith(AUFS_META)) return;
      const name = base.slice(WHITEOUT.length);
      if (name === '' || name === '.' || name === '..') this.fail(`whiteout names ${JSON.stringify(name)}`);
      const target = parent ? `${parent}/${name}` : name;
      this.parents(target);
      this.replace(target, 'whiteout');
      this.sys(() => sys.mknod(this.abs(target), sys.S_IFCHR, 0, 0));
      this.record(target, 'whiteout');
      this.whitedOut.add(target);
      return;
    }
    if (rel === '') {
      // The layer's root itself ("./"): only its metadata can be applied.
      if (h.type !== 'directory') this.fail(`the layer root must be a directory, not a ${h.type}`);
      this.meta('', h, 'dir');
      this.dirTimes.set('', timeOf(h));
      return;
    }
    this.parents(rel);

    switch (h.type) {
      case 'directory': {
        if (this.replace(rel, 'dir') !== 'merge') {
          this.sys(() => mkdirSync(this.abs(rel), 0o700));
          this.record(rel, 'dir');
          if (this.whitedOut.has(rel)) this.setXattr(rel, OPAQUE, Buffer.from('y'));
        }
        this.meta(rel, h, 'dir');
        this.dirTimes.set(rel, timeOf(h));
        return;
      }
      case 'file': {
        this.replace(rel, 'file');
        await this.file(rel, h, entry);
        return;
      }
      case 'hardlink': {
        const target = clean(h.linkpath, 'hard link target', fail);
        if (target === '') this.fail('hard link to the layer root');
        if (target === rel) this.fail('hard link to itself');
        const kind = this.linkTarget(target);
        this.replace(rel, 'file');
        if (kind === undefined || kind === 'lowerlink') {
          // The target is in a lower layer; resolveLowerLinks makes this link once those are known.
          this.lowerLinks.set(rel, kind === 'lowerlink' ? this.lowerLinks.get(target)! : target);
          this.record(rel, 'lowerlink');
          return;
        }
        this.sys(() => linkSync(this.abs(target), this.abs(rel)));
        this.record(rel, kind);
        return;
      }
      case 'symlink': {
        if (h.linkpath === '') this.fail('symlink with an empty target');
        this.replace(rel, 'symlink');
        const abs = this.abs(rel);
        this.sys(() => symlinkSync(h.linkpath, abs));
        this.record(rel, 'symlink');
        this.sys(() => lchownSync(abs, h.uid, h.gid));
        this.xattrs(rel, h);
        this.setTimes(rel, timeOf(h));
        return;
      }
      case 'char':
      case 'block':
      case 'fifo': {
        if (h.type !== 'fifo' && !this.allowDevices) {
          this.fail(`${h.type === 'char' ? 'character' : 'block'} device ${h.devmajor}:${h.devminor} refused: device nodes are not allowed in this layer`);
        }
        this.replace(rel, 'node');
        const type = h.type === 'char' ? sys.S_IFCHR : h.type === 'block' ? sys.S_IFBLK : sys.S_IFIFO;
        this.sys(() => sys.mknod(this.abs(rel), type | 0o600, h.devmajor, h.devminor));
        this.record(rel, 'node');
        this.meta(rel, h, 'node');
        this.setTimes(rel, timeOf(h));
        return;
      }
      default:
        this.fail(`unsupported entry type '${h.typeflag === '\0' ? '\\0' : h.typeflag}'`);
    }
  }

  private abs(rel: string): string {
    return rel ? `${this.root}/${rel}` : this.root;
  }

  /** Runs a filesystem call, naming the entry if it fails. */
  private sys<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof LayerUnpackError) throw e;
      return this.fail((e as Error).message, e);
    }
  }

  private lastParent: string | undefined;

  /** Makes sure every parent of rel is a directory made here, creating missing ones 0755 root. */
  private parents(rel: string): void {
    const slash = rel.lastIndexOf('/');
    if (slash < 0) return;
    const parent = rel.slice(0, slash);
    if (parent === this.lastParent) return;
    let at = 0;
    for (;;) {
      const next = rel.indexOf('/', at);
      if (next < 0) break;
      const prefix = rel.slice(0, next);
      at = next + 1;
      const kind = this.made.get(prefix);
      if (kind === 'dir') continue;
      if (kind === 'symlink') this.fail(`its parent ${JSON.stringify(prefix)} is a symlink; refusing to write through it`);
      if (kind === 'whiteout') {
        // Deleted and re-created in one layer: a new directory that hides the lower one.
        this.sys(() => unlinkSync(this.abs(prefix)));
      } else if (kind !== undefined) {
        this.fail(`its parent ${JSON.stringify(prefix)} is not a directory`);
      }
      this.sys(() => {
        mkdirSync(this.abs(prefix));
        chmodSync(this.abs(prefix), 0o755);
      });
      this.record(prefix, 'dir');
      if (kind === 'whiteout') this.setXattr(prefix, OPAQUE, Buffer.from('y'));
    }
    this.lastParent = parent;
  }

  /** The kind of a hard link's target, refusing links through symlinks or to directories. */
  private linkTarget(target: string): Kind | undefined {
    let at = 0;
    for (;;) {
      const next = target.indexOf('/', at);
      if (next < 0) break;
      const prefix = target.slice(0, next);
      at = next + 1;
      const kind = this.made.get(prefix);
      if (kind === undefined || kind === 'dir') continue;
      if (kind === 'symlink') this.fail(`hard link target ${JSON.stringify(target)} goes through the symlink ${JSON.stringify(prefix)}`);
      this.fail(`hard link target ${JSON.stringify(target)} goes through ${JSON.stringify(prefix)}, which is not a directory`);
    }
    const kind = this.made.get(target);
    if (kind === 'dir') this.fail(`hard link to the directory ${JSON.stringify(target)}`);
    if (kind === 'whiteout') this.fail(`hard link to ${JSON.stringify(target)}, which this layer deletes`);
    return kind;
  }

  /**
   * Clears the way for a new entry at rel. A directory over a directory merges; anything else
   * removes what was there (unlinking a symlink, never following it).
   */
  private replace(rel: string, next: Kind): 'merge' | 'new' {
    const old = this.made.get(rel);
    if (old === undefined) return 'new';
    if (old === 'dir' && next === 'dir') return 'merge';
    if (old === 'dir') {
      this.sys(() => rmSync(this.abs(rel), { recursive: true }));
      this.lastParent = undefined;
    } else if (old !== 'lowerlink') {
      this.sys(() => unlinkSync(this.abs(rel)));
    }
    this.forget(rel);
    this.children.get(parentOf(rel))?.delete(rel);
    return 'new';
  }

  /** The entries under each directory, so replacing a directory forgets its contents without a scan. */
  private readonly children = new Map<string, Set<string>>();

  private record(rel: string, kind: Kind): void {
    this.made.set(rel, kind);
    const parent = parentOf(rel);
    // The root is never replaced, so its (many) children need no list.
    if (parent === '') return;
    let set = this.children.get(parent);
    if (!set) this.children.set(parent, (set = new Set()));
    set.add(rel);
  }

  private forget(rel: string): void {
    const kids = this.children.get(rel);
    if (kids) {
      for (const kid of kids) this.forget(kid);
      this.children.delete(rel);
    }
    this.made.delete(rel);
    this.dirTimes.delete(rel);
    this.lowerLinks.delete(rel);
  }

  private async file(rel: string, h: TarHeader, entry: TarEntry): Promise<void> {
    const abs = this.abs(rel);
    const fd = this.sys(() => openSync(abs, O_CREATE, 0o600));
    this.record(rel, 'file');
    try {
      for await (const chunk of entry.body()) {
        let off = 0;
        while (off < chunk.length) off += this.sys(() => writeSync(fd, chunk, off, chunk.length - off));
      }
      // chown clears setuid/setgid and security.capability, so mode and xattrs come after it.
      this.sys(() => {
        fchownSync(fd, h.uid, h.gid);
        fchmodSync(fd, h.mode);
      });
      this.xattrs(rel, h);
    } finally {
      closeSync(fd);
    }
    this.setTimes(rel, timeOf(h));
  }

  /** Access and modification time both from the archive's mtime, as docker sets them. */
  private setTimes(rel: string, t: Time): void {
    this.sys(() => sys.lutimens(this.abs(rel), t, t));
  }

  /** Ownership, then mode, then xattrs (see file()). */
  private meta(rel: string, h: TarHeader, kind: Kind): void {
    const abs = this.abs(rel);
    this.sys(() => {
      lchownSync(abs, h.uid, h.gid);
      if (kind !== 'symlink') chmodSync(abs, h.mode);
    });
    this.xattrs(rel, h);
  }

  private xattrs(rel: string, h: TarHeader): void {
    for (const [name, value] of h.xattrs) {
      // overlayfs's own attributes (opaque, redirect, metacopy, origin) would let a layer steer
      // how overlay resolves paths; only this code decides those.
      if (name.startsWith('trusted.overlay.')) continue;
      this.setXattr(rel, name, value);
    }
  }

  private setXattr(rel: string, name: string, value: Buffer): void {
    this.sys(() => {
      try {
        sys.lsetxattr(this.abs(rel), name, value);
      } catch (e) {
        throw new Error(`cannot set xattr ${name}: ${(e as Error).message}`, { cause: e });
      }
    });
  }

  /** Directory times last, deepest first, since making anything inside a directory changes its mtime. */
  finish(): void {
    this.entry = '';
    const dirs = [...this.dirTimes].sort((a, b) => depth(b[0]) - depth(a[0]));
    for (const [rel, t] of dirs) this.setTimes(rel, t);
  }
}

const parentOf = (rel: string): string => {
  const slash = rel.lastIndexOf('/');
  return slash < 0 ? '' : rel.slice(0, slash);
};

const depth = (rel: string): number => {
  if (rel === '') return -1;
  let n = 0;
  for (let i = 0; i < rel.length; i++) if (rel.charCodeAt(i) === 47) n++;
  return n;
};

/**
 * Unpacks one layer (a gzip, zstd or plain tar blob, or a stream of one) into dir, which must
 * not exist yet. On any failure dir is removed before the error is thrown.
 */
export async function unpackLayer(source: string | NodeJS.ReadableStream, dir: string, opts: UnpackOptions = {}): Promise<UnpackResult> {
  try {
    return await unpackInto(source, dir, opts);
  } catch (e) {
    // A stream given to us is finished with either way; do not leave its producer waiting.
    if (typeof source !== 'string') (source as { destroy?: () => void }).destroy?.();
    throw e;
  }
}

async function unpackInto(source: string | NodeJS.ReadableStream, dir: string, opts: UnpackOptions): Promise<UnpackResult> {
  const limits = { ...DEFAULT_LAYER_LIMITS, ...opts.limits };
  const name = opts.name ?? (typeof source === 'string' ? source : 'stream');
  opts.signal?.throwIfAborted();
  mkdirSync(dirname(dir), { recursive: true });
  try {
    mkdirSync(dir, 0o755);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new LayerUnpackError(`layer ${name}: the snapshot directory ${dir} already exists`, undefined, { cause: e });
    }
    throw e;
  }
  try {
    chmodSync(dir, 0o755);
    const layer = await openLayer(source, { maxUncompressedBytes: limits.maxUncompressedBytes, name, reuseOutput: true });
    const applier = new Applier(dir, opts.allowDevices ?? mayMknod(), name);
    let entries = 0;
    const tar = readTar(layer.data, { maxPaxHeaderBytes: limits.maxPaxHeaderBytes, maxArchiveBytes: limits.maxUncompressedBytes });
    for await (const entry of tar) {
      opts.signal?.throwIfAborted();
      if (++entries > limits.maxEntries) {
        throw new LayerUnpackError(`layer ${name} has more than the limit of ${limits.maxEntries} entries`, entry.header.path);
      }
      await applier.apply(entry);
    }
    applier.finish();
    return {
      diffID: layer.diffID(),
      size: layer.size(),
      entries,
      // here, on the unpacking thread, rather than as a separate walk on the caller's
      disk: diskUsage(dir),
      lowerLinks: [...applier.lowerLinks].map(([path, target]) => ({ path, target })),
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    // The reader sees an oversized entry before the decompressor has produced it: one message for both.
    if (e instanceof TarLimitError && e.limit === 'archive') {
      throw new LayerLimitError(`layer ${name} exceeds the limit of ${limits.maxUncompressedBytes} bytes uncompressed: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

/** A file found through an overlay lookup. */
interface Found {
  path: string;
  stat: Stats;
}

/**
 * Looks rel up as overlayfs would across layers, top first: a whiteout or a non-directory on
 * the way hides everything below, and an opaque directory hides the same directory below.
 */
function overlayLookup(layers: string[], rel: string): Found | undefined {
  const parts = rel.split('/');
  for (const layer of layers) {
    let p = layer;
    let stop = false;
    let missing = false;
    for (let i = 0; i < parts.length; i++) {
      p = join(p, parts[i]!);
      let st: Stats;
      try {
        st = lstatSync(p);
      } catch {
        missing = true;
        break;
      }
      if (st.isCharacterDevice() && st.rdev === 0) return undefined;
      if (i === parts.length - 1) return { path: p, stat: st };
      if (!st.isDirectory()) return undefined;
      if (sys.lgetxattr(p, OPAQUE)?.toString() === 'y') stop = true;
    }
    if (stop || !missing) return undefined;
  }
  return undefined;
}

export class LowerLinkError extends Error {
  override name = 'LowerLinkError';
}

/**
 * Makes the hard links that unpackLayer left in lowerLinks: each target is copied up from the
 * layers below into dir (with its metadata, as overlayfs's copy-up would) and then linked.
 * lowerDirsTopFirst are the snapshot directories under dir, nearest first.
 */
export function resolveLowerLinks(dir: string, lowerDirsTopFirst: string[], links: { path: string; target: string }[]): void {
  for (const { path, target } of links) {
    const fail = (why: string): never => {
      throw new LowerLinkError(`hard link ${JSON.stringify(path)} -> ${JSON.stringify(target)} in ${dir}: ${why}`);
    };
    clean(path, 'link path', fail);
    clean(target, 'link target', fail);
    const found = overlayLookup([dir, ...lowerDirsTopFirst], target);
    if (!found) return fail('the target is in none of the lower layers');
    if (found.stat.isDirectory()) fail('the target is a directory');
    const here = join(dir, target);
    if (found.path !== here) {
      // Copy up the parents that this layer lacks, then the file itself.
      const parts = target.split('/');
      for (let i = 1; i < parts.length; i++) {
        const rel = parts.slice(0, i).join('/');
        const mine = join(dir, rel);
        let st: Stats | undefined;
        try {
          st = lstatSync(mine);
        } catch {
          st = undefined;
        }
        if (st) {
          if (!st.isDirectory()) fail(`${rel} is not a directory in this layer`);
          continue;
        }
        const lower = overlayLookup(lowerDirsTopFirst, rel);
        mkdirSync(mine);
        if (lower) copyMeta(lower.path, mine, lower.stat);
      }
      copyUp(found.path, here, found.stat);
    }
    const at = join(dir, path);
    try {
      lstatSync(at);
      fail('something already exists at the link path');
    } catch (e) {
      if (e instanceof LowerLinkError) throw e;
    }
    linkSync(here, at);
  }
}

function copyUp(from: string, to: string, st: Stats): void {
  if (st.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
  else if (st.isFile()) copyFileSync(from, to, constants.COPYFILE_EXCL);
  else if (st.isFIFO()) sys.mknod(to, sys.S_IFIFO | 0o600);
  else if (st.isCharacterDevice() || st.isBlockDevice()) {
    // glibc's dev_t layout: major in bits 8-19 and 32-43, minor in bits 0-7 and 20-31.
    const dev = BigInt(st.rdev);
    const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
    const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
    sys.mknod(to, (st.isCharacterDevice() ? sys.S_IFCHR : sys.S_IFBLK) | 0o600, major, minor);
  } else throw new LowerLinkError(`cannot copy up ${from}: unsupported file type`);
  copyMeta(from, to, st);
}

function copyMeta(from: string, to: string, st: Stats): void {
  lchownSync(to, st.uid, st.gid);
  if (!st.isSymbolicLink()) chmodSync(to, st.mode & 0o7777);
  for (const name of sys.llistxattr(from)) {
    if (name.startsWith('trusted.overlay.')) continue;
    const value = sys.lgetxattr(from, name);
    if (value) sys.lsetxattr(to, name, value);
  }
  const ns = lstatSync(from, { bigint: true });
  const split = (v: bigint): Time => ({ sec: Number(v / 1_000_000_000n) - (v % 1_000_000_000n < 0n ? 1 : 0), nsec: Number(((v % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n) });
  sys.lutimens(to, split(ns.atimeNs), split(ns.mtimeNs));
}
