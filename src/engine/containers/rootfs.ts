// A container's root filesystem: the image's snapshots under the read-only init layer, with the
// container's own read-write layer on top, mounted with overlayfs in the host's mount namespace.
import { existsSync, mkdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { uptime } from 'node:os';
import { dirname, join } from 'node:path';
import { MNT_DETACH, mount, umount2 } from '../../sys/index.ts';
import type { ContainerPaths } from './paths.ts';

// Mount points the runtime mounts over, and placeholders for the files bound over /etc (docker's
// init layer). Every container has the same, and an overlay never writes to its lower layers, so
// one serves them all: a container's create and removal make and unlink ~25 fewer files.
const INIT_DIRS = ['dev', 'dev/pts', 'dev/shm', 'proc', 'sys', 'etc'];
const INIT_FILES = ['etc/hosts', 'etc/hostname', 'etc/resolv.conf', 'dev/console'];

/** Makes the container's overlay directories, and the shared init layer if it is missing. */
export function makeContainerLayers(p: ContainerPaths): void {
  if (!existsSync(p.init)) makeInitLayer(p.init);
  for (const d of [p.upper, p.work, p.merged]) mkdirSync(d, { recursive: true, mode: 0o755 });
}

/** Made aside and renamed into place, so that no container ever mounts half of it. */
function makeInitLayer(dir: string): void {
  const tmp = `${dir}.${process.pid}.${Date.now()}.tmp`;
  try {
    for (const d of INIT_DIRS) mkdirSync(join(tmp, d), { recursive: true, mode: 0o755 });
    for (const f of INIT_FILES) writeFileSync(join(tmp, f), '', { mode: 0o644 });
    symlinkSync('/proc/mounts', join(tmp, 'etc/mtab'));
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    // another command made it first
    if (!existsSync(dir)) throw e;
  }
}

/**
 * Whether something is mounted on path: an overlay (what is mounted here) is a filesystem of
 * its own, so the directory's device differs from its parent's. Two stats, where reading
 * /proc/self/mountinfo costs ~0.3 ms on a host with a few dozen mounts.
 */
export function isMounted(path: string): boolean {
  try {
    return statSync(path).dev !== statSync(dirname(path)).dev;
  } catch {
    return false;
  }
}

/**
 * Mounts the overlay at p.merged; lowerDirs come top layer first. A container removed when it
 * exits (--rm) gets a volatile writable layer, as podman does: its unmount then skips syncing the
 * disk under it (a cache flush, ~0.5-1 ms here), and nothing in it has to outlive a host crash.
 */
export function mountRootfs(p: ContainerPaths, lowerDirs: string[], o: { volatile?: boolean } = {}): void {
  if (isMounted(p.merged)) return;
  const lowers = [p.init, ...lowerDirs];
  const data = `lowerdir=${lowers.join(':')},upperdir=${p.upper},workdir=${p.work}${o.volatile ? ',volatile' : ''}`;
  // the kernel takes one page of options; docker shortens paths with links for images of ~40+ layers
  if (data.length >= 4096) throw new Error(`cannot mount the rootfs: the image has too many layers (${lowerDirs.length}) for one overlay mount`);
  if (o.volatile) allowVolatileRemount(p);
  if (!existsSync(p.init)) makeInitLayer(p.init);
  try {
    mount('overlay', p.merged, 'overlay', 0, data);
  } catch (e) {
    throw new Error(`cannot mount the container's rootfs at ${p.merged}: ${(e as Error).message}`);
  }
}

/**
 * A volatile mount leaves work/incompat/volatile behind, and overlayfs refuses to mount that
 * layer again until it is removed: the layer may have lost writes if the host went down while
 * it was mounted. Made since this boot, nothing was lost, and it goes; made before, it stays.
 */
function allowVolatileRemount(p: ContainerPaths): void {
  const mark = join(p.work, 'work', 'incompat', 'volatile');
  let made: number;
  try {
    made = statSync(mark).mtimeMs;
  } catch {
    return;
  }
  if (made < Date.now() - uptime() * 1000) {
    throw new Error(`cannot mount the container's rootfs: its writable layer (${p.upper}) was mounted when the host went down, and without syncs (--rm), so its contents cannot be trusted; remove the container`);
  }
  rmSync(mark, { recursive: true, force: true });
}

export function unmountRootfs(p: ContainerPaths): void {
  for (let i = 0; i < 8 && isMounted(p.merged); i++) {
    try {
      umount2(p.merged, MNT_DETACH);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EINVAL' && code !== 'ENOENT') throw e;
    }
  }
}
