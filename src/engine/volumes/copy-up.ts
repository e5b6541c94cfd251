// Docker's copy-up: the content of an image directory copied into the empty volume mounted over
// it, with everything a tar round trip would keep: owners, modes (setuid and sticky bits too),
// extended attributes (file capabilities, ACLs), nanosecond times, symlinks, hard links, device
// nodes and fifos. Sockets are skipped, as docker's archiver skips them.
import { constants, copyFileSync, lchownSync, chmodSync, linkSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { lgetxattr, llistxattr, lsetxattr, lutimens, mknod } from '../../sys/index.ts';

const S_IFMT = 0o170000n;
const S_IFDIR = 0o040000n;
const S_IFREG = 0o100000n;
const S_IFLNK = 0o120000n;
const S_IFCHR = 0o020000n;
const S_IFBLK = 0o060000n;
const S_IFIFO = 0o010000n;
const NS = 1_000_000_000n;

/**
 * Copies the tree under `from` into `to`, an existing empty directory, then gives `to` the owner
 * and mode of `from` (what docker's copyOwnership does). The caller empties `to` on failure.
 */
export function copyTree(from: string, to: string): void {
  const links = new Map<string, string>();
  for (const name of readdirSync(from)) copyEntry(join(from, name), join(to, name), links);
  const st = lstatSync(from, { bigint: true });
  lchownSync(to, Number(st.uid), Number(st.gid));
  chmodSync(to, Number(st.mode & 0o7777n));
}

function copyEntry(src: string, dst: string, links: Map<string, string>): void {
  const st = lstatSync(src, { bigint: true });
  const type = st.mode & S_IFMT;
  // A second name of an inode already copied becomes a hard link to that copy.
  const key = `${st.dev}:${st.ino}`;
  if (type !== S_IFDIR && st.nlink > 1n) {
    const first = links.get(key);
    if (first) {
      linkSync(first, dst);
      return;
    }
  }
  switch (type) {
    case S_IFDIR:
      mkdirSync(dst, { mode: 0o700 });
      for (const name of readdirSync(src)) copyEntry(join(src, name), join(dst, name), links);
      break;
    case S_IFREG:
      copyFileSync(src, dst, constants.COPYFILE_EXCL);
      break;
    case S_IFLNK:
      symlinkSync(readlinkSync(src), dst);
      break;
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO: {
      const { major, minor } = splitDev(st.rdev);
      mknod(dst, Number(type) | 0o600, major, minor);
      break;
    }
    default:
      return; // a socket: it means nothing without the process that listened on it
  }
  if (type !== S_IFDIR && st.nlink > 1n) links.set(key, dst);
  copyAttributes(src, dst, st, type === S_IFLNK);
}

// Owner first (chown clears setuid bits and file capabilities), then the attributes, then the
// mode, then the times last (writing the others would touch ctime only, but a directory's
// mtime changed as its entries were made).
function copyAttributes(src: string, dst: string, st: BigIntStats, symlink: boolean): void {
  lchownSync(dst, Number(st.uid), Number(st.gid));
  for (const name of llistxattr(src)) {
    const value = lgetxattr(src, name);
    if (value === null) continue;
    try {
      lsetxattr(dst, name, value);
    } catch (err) {
      // The volume's filesystem cannot hold this kind of attribute (e.g. user.* on some
      // filesystems); the content is still what the image has.
      if ((err as NodeJS.ErrnoException).code !== 'ENOTSUP' && (err as NodeJS.ErrnoException).code !== 'EOPNOTSUPP') throw err;
    }
  }
  if (!symlink) chmodSync(dst, Number(st.mode & 0o7777n));
  lutimens(dst, split(st.atimeNs), split(st.mtimeNs));
}

function split(ns: bigint): { sec: number; nsec: number } {
  let sec = ns / NS;
  let nsec = ns % NS;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += NS;
  }
  return { sec: Number(sec), nsec: Number(nsec) };
}

/** Linux's dev_t encoding (glibc's gnu_dev_major/minor). */
function splitDev(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}
