// The one module through which the Node process makes syscalls that node:fs lacks (DESIGN.md,
// "The C boundary"). The calls live in dist/hull-sys.node (native/sys.c), a context-aware N-API
// addon, so worker threads may load it too. Errors are thrown as Node's fs errors are: an Error
// with code ('EPERM'), errno (negative, as Node's), syscall and path.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Native {
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
  lutimens(path: string, atimeSec: number, atimeNsec: number, mtimeSec: number, mtimeNsec: number): void;
  syncfs(path: string): void;
  syncfsAsync(path: string): Promise<void>;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  umount2(target: string, flags: number): void;
  netnsCreate(path: string): void;
  netlinkOpen(protocol: number, netnsPath: string | null): number;
  netlinkSend(fd: number, data: Buffer): void;
  netlinkRecv(fd: number): Buffer;
  nsType(path: string): number;
  socketpair(): [number, number];
  pipe(nonblockingRead: boolean): [number, number];
  spawnDetached(file: string, argv: string[], fds: number[]): number;
  holdAddressSpace(): void;
}

export class NativeAddonError extends Error {
  override name = 'NativeAddonError';
}

let native: Native | undefined;

/**
 * Loads one of hull's N-API addons by file name. From src/ the addons are in the repository's
 * dist/; from an esbuild bundle in dist/, import.meta.url is the bundle's own URL and the addon
 * sits next to it.
 */
export function loadAddon<T>(file: string): T {
  const candidates = [new URL(`./${file}`, import.meta.url), new URL(`../../dist/${file}`, import.meta.url)];
  const found = candidates.find((u) => existsSync(u));
  if (!found) {
    throw new NativeAddonError(`${file} not found (looked at ${candidates.map((u) => fileURLToPath(u)).join(', ')}); run "make -C native"`);
  }
  return createRequire(import.meta.url)(fileURLToPath(found)) as T;
}

function load(): Native {
  return (native ??= loadAddon<Native>('hull-sys.node'));
}

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_REMOUNT = 0x20;
export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MS_PRIVATE = 0x40000;

export const MNT_FORCE = 0x1;
export const MNT_DETACH = 0x2;

/** mknod(2); mode includes the file type (S_IFCHR, S_IFBLK, S_IFIFO). */
export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  load().mknod(path, mode, major, minor);
}

/** lsetxattr(2): sets an extended attribute without following a final symlink. */
export function lsetxattr(path: string, name: string, value: Buffer | string): void {
  load().lsetxattr(path, name, typeof value === 'string' ? Buffer.from(value) : value);
}

/** lgetxattr(2): the attribute's value, or null when the file has no such attribute. */
export function lgetxattr(path: string, name: string): Buffer | null {
  return load().lgetxattr(path, name);
}

/** llistxattr(2): the names of the attributes this process may see. */
export function llistxattr(path: string): string[] {
  return load().llistxattr(path);
}

/**
 * utimensat(2) with AT_SYMLINK_NOFOLLOW: sets a file's (or a symlink's own) times to the
 * nanosecond. Seconds may be negative; nanoseconds are 0..999999999.
 */
export function lutimens(path: string, atime: { sec: number; nsec: number }, mtime: { sec: number; nsec: number }): void {
  load().lutimens(path, atime.sec, atime.nsec, mtime.sec, mtime.nsec);
}

/** syncfs(2) on the filesystem that holds path. */
export function syncfs(path: string): void {
  load().syncfs(path);
}

/** syncfs on libuv's threadpool, so that the calling thread goes on while the disk is written. */
export function syncfsAsync(path: string): Promise<void> {
  return load().syncfsAsync(path);
}

/** mount(2) in the calling process's mount namespace. */
export function mount(source: string | null, target: string, fstype: string | null, flags = 0, data: string | null = null): void {
  load().mount(source, target, fstype, flags, data);
}

/** umount2(2). */
export function umount2(target: string, flags = 0): void {
  load().umount2(target, flags);
}

export const CLONE_NEWNET = 0x40000000;

export const NETLINK_ROUTE = 0;

/**
 * A new network namespace pinned by a bind mount on path, which must be an existing file.
 * Only the calling thread enters the new namespace, for the length of the call.
 */
export function netnsCreate(path: string): void {
  load().netnsCreate(path);
}

/**
 * A bound netlink socket (SOCK_RAW, close-on-exec) of the given protocol, made inside the
 * network namespace pinned at netnsPath, or the calling thread's own when null; it stays in
 * that namespace. Extended and capped acks and strict dump checks are on where the kernel has
 * them. Returns the fd; close it with fs.closeSync.
 */
export function netlinkOpen(protocol: number, netnsPath: string | null = null): number {
  return load().netlinkOpen(protocol, netnsPath);
}

/** Sends one netlink datagram to the kernel. */
export function netlinkSend(fd: number, data: Buffer): void {
  load().netlinkSend(fd, data);
}

/** Receives the next whole datagram from the kernel, waiting for it. */
export function netlinkRecv(fd: number): Buffer {
  return load().netlinkRecv(fd);
}

/** The CLONE_NEW* flag of the namespace file at path; throws ENOTTY when it is not one. */
export function nsType(path: string): number {
  return load().nsType(path);
}

/** A connected pair of AF_UNIX stream sockets, both close-on-exec. Close them with fs.closeSync. */
export function socketpair(): [number, number] {
  return load().socketpair();
}

/**
 * pipe2(2) with O_CLOEXEC: [read end, write end]; with nonblockingRead, the read end alone is
 * O_NONBLOCK (reads give EAGAIN rather than wait). Close them with fs.closeSync.
 */
export function pipe(nonblockingRead = false): [number, number] {
  return load().pipe(nonblockingRead);
}

/**
 * Runs file with argv (argv[0] included) in a new session, with fds[i] as its fd i (-1 for
 * /dev/null) and no other fd, every signal at its default and this process's environment.
 * It is not our child: the two vfork-style clones of a double fork hand it to init (or the
 * nearest subreaper) before this returns its pid, so it outlives us and is never ours to reap.
 * Throws as node:fs does when the program cannot be run (ENOENT, EACCES, ...). Unlike
 * child_process it never copies this process's memory, which makes it ~4 ms faster from a
 * fresh `hull`.
 */
export function spawnDetached(file: string, argv: string[], fds: number[]): number {
  return load().spawnDetached(file, argv, fds);
}

/**
 * Called as the process exits: the kernel's teardown of this process's memory (~3 ms for a Node
 * process) then happens after whoever waits for the exit has been told, in a child that shares
 * the memory and leaves as soon as this process is gone (native/sys.c). Best effort.
 */
export function holdAddressSpace(): void {
  load().holdAddressSpace();
}
