// Trees in and out of tar entries, as docker's pkg/archive makes and applies them for cp, export
// and commit: a walk in Go's order (each directory, then its names sorted by their bytes), hard
// links found by inode, sockets skipped; and an extraction that refuses names, symlinks and hard
// links leading out of the destination, and never writes through a symlink. Both sides go
// through a RootedFs, so a tree that changes while it is read (a running container) cannot send
// a walk or a write outside it.
import { closeSync, constants, fstatSync, lchownSync, linkSync, openSync, readlinkSync, readSync, symlinkSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import * as sys from '../../sys/index.ts';
import type { TarEntry } from '../../image/tar/writer.ts';
import type { TarEntry as ReadEntry } from '../../image/tar/reader.ts';
import { fchownAndMode, type RootedFs, type TreeDir, type TreeEntry } from './rooted-fs.ts';

/** A tar entry with the nanoseconds of its mtime, which extraction keeps. */
export interface TreeTarEntry extends TarEntry {
  mtimeNsec?: number;
}

const OVERLAY_XATTR = 'trusted.overlay.';
const WHITEOUT = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';

export interface WalkOptions {
  /**
   * An overlay layer: a 0/0 character device is a deletion (".wh.<name>"), an opaque directory
   * gets a ".wh..wh..opq" entry, as docker's overlay2 driver writes a layer's tar.
   */
  layer?: boolean;
  /** Leave out the top entry itself (a layer's or an export's root). */
  skipTop?: boolean;
}

/** Names in the archive: the top's name, then its descendants under it ("d", "d/x"; "/", "/x"; ".", "./x"; "", "x"). */
function nameUnder(top: string, rel: string): string {
  if (rel === '') return top;
  if (top === '') return rel;
  return top.endsWith('/') ? top + rel : `${top}/${rel}`;
}

function xattrsOf(path: string, layer: boolean): Record<string, Buffer> | undefined {
  let names: string[];
  try {
    names = sys.llistxattr(path);
  } catch {
    return undefined;
  }
  const out: Record<string, Buffer> = {};
  for (const n of names) {
    if (n.startsWith(OVERLAY_XATTR)) {
      // redirects and metacopy would make the upper directory a partial view; hull's mounts enable neither
      if (layer && (n === 'trusted.overlay.redirect' || n === 'trusted.overlay.metacopy')) {
        throw new Error(`${path}: the layer uses overlayfs ${n.slice(OVERLAY_XATTR.length)}, which commit cannot read as a tar`);
      }
      continue;
    }
    const v = sys.lgetxattr(path, n);
    if (v) out[n] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** glibc's dev_t layout: major in bits 8-19 and 32-43, minor in bits 0-7 and 20-31. */
export function splitDev(rdev: number): [number, number] {
  const dev = BigInt(rdev);
  return [Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)), Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn))];
}

/** A regular file's bytes, exactly `size` of them: a file that shrank while read is padded with zeros. */
function fileData(path: string, size: number, what: string): Readable {
  return Readable.from((async function* () {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      if (!fstatSync(fd).isFile()) throw new Error(`${what} changed while it was read`);
      let left = size;
      while (left > 0) {
        const buf = Buffer.allocUnsafe(Math.min(left, 1 << 20));
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) {
          yield Buffer.alloc(left);
          return;
        }
        left -= n;
        yield n < buf.length ? buf.subarray(0, n) : buf;
      }
    } finally {
      closeSync(fd);
    }
  })(), { objectMode: false });
}

function mtimeOf(st: Stats): { mtime: number; mtimeNsec: number } {
  const ms = st.mtimeMs;
  const sec = Math.floor(ms / 1000);
  return { mtime: sec, mtimeNsec: Math.round((ms - sec * 1000) * 1e6) };
}

/**
 * The tar entries of `top` and, when it is a directory, of everything below it, named from
 * `topName`. Sockets are left out, as docker leaves them out. Times are whole seconds in the
 * archive (mtimeNsec carries the rest for a direct extraction).
 */
export async function* walkTree(fs: RootedFs, top: TreeEntry, topName: string, o: WalkOptions = {}): AsyncGenerator<TreeTarEntry> {
  const links = new Map<string, string>();
  const layer = o.layer ?? false;

  async function* visit(e: TreeEntry, rel: string, isTop: boolean): AsyncGenerator<TreeTarEntry> {
    const st = fs.lstat(e);
    if (!st) return;
    const name = nameUnder(topName, rel);
    const path = fs.at(e);
    const base = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, ...mtimeOf(st) };
    if (st.isDirectory()) {
      const xattrs = xattrsOf(path, layer);
      const opaque = layer && sys.lgetxattr(path, 'trusted.overlay.opaque')?.toString() === 'y';
      if (!(isTop && o.skipTop)) {
        yield { ...base, type: 'dir', ...(xattrs ? { xattrs } : {}) };
        if (opaque) yield { name: nameUnder(name, OPAQUE_MARKER), type: 'file', mode: st.mode & 0o777, uid: st.uid, gid: st.gid, mtime: 0, size: 0 };
      }
      const dir = fs.openDir(e);
      try {
        for (const child of fs.list(dir)) yield* visit(fs.child(dir, child), rel === '' ? child : `${rel}/${child}`, false);
      } finally {
        fs.closeDir(dir);
      }
      return;
    }
    if (isTop && o.skipTop) return;
    if (st.isSymbolicLink()) {
      const xattrs = xattrsOf(path, layer);
      yield { ...base, type: 'symlink', linkname: readlinkSync(path), ...(xattrs ? { xattrs } : {}) };
      return;
    }
    if (st.isCharacterDevice() && st.rdev === 0 && layer) {
      // an overlay whiteout: docker's tar names the deleted file with the .wh. prefix
      const slash = name.lastIndexOf('/');
      yield { ...base, name: `${name.slice(0, slash + 1)}${WHITEOUT}${name.slice(slash + 1)}`, type: 'file', mode: 0o600, size: 0 };
      return;
    }
    if (st.isSocket()) return;
    const xattrs = xattrsOf(path, layer);
    const extra = xattrs ? { xattrs } : {};
    if (st.nlink > 1 && !st.isDirectory()) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first !== undefined) {
        yield { ...base, type: 'link', linkname: first, ...extra };
        return;
      }
      links.set(key, name);
    }
    if (st.isFile()) {
      yield { ...base, type: 'file', size: st.size, data: fileData(path, st.size, e.path), ...extra };
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const [devmajor, devminor] = splitDev(st.rdev);
      yield { ...base, type: st.isCharacterDevice() ? 'char' : 'block', devmajor, devminor, ...extra };
    } else if (st.isFIFO()) {
      yield { ...base, type: 'fifo', ...extra };
    }
  }

  yield* visit(top, '', true);
}

/** Entries read from a tar stream (cp's "-"), as the extraction takes them. */
export async function* entriesOfTar(entries: AsyncIterable<ReadEntry>): AsyncGenerator<TreeTarEntry> {
  const types = { file: 'file', hardlink: 'link', symlink: 'symlink', char: 'char', block: 'block', directory: 'dir', fifo: 'fifo' } as const;
  for await (const e of entries) {
    const h = e.header;
    if (h.type === 'unsupported') throw new Error(`tar entry ${JSON.stringify(h.path)}: unsupported type '${h.typeflag}'`);
    const type = types[h.type];
    yield {
      name: h.path, type, mode: h.mode, uid: h.uid, gid: h.gid, mtime: h.mtime, mtimeNsec: h.mtimeNsec,
      size: type === 'file' ? h.size : 0, linkname: h.linkpath, devmajor: h.devmajor, devminor: h.devminor,
      ...(h.xattrs.size > 0 ? { xattrs: Object.fromEntries(h.xattrs) } : {}),
      ...(type === 'file' ? { data: Readable.from(e.body(), { objectMode: false }) } : {}),
    };
  }
}

export interface ExtractOptions {
  /** Owner of everything extracted; the archive's own uid/gid when absent (cp -a). */
  owner?: { uid: number; gid: number };
  /**
   * The destination directory as text, for docker's checks that names, symlinks and hard links
   * stay below it (a host path, or the path in the container).
   */
  base: string;
}

/** A check that failed: an archive entry that would reach outside the destination. */
export class BreakoutError extends Error {
  override name = 'BreakoutError';
}

/** Bytes as a tar of these entries would take (what docker's cp reports as copied). */
export function tarSize(e: TarEntry): number {
  const size = e.type === 'file' ? (e.size ?? 0) : 0;
  return 512 + Math.ceil(size / 512) * 512;
}

/** The entry's name relative to the destination ("." for the destination itself), after docker's checks that it, its symlink's target and its hard link's target stay below `base`. */
export function checkEntry(e: TarEntry, destination: string): string {
  const base = cleanBase(destination);
  const clean = posix.normalize(e.name);
  const rel = clean.startsWith('/') ? clean.replace(/^\/+/, '').replace(/\/+$/, '') || '.' : clean.replace(/\/+$/, '');
  if (rel === '..' || rel.startsWith('../')) throw new BreakoutError(`${JSON.stringify(e.name)} is outside of ${JSON.stringify(base)}`);
  const text = posix.join(base, rel);
  if (e.type === 'symlink' && !within(base, posix.join(posix.dirname(text), e.linkname ?? ''))) {
    throw new BreakoutError(`invalid symlink ${JSON.stringify(text)} -> ${JSON.stringify(e.linkname)}`);
  }
  if (e.type === 'link' && !within(base, posix.join(base, e.linkname ?? ''))) {
    throw new BreakoutError(`invalid hardlink ${JSON.stringify(text)} -> ${JSON.stringify(e.linkname)}`);
  }
  return rel;
}

/**
 * Runs checkEntry over a whole tree before anything is written, so that a tree that cannot be
 * copied (a symlink in it that leads out) leaves nothing half-copied. The walk reads no file data.
 */
export async function checkTree(entries: AsyncIterable<TarEntry>, destination: string): Promise<void> {
  for await (const e of entries) checkEntry(e, destination);
}

function cleanBase(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
}

/** Whether `target` is `base` or below it. */
function within(base: string, target: string): boolean {
  return base === '/' || target === base || target.startsWith(base + '/');
}

/**
 * Applies entries below the directory `destPath` of `fs` (docker's Untar with
 * NoOverwriteDirNonDir): missing parents are made (0755), a directory over a directory merges,
 * anything else replaces what was there, but never a directory by a non-directory or the other
 * way round. Directory times are set last. Returns the tar bytes the entries make.
 */
export async function extractTree(fs: RootedFs, destPath: string, entries: AsyncIterable<TreeTarEntry>, o: ExtractOptions): Promise<number> {
  const caller = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const dirTimes: [string, number, number][] = [];
  let bytes = 1024;
  let cached: { path: string; entry: TreeEntry; dir: TreeDir } | undefined;
  const dropCache = () => {
    if (!cached) return;
    fs.closeDir(cached.dir);
    fs.release(cached.entry);
    cached = undefined;
  };
  const parentDir = (path: string): TreeDir => {
    if (cached?.path === path) return cached.dir;
    dropCache();
    const entry = fs.lookup(path, { follow: true, mkdirs: caller });
    let dir: TreeDir;
    try {
      dir = fs.openDir(entry);
    } catch (e) {
      fs.release(entry);
      throw e;
    }
    cached = { path, entry, dir };
    return dir;
  };
  try {
    for await (const e of entries) {
      bytes += tarSize(e);
      const rel = checkEntry(e, o.base);
      const viewPath = posix.join(destPath, rel);
      const owner = o.owner ?? { uid: e.uid ?? 0, gid: e.gid ?? 0 };
      let target: TreeEntry;
      if (rel === '.') {
        dropCache();
        target = fs.lookup(destPath, { follow: true });
      } else {
        const dir = parentDir(posix.dirname(viewPath));
        target = fs.child(dir, posix.basename(viewPath));
      }
      try {
        const ro = fs.readOnly(target);
        if (ro) throw new Error(ro);
        await applyEntry(fs, target, e, owner, viewPath, posix.join(destPath, posix.normalize(e.linkname ?? '').replace(/^\/+/, '')));
        if (e.type === 'dir') dirTimes.push([viewPath, e.mtime, e.mtimeNsec ?? 0]);
      } finally {
        if (target.owned) fs.release(target);
      }
      // a directory replaced or made may be the cached parent of what follows
      if (e.type !== 'file' && cached && (cached.path === viewPath || cached.path.startsWith(viewPath + '/'))) dropCache();
    }
  } finally {
    dropCache();
  }
  for (const [path, sec, nsec] of dirTimes.sort((a, b) => b[0].split('/').length - a[0].split('/').length)) {
    let entry: TreeEntry;
    try {
      entry = fs.lookup(path, { follow: false });
    } catch {
      continue;
    }
    try {
      if (fs.lstat(entry)?.isDirectory()) sys.lutimens(fs.at(entry), { sec, nsec }, { sec, nsec });
    } finally {
      fs.release(entry);
    }
  }
  return bytes;
}

async function applyEntry(fs: RootedFs, t: TreeEntry, e: TreeTarEntry, owner: { uid: number; gid: number }, viewPath: string, linkViewPath: string): Promise<void> {
  const existing = fs.lstat(t);
  const path = fs.at(t);
  if (existing) {
    if (existing.isDirectory() && e.type === 'dir') {
      // merge: only the metadata changes
      const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | (t.graft ? 0 : constants.O_NOFOLLOW));
      try {
        fchownAndMode(fd, owner.uid, owner.gid, e.mode);
      } finally {
        closeSync(fd);
      }
      setXattrs(path, e.xattrs);
      return;
    }
    if (existing.isDirectory()) throw new Error(`cannot overwrite directory ${JSON.stringify(viewPath)} with non-directory ${JSON.stringify(e.name)}`);
    if (e.type === 'dir') throw new Error(`cannot overwrite non-directory ${JSON.stringify(viewPath)} with directory ${JSON.stringify(e.name)}`);
    if (t.graft) throw new Error(`cannot replace ${viewPath}: it is a mount point in the container`);
    unlinkSync(path);
  }
  const time = { sec: e.mtime, nsec: e.mtimeNsec ?? 0 };
  switch (e.type) {
    case 'dir': {
      fs.mkdir(t, e.mode, owner);
      setXattrs(path, e.xattrs);
      return;
    }
    case 'file': {
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        let written = 0;
        if (Buffer.isBuffer(e.data)) written += writeAll(fd, e.data);
        else if (e.data) for await (const chunk of e.data) written += writeAll(fd, chunk as Buffer);
        if (written !== (e.size ?? written)) throw new Error(`${e.name}: the archive gave ${written} bytes where its header says ${e.size}`);
        fchownAndMode(fd, owner.uid, owner.gid, e.mode);
        setXattrs(path, e.xattrs);
      } finally {
        closeSync(fd);
      }
      sys.lutimens(path, time, time);
      return;
    }
    case 'symlink': {
      symlinkSync(e.linkname ?? '', path);
      lchownSync(path, owner.uid, owner.gid);
      setXattrs(path, e.xattrs);
      sys.lutimens(path, time, time);
      return;
    }
    case 'link': {
      const source = fs.lookup(linkViewPath, { follow: false });
      try {
        const st = fs.lstat(source);
        if (!st) throw new Error(`hard link ${JSON.stringify(e.name)}: its target ${JSON.stringify(e.linkname)} does not exist`);
        if (st.isDirectory()) throw new Error(`hard link ${JSON.stringify(e.name)}: its target ${JSON.stringify(e.linkname)} is a directory`);
        linkSync(fs.at(source), path);
      } finally {
        fs.release(source);
      }
      return;
    }
    case 'char':
    case 'block':
    case 'fifo': {
      const type = e.type === 'char' ? sys.S_IFCHR : e.type === 'block' ? sys.S_IFBLK : sys.S_IFIFO;
      const old = process.umask(0);
      try {
        sys.mknod(path, type | (e.mode & 0o7777), e.devmajor ?? 0, e.devminor ?? 0);
      } finally {
        process.umask(old);
      }
      lchownSync(path, owner.uid, owner.gid);
      setXattrs(path, e.xattrs);
      sys.lutimens(path, time, time);
      return;
    }
  }
}

function writeAll(fd: number, chunk: Buffer): number {
  let off = 0;
  while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
  return chunk.length;
}

/** xattrs a filesystem refuses (no user xattrs on it, no privilege for trusted.*) are skipped, as docker skips them. */
function setXattrs(path: string, xattrs: Record<string, Buffer> | undefined): void {
  for (const [name, value] of Object.entries(xattrs ?? {})) {
    if (name.startsWith(OVERLAY_XATTR)) continue;
    try {
      sys.lsetxattr(path, name, value);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EPERM') continue;
      throw err;
    }
  }
}
