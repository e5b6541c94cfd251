// `diff`: what a container changed in its filesystem, read from its overlay upper directory
// against the layers below it (the init layer and the image's snapshots), as docker lists it:
// "A" a path the layers below do not have, "C" one they have (a directory shows C when its own
// mode or owner changed, or when something inside it changed), "D" a whiteout, and every
// name an opaque directory hides. Paths come in walk order: a directory, then its names sorted.
// No mount is needed, so this works for a container in any state.
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import * as sys from '../../sys/index.ts';
import { containerLowerDirs } from './container-view.ts';
import type { ContainerEnv } from './lifecycle.ts';
import type { Container } from './model.ts';
import { ContainerPaths } from './paths.ts';
import { RootedFs, type TreeDir } from './rooted-fs.ts';

/** The Docker API's FilesystemChange: Kind 0 modified ("C"), 1 added ("A"), 2 deleted ("D"). */
export interface FilesystemChange {
  Path: string;
  Kind: 0 | 1 | 2;
}

export const CHANGE_KIND_LETTER = ['C', 'A', 'D'] as const;

const isWhiteout = (st: Stats): boolean => st.isCharacterDevice() && st.rdev === 0;

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function opaque(path: string): boolean {
  return sys.lgetxattr(path, 'trusted.overlay.opaque')?.toString() === 'y';
}

/** A path as the read-only layers show it, overlayfs's way: the top one's stat, and for a directory the layer directories that make it up. */
interface LowerEntry {
  st: Stats;
  dirs: string[];
}

/**
 * The layers below the container's own, merged as overlayfs merges them. They never change
 * while the container exists (the image's snapshots and the init layer), so plain lstat is safe.
 */
class LowerView {
  private readonly layers: string[];
  constructor(layersTopFirst: string[]) {
    this.layers = layersTopFirst;
  }

  root(): LowerEntry {
    return { st: lstatSync(this.layers[0] ?? '/'), dirs: this.layers };
  }

  /** `name` in the directory `parent` of the lower view. */
  child(parent: LowerEntry, name: string): LowerEntry | undefined {
    let found: LowerEntry | undefined;
    for (const dir of parent.dirs) {
      const path = join(dir, name);
      const st = lstatOrUndefined(path);
      if (!st) continue;
      if (isWhiteout(st)) break;
      if (!found) {
        found = { st, dirs: [] };
        if (!st.isDirectory()) break;
      } else if (!st.isDirectory()) {
        break;
      }
      found.dirs.push(path);
      if (opaque(path)) break;
    }
    return found;
  }

  /** The names a directory of the lower view shows. */
  names(dir: LowerEntry): string[] {
    const seen = new Map<string, boolean>();
    for (const d of dir.dirs) {
      for (const name of readdirSync(d)) {
        if (seen.has(name)) continue;
        const st = lstatOrUndefined(join(d, name));
        seen.set(name, !!st && !isWhiteout(st));
      }
      if (opaque(d)) break;
    }
    return [...seen].filter(([, visible]) => visible).map(([name]) => name);
  }
}

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** The changes of container c. */
export function containerChanges(env: ContainerEnv, c: Container): FilesystemChange[] {
  const p = new ContainerPaths(env.roots, c.Id);
  const lower = new LowerView([p.init, ...containerLowerDirs(env, c)]);
  // the upper directory changes under a running container: walk it without following links
  const upper = new RootedFs(p.upper);
  try {
    return changesIn(upper, upper.root, '', lower, lower.root(), false);
  } finally {
    upper.close();
  }
}

function changesIn(upper: RootedFs, dir: TreeDir, rel: string, lower: LowerView, below: LowerEntry | undefined, isOpaque: boolean): FilesystemChange[] {
  const out: FilesystemChange[] = [];
  const names = upper.list(dir);
  const mine = new Set(names);
  const hidden = isOpaque && below ? lower.names(below).filter((n) => !mine.has(n)) : [];
  const hiddenSet = new Set(hidden);
  for (const name of [...names, ...hidden].sort(byBytes)) {
    const childRel = `${rel}/${name}`;
    if (hiddenSet.has(name)) {
      out.push({ Path: childRel, Kind: 2 });
      continue;
    }
    const entry = upper.child(dir, name);
    const st = upper.lstat(entry);
    if (!st) continue;
    const under = below ? lower.child(below, name) : undefined;
    if (isWhiteout(st)) {
      if (under) out.push({ Path: childRel, Kind: 2 });
      continue;
    }
    if (!st.isDirectory()) {
      out.push({ Path: childRel, Kind: under ? 0 : 1 });
      continue;
    }
    const childOpaque = opaque(upper.at(entry));
    const sub = upper.openDir(entry);
    let inside: FilesystemChange[];
    try {
      inside = changesIn(upper, sub, childRel, lower, under?.st.isDirectory() ? under : undefined, childOpaque);
    } finally {
      upper.closeDir(sub);
    }
    if (!under) out.push({ Path: childRel, Kind: 1 });
    else if (!under.st.isDirectory() || inside.length > 0 || metaChanged(st, under.st)) out.push({ Path: childRel, Kind: 0 });
    out.push(...inside);
  }
  return out;
}

/** What docker compares for a directory: not its size or mtime, which any change inside moves. */
function metaChanged(a: Stats, b: Stats): boolean {
  return (a.mode & 0o7777) !== (b.mode & 0o7777) || a.uid !== b.uid || a.gid !== b.gid;
}
