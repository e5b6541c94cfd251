// A container's filesystem as cp and export read and write it: the overlay rootfs (mounted for
// the operation when the container is not running), and for cp the volumes, bind mounts and
// /etc/hosts, /etc/hostname, /etc/resolv.conf grafted where the container mounts them, as
// docker mounts them on its side for a copy. tmpfs mounts live only in the container's own mount
// namespace and are not seen, as in docker.
import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import { transaction } from '../../image/store/metadata.ts';
import type { ContainerEnv } from './lifecycle.ts';
import type { Container } from './model.ts';
import { ContainerPaths } from './paths.ts';
import { isMounted, mountRootfs, unmountRootfs } from './rootfs.ts';
import { RootedFs, type Graft } from './rooted-fs.ts';

export interface ContainerView {
  container: Container;
  fs: RootedFs;
  /** Closes the tree and unmounts the rootfs if this view mounted it and the container did not start meanwhile. */
  release(): void;
}

/** The image's snapshot directories under the container's layer, top first (also when the image was removed). */
export function containerLowerDirs(env: ContainerEnv, c: Container): string[] {
  let chain = env.images.get(c.Image)?.topChain ?? null;
  if (!chain) {
    const row = env.images.db.prepare('SELECT chain_id FROM holds WHERE holder = ?').get(`container:${c.Id}`) as { chain_id: string | null } | undefined;
    chain = row?.chain_id ?? null;
  }
  return chain ? env.images.snapshots.lowerDirs(chain) : [];
}

export const ROOTFS_READ_ONLY = 'container rootfs is marked read-only';
export const VOLUME_READ_ONLY = 'mounted volume is marked read-only';

function grafts(c: Container, p: ContainerPaths): Graft[] {
  const out: Graft[] = [];
  for (const m of c.Mounts) {
    if (m.Type !== 'bind' && m.Type !== 'volume') continue;
    if (!m.Source || !existsSync(m.Source)) continue;
    out.push({ path: posix.normalize(m.Destination), source: m.Source, readOnly: m.RW ? undefined : VOLUME_READ_ONLY });
  }
  const taken = new Set(out.map((g) => g.path));
  for (const [path, source] of [['/etc/hosts', p.hosts], ['/etc/hostname', p.hostname], ['/etc/resolv.conf', p.resolvConf]] as const) {
    if (!taken.has(path) && existsSync(source)) out.push({ path, source });
  }
  return out;
}

export function openContainerView(env: ContainerEnv, c: Container, o: { mounts: boolean }): ContainerView {
  const p = new ContainerPaths(env.roots, c.Id);
  let mounted = false;
  if (!isMounted(p.merged)) {
    mountRootfs(p, containerLowerDirs(env, c), { volatile: c.HostConfig.AutoRemove });
    mounted = true;
  }
  const release = () => {
    if (!mounted) return;
    mounted = false;
    // in one transaction with the check, so that a start (which marks itself in the row before it
    // mounts) either sees the rootfs gone and mounts its own, or keeps this one
    transaction(env.containers.db, () => {
      const now = env.containers.get(c.Id);
      if (!now || (!now.State.Running && now.ShimPid === 0)) unmountRootfs(p);
    });
  };
  let fs: RootedFs;
  try {
    fs = new RootedFs(p.merged, {
      grafts: o.mounts ? grafts(c, p) : [],
      readOnly: c.HostConfig.ReadonlyRootfs ? ROOTFS_READ_ONLY : undefined,
    });
  } catch (e) {
    release();
    throw e;
  }
  return {
    container: c,
    fs,
    release() {
      fs.close();
      release();
    },
  };
}
