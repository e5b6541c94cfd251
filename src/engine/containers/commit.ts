// `commit`: a new image from a container, as dockerd makes one. Its layers are the container's
// image's layers and one more made from the container's overlay upper directory (whiteouts as
// .wh. files, opaque directories as .wh..wh..opq; hard links, xattrs and devices kept), stored
// gzip-compressed. Its config is the container's, with --change instructions applied, and a
// history entry for the new layer. A container that changed nothing adds an empty_layer entry
// and no layer, as in docker. A running container is paused while its layer is read (unless
// --pause=false).
//
// Everything is made under a lease and installed by the image store in one transaction at the
// end, so a failure (a full disk, a kill) leaves no blob, snapshot, row or scratch file behind.
import { createHash } from '../../crypto.ts';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import type { Digest } from '../../image/digest.ts';
import { installImage, type LayerBlob } from '../../image/install.ts';
import type { LayerLimits } from '../../image/layer/unpack.ts';
import {
  MediaType,
  parseImageConfig,
  parseManifestDocument,
  serializeConfig,
  serializeManifest,
  type ContainerConfig as ImageRuntimeConfig,
  type Descriptor,
  type HistoryEntry,
  type ImageConfig,
} from '../../image/manifest.ts';
import { hostPlatform } from '../../image/platform.ts';
import { fullString, normalize } from '../../image/reference.ts';
import type { ImageRecord, ImageStore } from '../../image/store/image-store.ts';
import type { Lease } from '../../image/store/leases.ts';
import { tarStream } from '../../image/tar/writer.ts';
import { pause as runtimePause, resume as runtimeResume } from '../../runtime/container.ts';
import { applyChanges } from '../archive/changes.ts';
import { containerLowerDirs } from './container-view.ts';
import type { ContainerEnv } from './lifecycle.ts';
import type { Container, ContainerConfig } from './model.ts';
import { ContainerPaths } from './paths.ts';
import { runtimeStore } from './runtime-state.ts';
import { RootedFs } from './rooted-fs.ts';
import { walkTree } from './tree-archive.ts';

export interface CommitOptions {
  /** REPOSITORY[:TAG] for the new image. */
  reference?: string | undefined;
  author?: string | undefined;
  /** The history entry's comment (commit -m). */
  comment?: string | undefined;
  /** Dockerfile instructions applied to the config (commit -c). */
  changes?: string[] | undefined;
  /** Pause a running container while its layer is read (docker's default). */
  pause?: boolean | undefined;
  limits?: Partial<LayerLimits> | undefined;
}

/** What the user asked for cannot be done: shown as docker shows its daemon's refusals. */
export class CommitError extends Error {
  override name = 'CommitError';
}

/** The tag a commit gets, as a full name ("docker.io/library/app:latest"). */
export function commitTag(input: string): string {
  const ref = normalize(input);
  if (ref.digest !== undefined) throw new CommitError(`cannot commit to digest reference ${JSON.stringify(input)}: give REPOSITORY[:TAG]`);
  return fullString(ref);
}

/** The image config's "config" from a container's: the fields an image keeps (docker drops Hostname, Tty and the like). */
export function imageRuntimeConfig(cc: ContainerConfig, parent: ImageRuntimeConfig | undefined): ImageRuntimeConfig {
  const out: ImageRuntimeConfig = {};
  const keys = (o: object | null | undefined) => (o ? Object.keys(o) : []);
  if (cc.User) out.User = cc.User;
  if (keys(cc.ExposedPorts).length) out.ExposedPorts = Object.fromEntries(keys(cc.ExposedPorts).map((k) => [k, {}]));
  if (cc.Env?.length) out.Env = [...cc.Env];
  if (cc.Entrypoint?.length) out.Entrypoint = [...cc.Entrypoint];
  if (cc.Cmd?.length) out.Cmd = [...cc.Cmd];
  if (keys(cc.Volumes).length) out.Volumes = Object.fromEntries(keys(cc.Volumes).map((k) => [k, {}]));
  if (cc.WorkingDir) out.WorkingDir = cc.WorkingDir;
  if (keys(cc.Labels).length) out.Labels = { ...cc.Labels };
  if (cc.StopSignal) out.StopSignal = cc.StopSignal;
  if (cc.StopTimeout !== undefined && cc.StopTimeout !== null) out.StopTimeout = cc.StopTimeout;
  if (cc.Healthcheck && Object.keys(cc.Healthcheck).length) {
    const h = Object.fromEntries(Object.entries(cc.Healthcheck).filter(([, v]) => v !== undefined && v !== null && v !== 0));
    if (Object.keys(h).length) out.Healthcheck = h;
  }
  if (cc.OnBuild?.length) out.OnBuild = [...cc.OnBuild];
  // the container's config has no SHELL of its own; the image's still applies to shell-form changes
  if (parent?.Shell?.length) out.Shell = [...parent.Shell];
  return out;
}

function isNoSpace(e: unknown): boolean {
  const err = e as NodeJS.ErrnoException & { cause?: unknown };
  if (err?.code === 'ENOSPC' || /ENOSPC|no space left on device|disk is full/i.test(String(err?.message))) return true;
  return err?.cause !== undefined && isNoSpace(err.cause);
}

interface NewLayer {
  digest: Digest;
  size: number;
  diffId: Digest;
  entries: number;
}

/** A layer directory (overlay format) as a gzip blob in the store; the diffID is the plain tar's digest. */
async function storeLayer(store: ImageStore, lease: Lease, dir: string): Promise<NewLayer> {
  const fs = new RootedFs(dir);
  try {
    const hash = createHash('sha256');
    let entries = 0;
    const counted = async function* () {
      for await (const e of walkTree(fs, fs.lookup('/', { follow: false }), '', { layer: true, skipTop: true })) {
        entries++;
        yield e;
      }
    };
    const tar = async function* () {
      for await (const chunk of tarStream(counted())) {
        hash.update(chunk);
        yield chunk;
      }
    };
    const blob = await store.content.write(lease, tar(), createGzip());
    return { ...blob, diffId: `sha256:${hash.digest('hex')}` as Digest, entries };
  } finally {
    fs.close();
  }
}

interface Parent {
  config: ImageConfig;
  /** The parent's manifest media type, which the new manifest keeps (docker or OCI). */
  manifestType: string;
  layers: Descriptor[];
  diffIds: Digest[];
}

/** The container's image as the new one's parent; when the image was removed, its layers are made again from the snapshots the container holds. */
async function parentOf(env: ContainerEnv, c: Container, lease: Lease): Promise<Parent> {
  const store = env.images;
  const record = store.get(c.Image);
  if (record) {
    const config = parseImageConfig(store.content.read(record.id));
    const doc = parseManifestDocument(store.content.read(record.manifest));
    if (doc.kind !== 'manifest') throw new CommitError(`image ${record.id}: its stored manifest is an index`);
    if (doc.manifest.layers.length !== config.rootfs.diff_ids.length) throw new CommitError(`image ${record.id}: its manifest and config disagree on the number of layers`);
    return { config, manifestType: doc.mediaType, layers: doc.manifest.layers, diffIds: config.rootfs.diff_ids };
  }
  const layers: Descriptor[] = [];
  const diffIds: Digest[] = [];
  const history: HistoryEntry[] = [];
  for (const dir of containerLowerDirs(env, c).reverse()) {
    const l = await storeLayer(store, lease, dir);
    layers.push({ mediaType: MediaType.OciLayerGzip, digest: l.digest, size: l.size });
    diffIds.push(l.diffId);
    history.push({ comment: `a layer of the removed image ${c.Image}` });
  }
  const host = hostPlatform();
  return {
    config: { architecture: host.architecture, os: host.os, ...(host.variant ? { variant: host.variant } : {}), rootfs: { type: 'layers', diff_ids: diffIds }, history },
    manifestType: MediaType.OciManifest,
    layers,
    diffIds,
  };
}

/** Pauses a running container for the commit, and marks it paused so that a killed commit leaves a container `unpause` can resume. */
async function pauseFor(env: ContainerEnv, c: Container): Promise<() => void> {
  const store = runtimeStore(env);
  const marked = env.containers.transition(c.Id, (x) => x.State.Running && !x.State.Paused, (x) => {
    x.State = { ...x.State, Status: 'paused', Paused: true };
  });
  if (!marked) return () => {};
  const unmark = () => env.containers.transition(c.Id, (x) => x.State.Paused, (x) => {
    x.State = { ...x.State, Status: x.State.Running ? 'running' : x.State.Status, Paused: false };
  });
  try {
    await runtimePause(store, c.Id);
  } catch (e) {
    unmark();
    throw new CommitError(`cannot pause container ${c.Id}: ${(e as Error).message}`);
  }
  return () => {
    try {
      runtimeResume(store, c.Id);
    } catch {
      // the container exited meanwhile
    }
    unmark();
  };
}

/** Commits container `ref` as a new image; returns its record. */
export async function commitContainer(env: ContainerEnv, ref: string, o: CommitOptions = {}): Promise<ImageRecord> {
  // everything the user gave is checked before anything is made
  const tag = o.reference ? commitTag(o.reference) : undefined;
  const c = env.containers.find(ref);
  applyChanges(imageRuntimeConfig(c.Config, undefined), o.changes ?? []);
  const store = env.images;
  const p = new ContainerPaths(env.roots, c.Id);
  const lease = store.lease();
  let stage = 'reading the container';
  try {
    const parent = await parentOf(env, c, lease);
    const runtimeConfig = applyChanges(imageRuntimeConfig(c.Config, parent.config.config), o.changes ?? []);

    let layer: NewLayer | undefined;
    const changed = readdirSync(p.upper).length > 0;
    if (changed) {
      const resume = c.State.Running && o.pause !== false ? await pauseFor(env, c) : () => {};
      try {
        stage = 'writing the new layer';
        layer = await storeLayer(store, lease, p.upper);
      } finally {
        resume();
      }
      if (layer.entries === 0) layer = undefined;
    }

    stage = 'writing the image config';
    const created = new Date().toISOString();
    const history: HistoryEntry = {
      created,
      ...(o.author ? { author: o.author } : {}),
      created_by: (c.Config.Cmd ?? []).join(' '),
      ...(o.comment ? { comment: o.comment } : {}),
      ...(layer ? {} : { empty_layer: true }),
    };
    const base = parent.config;
    const variant = base.variant;
    const config: ImageConfig = {
      created,
      ...(o.author ? { author: o.author } : {}),
      architecture: base.architecture,
      os: base.os,
      ...(base['os.version'] ? { 'os.version': base['os.version'] } : {}),
      ...(base['os.features'] ? { 'os.features': base['os.features'] } : {}),
      ...(variant ? { variant } : {}),
      config: runtimeConfig,
      rootfs: { type: 'layers', diff_ids: [...parent.diffIds, ...(layer ? [layer.diffId] : [])] },
      history: [...(base.history ?? []), history],
    };
    const docker = parent.manifestType === MediaType.DockerManifest;
    const layerType = docker ? MediaType.DockerLayerGzip : MediaType.OciLayerGzip;
    const layers: Descriptor[] = [...parent.layers, ...(layer ? [{ mediaType: layerType, digest: layer.digest, size: layer.size }] : [])];
    const configBytes = serializeConfig(config);
    const configDigest = store.content.put(lease, configBytes);
    const manifestType = docker ? MediaType.DockerManifest : MediaType.OciManifest;
    const manifest = serializeManifest({
      schemaVersion: 2,
      mediaType: manifestType,
      config: { mediaType: docker ? MediaType.DockerConfig : MediaType.OciConfig, digest: configDigest, size: configBytes.length },
      layers,
    });
    const manifestDigest = store.content.put(lease, manifest);
    stage = 'unpacking the new layer';
    const blobs: LayerBlob[] = layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size }));
    return await installImage(store, lease, {
      manifest: { digest: manifestDigest, mediaType: manifestType },
      config: { digest: configDigest, parsed: parseImageConfig(configBytes) },
      layers: blobs,
      tags: tag ? [tag] : [],
      repoDigests: [],
      ...(o.limits ? { limits: o.limits } : {}),
    });
  } catch (e) {
    // scratch files first: on a full disk the lease's bookkeeping below needs the room they take
    rmSync(join(store.root, 'tmp', lease.id), { recursive: true, force: true });
    if (isNoSpace(e)) throw new CommitError(`no space left on device while ${stage} of container ${c.Id.slice(0, 12)}: the image store at ${store.root} is full`, { cause: e });
    throw e;
  } finally {
    store.endLease(lease);
  }
}
