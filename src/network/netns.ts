// Network namespaces pinned by a bind mount on a file, as `ip netns` does, so that one outlives
// the processes in it and any process can join it by path (the OCI spec's network namespace
// path, a netlink socket made inside it).
import { closeSync, constants, openSync, rmSync } from 'node:fs';
import { CLONE_NEWNET, MNT_DETACH, netnsCreate, nsType, umount2 } from '../sys/index.ts';

/**
 * Makes a new network namespace pinned at path. The file must not exist yet; its directory
 * must. When anything fails, the file is removed again and no namespace is left.
 */
export function createNetns(path: string): void {
  try {
    closeSync(openSync(path, constants.O_RDONLY | constants.O_CREAT | constants.O_EXCL, 0o444));
  } catch (err) {
    throw withPrefix(err, `create network namespace ${path}`);
  }
  try {
    netnsCreate(path);
  } catch (err) {
    rmSync(path, { force: true });
    throw withPrefix(err, `create network namespace ${path}`);
  }
}

/**
 * Unpins the network namespace at path and removes the file. Idempotent: a missing file, or a
 * file that is not mounted on, is fine. The namespace itself goes when its last process or
 * socket does, and its links with it (a veth's other end too).
 */
export function removeNetns(path: string): void {
  // A file may have been pinned more than once (a retry after a crash): take every mount off.
  for (let i = 0; i < 16; i++) {
    try {
      umount2(path, MNT_DETACH);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EINVAL' || code === 'ENOENT') break; // not a mount point (any more), or no file
      throw withPrefix(err, `remove network namespace ${path}`);
    }
  }
  try {
    rmSync(path, { force: true });
  } catch (err) {
    throw withPrefix(err, `remove network namespace ${path}`);
  }
}

/** Whether path is a pinned (or /proc) network namespace. */
export function isNetns(path: string): boolean {
  try {
    return nsType(path) === CLONE_NEWNET;
  } catch {
    return false;
  }
}

function withPrefix(err: unknown, what: string): unknown {
  if (!(err instanceof Error)) return err;
  const e = err as NodeJS.ErrnoException;
  const out = new Error(`${what}: ${e.message}`, { cause: err }) as NodeJS.ErrnoException;
  if (e.code !== undefined) out.code = e.code;
  if (e.errno !== undefined) out.errno = e.errno;
  if (e.syscall !== undefined) out.syscall = e.syscall;
  if (e.path !== undefined) out.path = e.path;
  return out;
}
