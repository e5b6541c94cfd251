// `cp`: files between a container (running or not) and the host, with docker's path rules. The
// container side is what dockerd does for the archive API (stat a path, tar a path, extract a tar
// into a directory); the host side is what docker's CLI does around those calls: where a copy
// lands ("dir into dir", "file onto dir", a trailing "/." for a directory's contents), renaming
// the top of the archive to match, and refusing what would have to be guessed.
//
// Paths in the container are resolved inside its filesystem (rooted-fs.ts), with its volumes
// and bind mounts where it mounts them; a symlink that the image or the running container
// planted never leads out of it. Nothing goes through an actual tar unless one side is "-".
import { lstatSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { openLayer } from '../../image/layer/decompress.ts';
import { readTar } from '../../image/tar/reader.ts';
import { tarStream } from '../../image/tar/writer.ts';
import { openContainerView, type ContainerView } from './container-view.ts';
import type { ContainerEnv } from './lifecycle.ts';
import { RootedFs, type TreeEntry } from './rooted-fs.ts';
import { checkTree, entriesOfTar, extractTree, walkTree, type TreeTarEntry } from './tree-archive.ts';

/** What docker's daemon would refuse: the CLI shows it as "Error response from daemon: ...". */
export class ContainerPathError extends Error {
  override name = 'ContainerPathError';
}

/** What docker's CLI itself refuses, shown as it is. */
export class CopyError extends Error {
  override name = 'CopyError';
}

// --- Go's path functions, as docker's archive package uses them ---

function goClean(p: string): string {
  if (p === '') return '.';
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

function goBase(p: string): string {
  if (p === '') return '.';
  const stripped = p.replace(/\/+$/, '');
  return stripped === '' ? '/' : stripped.slice(stripped.lastIndexOf('/') + 1);
}

function goDir(p: string): string {
  return goClean(p.slice(0, p.lastIndexOf('/') + 1));
}

const hasTrailingSeparator = (p: string): boolean => p.endsWith('/');
const specifiesCurrentDir = (p: string): boolean => goBase(p) === '.';
const assertsDirectory = (p: string): boolean => hasTrailingSeparator(p) || specifiesCurrentDir(p);

/** A cleaned path that keeps the original's trailing "/" or "/." (which mean "a directory" and "its contents"). */
export function preserveTrailingDotOrSeparator(cleaned: string, original: string): string {
  let out = cleaned;
  if (!specifiesCurrentDir(out) && specifiesCurrentDir(original)) {
    if (!hasTrailingSeparator(out)) out += '/';
    out += '.';
  }
  if (!hasTrailingSeparator(out) && hasTrailingSeparator(original)) out += '/';
  return out;
}

/** The directory to copy into and the entry in it ("/a/b/." is "/a/b" and "."). */
function splitPathDirEntry(p: string): [string, string] {
  let cleaned = goClean(p);
  if (specifiesCurrentDir(p)) cleaned += '/.';
  return [goDir(cleaned), goBase(cleaned)];
}

/** docker's GetRebaseName: the resolved path, and the name the archive's top must get back. */
function rebaseAfterResolve(path: string, resolved: string): [string, string | undefined] {
  let out = resolved;
  if (specifiesCurrentDir(path) && !specifiesCurrentDir(out)) out += '/.';
  if (hasTrailingSeparator(path) && !hasTrailingSeparator(out)) out += '/';
  return [out, goBase(path) !== goBase(out) ? goBase(path) : undefined];
}

/** An absolute local path, keeping a trailing "/" or "/.". */
export function resolveLocalPath(p: string): string {
  return preserveTrailingDotOrSeparator(posix.resolve(p), p);
}

// --- the container side (dockerd's archive API) ---

/** A path in the container as dockerd takes it: absolute, with its trailing "/" or "/." kept. */
function containerAbsPath(path: string): string {
  return preserveTrailingDotOrSeparator(goClean(posix.join('/', path)), path);
}

export interface ContainerPathStat {
  name: string;
  size: number;
  mode: number;
  mtime: Date;
  /** For a symlink: where it leads in the container, every link resolved. */
  linkTarget: string;
  isDir: boolean;
}

/** Resolves `path` in the container (the last link followed only after a trailing "/" or "/."). */
function lookupIn(view: ContainerView, ref: string, path: string): { entry: TreeEntry; st: Stats; absPath: string } {
  const absPath = containerAbsPath(path);
  const follow = assertsDirectory(absPath);
  let entry: TreeEntry;
  try {
    entry = view.fs.lookup(absPath, { follow });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ContainerPathError(`Could not find the file ${path} in container ${ref}`);
    if (code === 'ENOTDIR') throw new ContainerPathError(`lstat ${absPath}: not a directory`);
    throw new ContainerPathError((e as Error).message);
  }
  const st = view.fs.lstat(entry);
  if (!st) {
    view.fs.release(entry);
    throw new ContainerPathError(`Could not find the file ${path} in container ${ref}`);
  }
  if (hasTrailingSeparator(absPath) && !st.isDirectory()) {
    view.fs.release(entry);
    throw new ContainerPathError(`lstat ${absPath}: not a directory`);
  }
  return { entry, st, absPath };
}

/** docker's container stat-path: what is at `path`, and for a symlink where it finally leads. */
export function statContainerPath(view: ContainerView, ref: string, path: string): ContainerPathStat {
  const { entry, st, absPath } = lookupIn(view, ref, path);
  try {
    let linkTarget = '';
    if (st.isSymbolicLink()) {
      const resolved = view.fs.lookup(absPath, { follow: true });
      linkTarget = resolved.path;
      view.fs.release(resolved);
    }
    return { name: goBase(absPath), size: st.size, mode: st.mode, mtime: st.mtime, linkTarget, isDir: st.isDirectory() };
  } finally {
    view.fs.release(entry);
  }
}

interface Source {
  /** Walks the tree (again, for each call). */
  walk(): AsyncIterable<TreeTarEntry>;
  isDir: boolean;
  /** The name the archive's top entry has ("d", "." for a directory's contents, "/" for the root). */
  top: string;
  close(): void;
}

/** docker's container archive: `path` and what is below it, named from the path's last element. */
function containerSource(view: ContainerView, ref: string, path: string, rename?: (top: string) => string): Source {
  const { entry, st, absPath } = lookupIn(view, ref, path);
  const top = rename ? rename(goBase(absPath)) : goBase(absPath);
  return { walk: () => walkTree(view.fs, entry, top), isDir: st.isDirectory(), top, close: () => view.fs.release(entry) };
}

/** Extracts entries into the directory `dir` of the container (docker's extract-to-dir). */
async function extractIntoContainer(view: ContainerView, ref: string, dir: string, walk: () => AsyncIterable<TreeTarEntry>, owner: { uid: number; gid: number } | undefined, precheck: boolean): Promise<number> {
  const absPath = containerAbsPath(dir);
  let entry: TreeEntry;
  try {
    entry = view.fs.lookup(absPath, { follow: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ContainerPathError(`Could not find the file ${dir} in container ${ref}`);
    if (code === 'ENOTDIR') throw new ContainerPathError('extraction point is not a directory');
    throw new ContainerPathError((e as Error).message);
  }
  try {
    const st = view.fs.lstat(entry);
    if (!st) throw new ContainerPathError(`Could not find the file ${dir} in container ${ref}`);
    if (!st.isDirectory()) throw new ContainerPathError('extraction point is not a directory');
    const ro = view.fs.readOnly(entry);
    if (ro) throw new ContainerPathError(ro);
    try {
      if (precheck) await checkTree(walk(), entry.path);
      return await extractTree(view.fs, entry.path, walk(), { base: entry.path, ...(owner ? { owner } : {}) });
    } catch (e) {
      if (e instanceof CopyError) throw e;
      throw new ContainerPathError((e as Error).message);
    }
  } finally {
    view.fs.release(entry);
  }
}

// --- the host side (docker's CLI) ---

interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName?: string | undefined;
}

function goLstatError(e: unknown, path: string): CopyError {
  const code = (e as NodeJS.ErrnoException).code;
  const where = (e as NodeJS.ErrnoException).path ?? path;
  if (code === 'ENOENT') return new CopyError(`lstat ${where}: no such file or directory`);
  if (code === 'ENOTDIR') return new CopyError('not a directory');
  return new CopyError((e as Error).message);
}

/** docker's CopyInfoSourcePath: the local source, its parent's links resolved (and its own with -L). */
function copyInfoSourcePath(path: string, followLink: boolean): CopyInfo {
  let resolved: string;
  let rebaseName: string | undefined;
  try {
    if (followLink) {
      [resolved, rebaseName] = rebaseAfterResolve(path, realpathSync(path));
    } else {
      const cut = path.lastIndexOf('/') + 1;
      const dir = path.slice(0, cut);
      const base = path.slice(cut);
      const resolvedDir = dir === '' ? '.' : realpathSync(dir);
      resolved = resolvedDir === '/' ? `/${base}` : `${resolvedDir}/${base}`;
      if (hasTrailingSeparator(path) && goBase(path) !== goBase(resolved)) rebaseName = goBase(path);
    }
  } catch (e) {
    throw goLstatError(e, path);
  }
  let st: Stats;
  try {
    st = lstatSync(resolved);
  } catch (e) {
    throw goLstatError(e, resolved);
  }
  return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName };
}

/** docker's CopyInfoDestinationPath: a local destination, its own links followed (it need not exist; its parent must). */
function copyInfoDestinationPath(original: string): CopyInfo {
  let path = original;
  let st: Stats | undefined;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new CopyError((e as Error).message);
  }
  for (let n = 0; st?.isSymbolicLink(); n++) {
    if (n > 10) throw new CopyError(`too many symlinks in ${original}`);
    const target = readlinkSync(path);
    path = target.startsWith('/') ? target : posix.join(splitPathDirEntry(path)[0], target);
    try {
      st = lstatSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new CopyError((e as Error).message);
      st = undefined;
    }
  }
  if (st) return { path, exists: true, isDir: st.isDirectory() };
  const [parent] = splitPathDirEntry(path);
  let parentSt: Stats;
  try {
    parentSt = statSync(parent);
  } catch {
    throw new CopyError(`stat ${parent}: no such file or directory`);
  }
  if (!parentSt.isDirectory()) throw new CopyError('not a directory');
  return { path, exists: false, isDir: false };
}

/**
 * docker's PrepareArchiveCopy: the directory the archive is extracted into, and the name its
 * top entry must take there so that the copy lands where the user asked.
 */
function prepareArchiveCopy(src: CopyInfo, dst: CopyInfo, top: string): [string, string] {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  const srcBase = src.rebaseName ?? splitPathDirEntry(src.path)[1];
  const rebased = top === srcBase ? dstBase : top;
  if (dst.exists && dst.isDir) return [dst.path, top];
  if (dst.exists && src.isDir) throw new CopyError('cannot copy directory');
  if (dst.exists || src.isDir) return [dstDir, rebased];
  if (assertsDirectory(dst.path)) throw new CopyError('no such directory');
  return [dstDir, rebased];
}

/** Renames the archive's top entry (and what is under it) the way docker's RebaseArchiveEntries does. */
async function* renameTop(entries: AsyncIterable<TreeTarEntry>, from: string, to: string): AsyncGenerator<TreeTarEntry> {
  if (from === to) {
    yield* entries;
    return;
  }
  const rename = (name: string) => (name === from ? to : name.startsWith(from.endsWith('/') ? from : from + '/') ? posix.join(to, name.slice(from.length)) : name);
  for await (const e of entries) yield { ...e, name: rename(e.name), ...(e.type === 'link' && e.linkname ? { linkname: rename(e.linkname) } : {}) };
}

/** docker's ValidateOutputPath for a local destination. */
export function validateOutputPath(path: string): void {
  const dir = goDir(goClean(path));
  if (dir !== '' && dir !== '.') {
    try {
      statSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CopyError(`invalid output path: directory ${JSON.stringify(dir)} does not exist`);
    }
  }
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new CopyError((e as Error).message);
  }
  if (st.isDirectory() || st.isFile()) return;
  const why = st.isBlockDevice() || st.isCharacterDevice() ? 'got a device' : 'got an irregular file';
  throw new CopyError(`invalid output path: ${JSON.stringify(path)} must be a directory or a regular file: ${why}`);
}

const caller = () => ({ uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });

export interface CopyOptions {
  /** -L: follow a symlink that the source path names. */
  followLink?: boolean;
  /** -a: keep the source's uid/gid; otherwise the copy belongs to the caller. */
  archive?: boolean;
}

export interface CopyResult {
  /** Bytes of the tar that the copy amounts to (docker's "Successfully copied"). */
  bytes: number;
  /** Where the copy went, as docker's message names it. */
  destination: string;
}

/**
 * `cp CONTAINER:SRC DEST`: `dest` is a local path (absolute, its trailing "/" or "/." kept), or a
 * stream that gets the tar (cp ... -).
 */
export async function copyFromContainer(env: ContainerEnv, ref: string, srcPath: string, dest: string | Writable, o: CopyOptions = {}): Promise<CopyResult> {
  const c = env.containers.find(ref);
  const view = openContainerView(env, c, { mounts: true });
  try {
    let path = srcPath;
    let rebaseName: string | undefined;
    if (o.followLink) {
      let st: ContainerPathStat | undefined;
      try {
        st = statContainerPath(view, ref, srcPath);
      } catch {
        st = undefined;
      }
      if (st?.linkTarget) [path, rebaseName] = rebaseAfterResolve(srcPath, st.linkTarget);
    }
    if (typeof dest !== 'string') {
      const source = containerSource(view, ref, path);
      try {
        let bytes = 0;
        const count = async function* (chunks: AsyncIterable<Buffer>) {
          for await (const b of chunks) {
            bytes += b.length;
            yield b;
          }
        };
        await pipeline(Readable.from(count(tarStream(source.walk()))), dest, { end: false });
        return { bytes, destination: '-' };
      } finally {
        source.close();
      }
    }
    const [, srcBase] = splitPathDirEntry(path);
    const source = containerSource(view, ref, path, (top) => (rebaseName !== undefined && top === srcBase ? rebaseName : top));
    try {
      const dstInfo = copyInfoDestinationPath(dest);
      const [dstDir, top] = prepareArchiveCopy({ path, exists: true, isDir: source.isDir, rebaseName }, dstInfo, source.top);
      let host: RootedFs;
      try {
        host = new RootedFs(realpathSync(dstDir));
      } catch (e) {
        throw goLstatError(e, dstDir);
      }
      try {
        const walk = () => renameTop(source.walk(), source.top, top);
        await checkTree(walk(), dstDir);
        const bytes = await extractTree(host, '/', walk(), { base: dstDir, ...(o.archive ? {} : { owner: caller() }) });
        return { bytes, destination: dest };
      } catch (e) {
        if (e instanceof ContainerPathError) throw e;
        throw new CopyError((e as Error).message);
      } finally {
        host.close();
      }
    } finally {
      source.close();
    }
  } finally {
    view.release();
  }
}

/** `cp SRC CONTAINER:DEST`: `src` is a local path (absolute, trailing "/" or "/." kept), or a stream of a tar (cp - ...). */
export async function copyToContainer(env: ContainerEnv, src: string | Readable, ref: string, dstPath: string, o: CopyOptions = {}): Promise<CopyResult> {
  const c = env.containers.find(ref);
  const view = openContainerView(env, c, { mounts: true });
  try {
    const dstInfo: CopyInfo = { path: dstPath, exists: false, isDir: false };
    try {
      let st = statContainerPath(view, ref, dstPath);
      if (st.linkTarget) {
        dstInfo.path = st.linkTarget;
        st = statContainerPath(view, ref, st.linkTarget);
        if ((st.mode & 0o170000) === 0o020000 || (st.mode & 0o170000) === 0o060000) {
          throw new CopyError(`destination "${ref}:${dstPath}" must be a directory or a regular file: got a device`);
        }
      }
      dstInfo.exists = true;
      dstInfo.isDir = st.isDir;
    } catch (e) {
      // as docker's CLI: a destination that cannot be stat-ed may still be made by the extraction
      if (e instanceof CopyError) throw e;
    }
    const owner = o.archive ? undefined : caller();
    if (typeof src !== 'string') {
      if (!dstInfo.isDir) throw new CopyError(`destination "${ref}:${dstPath}" must be a directory`);
      const layer = await openLayer(src, { maxUncompressedBytes: Number.MAX_SAFE_INTEGER, name: 'stdin' });
      const bytes = await extractIntoContainer(view, ref, dstInfo.path, () => entriesOfTar(readTar(layer.data)), owner, false);
      return { bytes, destination: `${ref}:${dstInfo.path}` };
    }
    const srcInfo = copyInfoSourcePath(src, o.followLink ?? false);
    const host = new RootedFs('/');
    try {
      let entry: TreeEntry;
      try {
        entry = host.lookup(srcInfo.path, { follow: assertsDirectory(srcInfo.path) });
      } catch (e) {
        throw goLstatError(e, srcInfo.path);
      }
      try {
        const [, base] = splitPathDirEntry(srcInfo.path);
        const top0 = srcInfo.rebaseName ?? base;
        const [dstDir, top] = prepareArchiveCopy(srcInfo, dstInfo, top0);
        const bytes = await extractIntoContainer(view, ref, dstDir, () => walkTree(host, entry, top), owner, true);
        return { bytes, destination: `${ref}:${dstInfo.path}` };
      } finally {
        host.release(entry);
      }
    } finally {
      host.close();
    }
  } finally {
    view.release();
  }
}
