// The engine's image operations that need no registry: find, list, tag, remove, inspect,
// history, prune and disk usage. The CLI and (later) the API server render what these return.
import { familiarString, fullString, normalize, parseAnyReference, withDefaultTag, isImageIdPrefix, ReferenceError, repository, type Reference } from '../image/reference.ts';
import { shortId } from '../image/digest.ts';
import { parseImageConfig, type ImageConfig } from '../image/manifest.ts';
import type { GcResult, ImageRecord, ImageStore } from '../image/store/image-store.ts';
import { diskUsage } from '../image/store/disk-usage.ts';
import { parseFilterTime, rfc3339Nanos } from './filter-time.ts';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

export class NotFoundError extends Error {}
export class ConflictError extends Error {}

/** Resolves what a user typed (name, name:tag, name@digest, ID or ID prefix) to an image. */
export function findImage(store: ImageStore, input: string): ImageRecord {
  const found = lookup(store, input);
  if (!found) throw new NotFoundError(`No such image: ${input}`);
  return found;
}

function lookup(store: ImageStore, input: string): ImageRecord | undefined {
  let any;
  try {
    any = parseAnyReference(input);
  } catch (err) {
    if (!(err instanceof ReferenceError)) throw err;
    if (!isImageIdPrefix(input)) throw err;
  }
  if (any?.kind === 'id') return store.get(any.id);
  if (any?.kind === 'name') {
    const id = store.byName(fullString(withDefaultTag(any.ref)));
    if (id) return store.get(id);
  }
  if (isImageIdPrefix(input)) {
    const ids = store.byIdPrefix(input);
    if (ids.length > 1) throw new ConflictError(`${input}: ambiguous image ID prefix, it matches ${ids.length} images`);
    if (ids.length === 1) return store.get(ids[0]!);
  }
  return undefined;
}

export function imageConfig(store: ImageStore, id: string): ImageConfig {
  return parseImageConfig(store.content.read(id));
}

/** The familiar form users see: "busybox:latest", "localhost:5000/app:1". */
export function familiar(name: string): string {
  return familiarString(normalize(name));
}

export interface ImageFilters {
  dangling?: boolean;
  reference?: string[];
  label?: string[];
  before?: string;
  since?: string;
}

export function parseImageFilters(store: ImageStore, raw: string[]): ImageFilters {
  const f: ImageFilters = {};
  for (const item of raw) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new Error(`bad format of filter (expected name=value): ${item}`);
    const key = item.slice(0, eq);
    const value = item.slice(eq + 1);
    switch (key) {
      case 'dangling':
        if (!['true', 'false', '1', '0'].includes(value)) throw new Error(`invalid filter 'dangling=${value}'`);
        f.dangling = value === 'true' || value === '1';
        break;
      case 'reference':
        (f.reference ??= []).push(value);
        break;
      case 'label':
        (f.label ??= []).push(value);
        break;
      case 'before':
      case 'since':
        f[key] = findImage(store, value).id;
        break;
      default:
        throw new Error(`invalid filter '${key}'`);
    }
  }
  return f;
}

/** `images`: every image, filtered as docker's filters say; dangling ones unless `all` is false and filters exclude them. */
export function listImages(store: ImageStore, filters: ImageFilters = {}): ImageRecord[] {
  const all = store.list();
  const stored = (id: string | undefined) => all.find((i) => i.id === id)?.stored ?? 0;
  return all.filter((img) => {
    const dangling = img.tags.length === 0;
    if (filters.dangling !== undefined && dangling !== filters.dangling) return false;
    if (filters.before && !(img.stored < stored(filters.before))) return false;
    if (filters.since && !(img.stored > stored(filters.since))) return false;
    if (filters.reference && !filters.reference.some((p) => img.tags.some((t) => referenceMatches(p, t)))) return false;
    if (filters.label) {
      const labels = imageConfig(store, img.id).config?.Labels ?? {};
      for (const l of filters.label) {
        const eq = l.indexOf('=');
        const [k, v] = eq < 0 ? [l, undefined] : [l.slice(0, eq), l.slice(eq + 1)];
        if (!(k in labels) || (v !== undefined && labels[k] !== v)) return false;
      }
    }
    return true;
  });
}

/** docker's reference filter: a glob over the familiar name, or over name:tag when the pattern has a tag. */
function referenceMatches(pattern: string, fullName: string): boolean {
  const ref = normalize(fullName);
  const name = familiarString({ domain: ref.domain, path: ref.path });
  const candidates = [name, `${name}:${ref.tag ?? ''}`, familiarString(ref), fullString(ref)];
  const re = globToRegExp(pattern);
  return candidates.some((c) => re.test(c));
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const ch of glob) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function tagImage(store: ImageStore, source: string, target: string): void {
  const img = findImage(store, source);
  const ref = normalize(target);
  if (ref.digest) throw new Error(`refusing to create a tag with a digest reference`);
  store.tag(img.id, fullString(ref));
}

export interface RemoveResult {
  untagged: string[];
  deleted: string[];
}

/**
 * `rmi`, as docker decides: a name that is one of several removes only that name; the last name
 * or an ID removes the image, unless a container uses it (then only with force, and the image's
 * content stays until that container is gone).
 */
export function removeImage(store: ImageStore, input: string, opts: { force?: boolean; noPrune?: boolean; running?: (holder: string) => boolean } = {}): RemoveResult {
  const img = findImage(store, input);
  const out: RemoveResult = { untagged: [], deleted: [] };
  const names = [...img.tags, ...img.repoDigests];
  const holders = store.holders(img.id);
  const running = holders.filter((h) => opts.running?.(h));
  const byName = (() => {
    try {
      const any = parseAnyReference(input);
      if (any.kind !== 'name') return undefined;
      return fullString(withDefaultTag(any.ref));
    } catch {
      return undefined;
    }
  })();
  if (byName && names.includes(byName)) {
    const others = names.filter((n) => n !== byName && !n.includes('@'));
    const isLastTag = others.length === 0;
    if (!isLastTag || (holders.length > 0 && opts.force)) {
      store.untag(byName);
      out.untagged.push(familiar(byName));
      if (!isLastTag) return out;
      for (const d of img.repoDigests) {
        store.untag(d);
        out.untagged.push(familiar(d));
      }
      return out;
    }
    if (holders.length > 0) {
      throw new ConflictError(`conflict: unable to remove repository reference "${input}" (must force) - container ${shortId(holders[0]!.replace(/^container:/, ''))} is using its referenced image ${shortId(img.id)}`);
    }
  } else {
    if (img.tags.length > 1 && !opts.force) {
      throw new ConflictError(`conflict: unable to delete ${shortId(img.id)} (must be forced) - image is referenced in multiple repositories`);
    }
    if (running.length > 0) {
      throw new ConflictError(`conflict: unable to delete ${shortId(img.id)} (cannot be forced) - image is being used by running container ${shortId(running[0]!.replace(/^container:/, ''))}`);
    }
    if (holders.length > 0 && !opts.force) {
      throw new ConflictError(`conflict: unable to delete ${shortId(img.id)} (must be forced) - image is being used by stopped container ${shortId(holders[0]!.replace(/^container:/, ''))}`);
    }
  }
  for (const n of names) {
    store.untag(n);
    out.untagged.push(familiar(n));
  }
  const layers = store.layers(img.id).map((l) => l.chainId);
  store.deleteImage(img.id);
  out.deleted.push(img.id);
  if (!opts.noPrune) {
    const gc = store.gc();
    for (const c of layers.reverse()) if (gc.snapshots.includes(c)) out.deleted.push(c);
  }
  return out;
}

/** What `image prune` removes, from docker's prune filters (dangling, until, label, label!). */
export interface PruneFilters {
  /** Only images with no tag (docker's default; `-a` or dangling=false prunes every unused image). */
  danglingOnly: boolean;
  /** Keep images created after this instant (nanoseconds since the epoch), and those with no creation time. */
  until?: bigint;
  /** Prune only images with every one of these labels ("key" or "key=value"). */
  labels: string[];
  /** Keep images that have every one of these labels. */
  notLabels: string[];
}

const PRUNE_FILTER_KEYS = new Set(['dangling', 'until', 'label', 'label!']);

/**
 * docker's `--filter name=value` flags as a map from name to values: the name lowercased and
 * both trimmed, split at the first "=" (so "label!=a=b" is label! with a=b).
 */
export function filterArgs(raw: string[]): Map<string, string[]> {
  const args = new Map<string, string[]>();
  for (const item of raw) {
    const eq = item.indexOf('=');
    if (eq < 0) throw new Error(`bad format of filter (expected name=value): ${item}`);
    const key = item.slice(0, eq).trim().toLowerCase();
    const value = item.slice(eq + 1).trim();
    const values = args.get(key) ?? [];
    if (!values.includes(value)) values.push(value);
    args.set(key, values);
  }
  return args;
}

/** Checks prune filters as docker does and turns them into what pruneImages needs. `now` (ms) anchors durations. */
export function parsePruneFilters(args: Map<string, string[]>, now: number = Date.now()): PruneFilters {
  for (const key of args.keys()) if (!PRUNE_FILTER_KEYS.has(key)) throw new Error(`invalid filter '${key}'`);
  const filters: PruneFilters = { danglingOnly: true, labels: args.get('label') ?? [], notLabels: args.get('label!') ?? [] };
  const dangling = args.get('dangling');
  if (dangling) {
    // one value only: -a adds dangling=false and its absence dangling=true, so a filter that says otherwise conflicts
    const value = dangling.length === 1 ? dangling[0]!.toLowerCase() : undefined;
    if (value === 'true' || value === '1') filters.danglingOnly = true;
    else if (value === 'false' || value === '0') filters.danglingOnly = false;
    else throw new Error(`invalid filter 'dangling=${dangling.join(',')}'`);
  }
  const until = args.get('until');
  if (until && until.length > 1) throw new Error('more than one until filter specified');
  if (until) filters.until = parseFilterTime(until[0]!, now);
  return filters;
}

/** docker's label match: every "key" is present, and every "key=value" has that value. */
function hasLabels(labels: Record<string, string>, wanted: string[]): boolean {
  return wanted.every((w) => {
    const eq = w.indexOf('=');
    const [k, v] = eq < 0 ? [w, undefined] : [w.slice(0, eq), w.slice(eq + 1)];
    return Object.hasOwn(labels, k) && (v === undefined || labels[k] === v);
  });
}

/** Whether the prune filters leave this image to be pruned. */
function prunable(store: ImageStore, img: ImageRecord, filters: PruneFilters): boolean {
  if (filters.danglingOnly && img.tags.length > 0) return false;
  if (filters.until !== undefined) {
    const created = img.created ? rfc3339Nanos(img.created) : undefined;
    if (created === undefined || created > filters.until) return false;
  }
  if (filters.labels.length || filters.notLabels.length) {
    const labels = imageConfig(store, img.id).config?.Labels ?? {};
    if (!hasLabels(labels, filters.labels)) return false;
    // as docker's: an image is kept only when it has all the label! labels
    if (filters.notLabels.length && hasLabels(labels, filters.notLabels)) return false;
  }
  return true;
}

export interface PruneResult {
  removed: RemoveResult;
  /** What was untagged and deleted, image by image, in the order docker reports it (API ImagesDeleted). */
  items: ({ untagged: string } | { deleted: string })[];
  gc: GcResult;
  /** Partial downloads no running operation was resuming. */
  partials: { files: string[]; bytes: number };
  /** Everything freed: unreferenced blobs and snapshots, and the partial downloads. */
  reclaimed: number;
}

/** `image prune`: dangling images (or every image no container uses), as the filters narrow them; then whatever that leaves unreferenced. */
export function pruneImages(store: ImageStore, filters: PruneFilters = { danglingOnly: true, labels: [], notLabels: [] }): PruneResult {
  const removed: RemoveResult = { untagged: [], deleted: [] };
  const items: PruneResult['items'] = [];
  for (const img of store.list()) {
    if (!prunable(store, img, filters)) continue;
    if (store.holders(img.id).length > 0) continue;
    for (const n of [...img.tags, ...img.repoDigests]) {
      store.untag(n);
      removed.untagged.push(familiar(n));
      items.push({ untagged: familiar(n) });
    }
    store.deleteImage(img.id);
    removed.deleted.push(img.id);
    items.push({ deleted: img.id });
  }
  const gc = store.gc();
  const partials = store.collectPartials();
  return { removed, items, gc, partials, reclaimed: gc.bytes + partials.bytes };
}

export interface HistoryRow {
  id: string;
  created: string | null;
  createdBy: string;
  size: number;
  comment: string;
}

export function imageHistory(store: ImageStore, input: string): HistoryRow[] {
  const img = findImage(store, input);
  const cfg = imageConfig(store, img.id);
  const layers = store.layers(img.id);
  const rows: HistoryRow[] = [];
  let layer = 0;
  for (const h of cfg.history ?? []) {
    const size = h.empty_layer ? 0 : (store.snapshots.get(layers[layer++]?.chainId ?? '')?.size ?? 0);
    rows.push({ id: '<missing>', created: h.created ?? null, createdBy: h.created_by ?? '', size, comment: h.comment ?? '' });
  }
  if (rows.length === 0) for (const l of layers) rows.push({ id: '<missing>', created: cfg.created ?? null, createdBy: '', size: store.snapshots.get(l.chainId)?.size ?? 0, comment: '' });
  rows.reverse();
  if (rows[0]) rows[0].id = img.id;
  return rows;
}

/** The image as docker's `image inspect` (API ImageInspect) shows it. */
export function inspectImage(store: ImageStore, input: string): Record<string, unknown> {
  const img = findImage(store, input);
  const cfg = imageConfig(store, img.id);
  const layers = store.layers(img.id);
  const lowers = img.topChain ? store.snapshots.lowerDirs(img.topChain) : [];
  return {
    Id: img.id,
    RepoTags: img.tags.map(familiar),
    RepoDigests: img.repoDigests.map(familiar),
    Parent: '',
    Comment: cfg.history?.at(-1)?.comment ?? '',
    Created: cfg.created ?? '',
    DockerVersion: (cfg as { docker_version?: string }).docker_version ?? '',
    Author: cfg.author ?? '',
    Config: cfg.config ?? {},
    Architecture: cfg.architecture,
    ...(cfg.variant ? { Variant: cfg.variant } : {}),
    Os: cfg.os,
    Size: img.size,
    GraphDriver: { Name: 'overlay', Data: lowers.length ? { LowerDir: lowers.join(':') } : {} },
    RootFS: { Type: 'layers', Layers: layers.map((l) => l.diffId) },
    Metadata: { LastTagTime: new Date(img.stored).toISOString() },
    Descriptor: { mediaType: img.manifestType, digest: img.manifest, size: store.content.has(img.manifest) ? store.content.size(img.manifest) : 0 },
  };
}

export function repositoryOf(name: string): string {
  return repository(normalize(name) as Reference);
}

export interface ImageDiskUsage {
  /** Bytes on disk of the image store (blobs and snapshots), exactly as `du` counts them. */
  size: number;
  reclaimable: number;
  total: number;
  active: number;
  images: { record: ImageRecord; shared: number; unique: number; containers: number }[];
}

/** `system df` for images: what the store takes on disk, and what removing unused images frees. */
export function imageDiskUsage(store: ImageStore): ImageDiskUsage {
  const seen = new Set<number>();
  const size = ['blobs', 'snapshots'].map((d) => join(store.root, d)).filter((d) => existsSync(d)).reduce((n, d) => n + diskUsage(d, seen), 0);
  const records = store.list();
  const users = new Map<string, number>();
  const layersOf = new Map(records.map((r) => [r.id, store.layers(r.id)]));
  for (const r of records) for (const l of layersOf.get(r.id)!) users.set(l.chainId, (users.get(l.chainId) ?? 0) + 1);
  const blobUsers = new Map<string, number>();
  const blobsOf = new Map(records.map((r) => [r.id, store.blobsOf(r.id)]));
  for (const r of records) for (const b of blobsOf.get(r.id)!) blobUsers.set(b, (blobUsers.get(b) ?? 0) + 1);
  const blobDisk = (d: string) => (store.content.has(d) ? Math.ceil(statBlocks(store.content.path(d))) : 0);
  const images = records.map((record) => {
    let shared = 0;
    let unique = 0;
    for (const l of layersOf.get(record.id)!) {
      const disk = store.snapshots.get(l.chainId)?.disk ?? 0;
      if ((users.get(l.chainId) ?? 0) > 1) shared += disk;
      else unique += disk;
    }
    for (const b of blobsOf.get(record.id)!) {
      if ((blobUsers.get(b) ?? 0) > 1) shared += blobDisk(b);
      else unique += blobDisk(b);
    }
    return { record, shared, unique, containers: store.holders(record.id).length };
  });
  const active = images.filter((i) => i.containers > 0);
  const activeChains = new Set(active.flatMap((i) => layersOf.get(i.record.id)!.map((l) => l.chainId)));
  const activeBlobs = new Set(active.flatMap((i) => blobsOf.get(i.record.id)!));
  let used = 0;
  for (const c of activeChains) used += store.snapshots.get(c)?.disk ?? 0;
  for (const b of activeBlobs) used += blobDisk(b);
  return { size, reclaimable: Math.max(0, size - used), total: records.length, active: active.length, images };
}

function statBlocks(path: string): number {
  return statSync(path).blocks * 512;
}
