// A directory tree seen as a root filesystem: every path is resolved inside it, one component
// at a time, relative to an open directory, as openat2(RESOLVE_IN_ROOT) would. ".." stops at the
// root, an absolute symlink target starts again from the root, and no symlink is ever followed
// by the kernel: each component is opened with O_NOFOLLOW through /proc/self/fd/<dir>/<name>,
// which the kernel looks up relative to the open directory itself, not to a path that a running
// container could change under us. A container's rootfs (with its volumes grafted in where it
// mounts them), its read-write layer, and a host directory that a copy writes into are all
// walked this way.
import { closeSync, constants, fchmodSync, fchownSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { posix } from 'node:path';

const O_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** Linux's own limit on links followed in one lookup. */
const MAX_LINKS = 40;

/** Another tree mounted at `path` of this one (a volume, a bind mount, /etc/hosts). */
export interface Graft {
  path: string;
  /** A host path; trusted, as the engine or the user chose it. */
  source: string;
  /** Why nothing may be written there, or undefined when it is writable. */
  readOnly?: string | undefined;
}

/** A directory open inside the tree. */
export interface TreeDir {
  fd: number;
  /** Its path in the tree ("/", "/etc"). */
  path: string;
  readOnly: string | undefined;
}

/** A name in a directory of the tree (not necessarily existing), or a grafted file or directory. */
export interface TreeEntry {
  parent: TreeDir;
  /** One component, or "." for the directory itself. */
  name: string;
  path: string;
  graft?: Graft;
  /** Whether releasing the entry closes its parent (a lookup opened it). */
  owned: boolean;
}

export function fsError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const text: Record<string, string> = {
    ENOENT: 'no such file or directory',
    ENOTDIR: 'not a directory',
    ELOOP: 'too many levels of symbolic links',
    EISDIR: 'is a directory',
  };
  return Object.assign(new Error(`${syscall} ${path}: ${text[code] ?? code}`), { code, syscall, path });
}

export interface LookupOptions {
  /** Resolve the last component too when it is a symlink. */
  follow: boolean;
  /** Create missing directories on the way (0755), owned by this uid/gid. */
  mkdirs?: { uid: number; gid: number };
}

export class RootedFs {
  readonly root: TreeDir;
  private readonly grafts = new Map<string, Graft>();
  private closed = false;

  /** `hostRoot` is trusted (symlinks in it are followed on the host); everything below it is not. */
  constructor(hostRoot: string, opts: { grafts?: Graft[]; readOnly?: string | undefined } = {}) {
    for (const g of opts.grafts ?? []) {
      let source: string;
      try {
        source = realpathSync(g.source);
      } catch {
        continue;
      }
      this.grafts.set(posix.normalize(g.path), { ...g, source });
    }
    this.root = { fd: openSync(hostRoot, constants.O_RDONLY | constants.O_DIRECTORY), path: '/', readOnly: opts.readOnly };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.root.fd);
  }

  /** A path for the l* syscalls (lstat, lchown, lsetxattr, symlink, mkdir...) naming the entry and never following it. */
  at(e: TreeEntry): string {
    if (e.graft) return e.graft.source;
    return `/proc/self/fd/${e.parent.fd}/${e.name}`;
  }

  /** The entry's lstat, or undefined when it does not exist. A graft is stat-ed as its (host) source. */
  lstat(e: TreeEntry): Stats | undefined {
    try {
      return e.graft ? statSync(e.graft.source) : lstatSync(this.at(e));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
  }

  readOnly(e: TreeEntry): string | undefined {
    return e.graft ? e.graft.readOnly : e.parent.readOnly;
  }

  /** The entry `name` of an open directory, with any graft mounted there. */
  child(dir: TreeDir, name: string): TreeEntry {
    const path = posix.join(dir.path, name);
    const graft = this.grafts.get(path);
    return { parent: dir, name, path, ...(graft ? { graft } : {}), owned: false };
  }

  /** Opens an entry that is a directory (ENOTDIR if it is not, ELOOP if it is a symlink). */
  openDir(e: TreeEntry): TreeDir {
    if (e.graft) return { fd: openSync(e.graft.source, constants.O_RDONLY | constants.O_DIRECTORY), path: e.path, readOnly: e.graft.readOnly };
    return { fd: openSync(this.at(e), O_DIR), path: e.path, readOnly: e.parent.readOnly };
  }

  /** A directory's names, sorted by their bytes as Go's directory walks sort them. */
  list(dir: TreeDir): string[] {
    return readdirSync(`/proc/self/fd/${dir.fd}`).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }

  closeDir(dir: TreeDir): void {
    if (dir !== this.root) closeSync(dir.fd);
  }

  release(e: TreeEntry): void {
    if (e.owned) this.closeDir(e.parent);
  }

  /**
   * Resolves `path` (absolute in the tree; a relative one is taken from the root) to an entry:
   * every symlink on the way is followed inside the tree, and the last one too with `follow`.
   * A missing directory on the way is ENOENT (or made, with mkdirs); a file on the way ENOTDIR.
   * Release the result.
   */
  lookup(path: string, o: LookupOptions): TreeEntry {
    const stack: TreeDir[] = [this.root];
    const top = () => stack[stack.length - 1]!;
    const unwind = (keep: number) => {
      while (stack.length > keep) this.closeDir(stack.pop()!);
    };
    const pending = path.split('/').reverse();
    const more = () => pending.some((p) => p !== '' && p !== '.');
    let links = 0;
    try {
      while (pending.length > 0) {
        const part = pending.pop()!;
        if (part === '' || part === '.') continue;
        if (part === '..') {
          unwind(Math.max(1, stack.length - 1));
          continue;
        }
        const last = !more();
        const here = this.child(top(), part);
        if (here.graft) {
          if (last) return this.keep(stack, here);
          let st;
          try {
            st = statSync(here.graft.source);
          } catch {
            throw fsError('ENOENT', 'lstat', here.path);
          }
          if (!st.isDirectory()) throw fsError('ENOTDIR', 'lstat', here.path);
          stack.push(this.openDir(here));
          continue;
        }
        const st = this.lstat(here);
        if (st?.isSymbolicLink() && (o.follow || !last)) {
          if (++links > MAX_LINKS) throw fsError('ELOOP', 'lstat', path);
          const target = readlinkSync(this.at(here));
          if (target.startsWith('/')) unwind(1);
          pending.push(...target.split('/').reverse());
          continue;
        }
        if (last) return this.keep(stack, here);
        if (!st) {
          if (!o.mkdirs) throw fsError('ENOENT', 'lstat', here.path);
          if (top().readOnly) throw new Error(top().readOnly);
          this.mkdir(here, 0o755, o.mkdirs);
        } else if (!st.isDirectory()) {
          throw fsError('ENOTDIR', 'lstat', here.path);
        }
        stack.push(this.openDir(here));
      }
      // nothing after the last directory: the entry is that directory itself
      return this.keep(stack, { parent: top(), name: '.', path: top().path, owned: false });
    } catch (e) {
      unwind(1);
      throw e;
    }
  }

  /** Makes a directory where `e` names nothing, with exactly this mode and owner (no umask). */
  mkdir(e: TreeEntry, mode: number, owner: { uid: number; gid: number }): void {
    mkdirSync(this.at(e), { mode: 0o700 });
    const fd = openSync(this.at(e), O_DIR);
    try {
      fchownAndMode(fd, owner.uid, owner.gid, mode);
    } finally {
      closeSync(fd);
    }
  }

  /** Keeps the top of the stack open for the entry, closes the rest. */
  private keep(stack: TreeDir[], e: TreeEntry): TreeEntry {
    const parent = stack.pop()!;
    while (stack.length > 1) this.closeDir(stack.pop()!);
    return { ...e, parent, owned: parent !== this.root };
  }
}

/** chown first: it clears setuid and setgid, which the mode then sets again. */
export function fchownAndMode(fd: number, uid: number, gid: number, mode: number): void {
  fchownSync(fd, uid, gid);
  fchmodSync(fd, mode & 0o7777);
}
