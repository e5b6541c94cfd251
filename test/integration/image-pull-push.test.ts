// `hull pull` / `hull push` / `login` / `logout` end to end, as a docker user runs them, against
// Debian's docker-registry: images pushed by hull itself and by skopeo (a third-party client),
// htpasswd and token auth, and a proxy that makes the registry misbehave. Every pull checks what
// lands on disk; every failure checks that the store is exactly as it was before.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it, type TestContext } from 'node:test';
import { loadEngineConfig, type EngineConfig } from '../../src/engine/config.ts';
import { pullImage } from '../../src/engine/pull.ts';
import { pushImage } from '../../src/engine/push.ts';
import { findImage, inspectImage, removeImage } from '../../src/engine/images.ts';
import type { ProgressEvent } from '../../src/engine/progress.ts';
import { makeBusyboxImage } from '../../src/image/base-image.ts';
import { hostPlatform } from '../../src/image/platform.ts';
import { ImageStore } from '../../src/image/store/image-store.ts';
import { login } from '../../src/registry/credentials.ts';
import { lgetxattr } from '../../src/sys/index.ts';
import type { TarEntry } from '../../src/image/tar/writer.ts';
import { skopeoPush, writeOciLayout, type ImageSpec, type LayerSpec } from './helpers/oci-images.ts';
import { startMisbehavingRegistry, startRegistry, type MisbehavingRegistry, type Misbehaviour, type ProxiedRequest, type TestRegistry } from './helpers/registry.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const HULL = join(REPO, 'dist/hull');
const T = 1_700_000_000;

let work: string;
/** An empty daemon.json, so that the host's /etc/hull/daemon.json never changes a test. */
let daemonJson: string;
let config: EngineConfig;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'hull-pullpush-'));
  daemonJson = join(work, 'daemon.json');
  writeFileSync(daemonJson, '{}');
  config = loadEngineConfig(daemonJson);
});
after(() => {
  rmSync(work, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Helpers

/** A fresh state root for one test, removed when the test ends. */
function newRoot(t: TestContext): string {
  const root = mkdtempSync(join(work, 'root-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

/** A fresh docker client config dir ($DOCKER_CONFIG) for one test. */
function newDockerConfig(t: TestContext): string {
  const dir = mkdtempSync(join(work, 'docker-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A store opened for one test, closed (before its root goes) when the test ends. */
function openStore(t: TestContext): ImageStore {
  const store = ImageStore.open(newRoot(t));
  t.after(() => store.close());
  return store;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs dist/hull. Asynchronous on purpose: the token server and the misbehaving proxy live in
 * this process, so a synchronous spawn would stop them answering.
 */
function hull(root: string, args: string[], opts: { input?: string; env?: Record<string, string>; dockerConfig?: string } = {}): Promise<Run> {
  const dockerConfig = opts.dockerConfig ?? join(root, 'no-docker-config');
  return new Promise((resolve, reject) => {
    const child = spawn(HULL, ['--root', root, '--config', dockerConfig, ...args], {
      env: { ...process.env, HULL_DAEMON_CONFIG: daemonJson, DOCKER_CONFIG: dockerConfig, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs dist/hull and asserts it succeeded. */
async function ok(root: string, args: string[], opts: Parameters<typeof hull>[2] = {}): Promise<string> {
  const r = await hull(root, args, opts);
  assert.equal(r.status, 0, `hull ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Runs dist/hull and asserts it failed with a message matching `message` on stderr. */
async function fails(root: string, args: string[], message: RegExp, opts: Parameters<typeof hull>[2] = {}): Promise<Run> {
  const r = await hull(root, args, opts);
  assert.notEqual(r.status, 0, `hull ${args.join(' ')} should have failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, message, `hull ${args.join(' ')}: stderr`);
  return r;
}

const lines = (s: string) => s.split('\n').filter((l) => l !== '');

/** Every path under dir with its type, mode, owner, size, link target, device and content hash. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const full = join(dir, path);
      const st = lstatSync(full);
      let extra = '';
      if (st.isSymbolicLink()) extra = `-> ${readlinkSync(full)}`;
      else if (st.isFile()) extra = createHash('sha256').update(readFileSync(full)).digest('hex');
      else if (st.isCharacterDevice() || st.isBlockDevice()) extra = `dev ${st.rdev}`;
      out.push(`${path} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.isDirectory() ? '-' : st.size} ${extra}`);
      if (st.isDirectory()) walk(path);
    }
  };
  walk('');
  return out;
}

/** Files under dir (recursively), relative, sorted; [] when dir does not exist. */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

/** The blobs under <root>/blobs, as algorithm/hex (an empty algorithm directory holds none). */
function blobFiles(root: string): string[] {
  return files(join(root, 'blobs')).filter((p) => p.includes('/'));
}

/** Everything a failed operation must leave as it was: rows, blobs, snapshots, scratch space. */
function storeState(store: ImageStore): unknown {
  const rows = (sql: string) => store.db.prepare(sql).all().map((r) => ({ ...r }));
  return {
    images: store.list().map((i) => ({ id: i.id, tags: i.tags, repoDigests: i.repoDigests })),
    layers: rows('SELECT image, idx, chain_id FROM image_layers ORDER BY image, idx'),
    imageBlobs: rows('SELECT image, digest FROM image_blobs ORDER BY image, digest'),
    snapshotRows: rows('SELECT chain_id FROM snapshots ORDER BY chain_id'),
    leases: rows('SELECT id FROM leases'),
    claims: rows('SELECT kind, key FROM lease_resources'),
    blobs: blobFiles(store.root),
    snapshots: files(join(store.root, 'snapshots')).filter((p) => !p.includes('/')),
    tmp: files(join(store.root, 'tmp')),
  };
}

function assertUnchanged(store: ImageStore, before: unknown): void {
  assert.deepEqual(storeState(store), before, 'the store is exactly as it was before the failed operation');
  assert.deepEqual(files(join(store.root, 'tmp')), [], '<root>/tmp is empty');
}

/** The same state read from a root a CLI process used (opened after that process ended). */
function rootState(root: string): unknown {
  const store = ImageStore.open(root);
  try {
    return storeState(store);
  } finally {
    store.close();
  }
}

function progressLog(): { events: ProgressEvent[]; sink: (e: ProgressEvent) => void; statuses: (status: string) => string[] } {
  const events: ProgressEvent[] = [];
  return {
    events,
    sink: (e) => events.push(e),
    statuses: (status) => events.filter((e) => e.status === status).map((e) => e.id ?? ''),
  };
}

const short = (digest: string) => digest.slice(7, 19);
const blobPath = (repo: string, digest: string) => `/v2/${repo}/blobs/${digest}`;

/** The manifest (as JSON) and raw bytes of one image in an OCI layout writeOciLayout made. */
function layoutManifest(layout: string, digest: string): { bytes: Buffer; doc: { config: { digest: string }; layers: { digest: string; size: number; mediaType: string }[] } } {
  const bytes = readFileSync(join(layout, 'blobs/sha256', digest.slice(7)));
  return { bytes, doc: JSON.parse(bytes.toString('utf8')) };
}

/** Pushes images to reg/repo:tag with skopeo; returns the manifest digests and the layout. */
async function skopeoImage(registry: TestRegistry, repo: string, images: ImageSpec[], tag = 'latest'): Promise<{ layout: string; manifests: string[]; configs: string[] }> {
  const layout = mkdtempSync(join(work, 'layout-'));
  const { manifests, configs } = await writeOciLayout(layout, images, tag);
  skopeoPush(layout, tag, `${registry.host}/${repo}:${tag}`);
  return { layout, manifests, configs };
}

// Layers with every kind of entry a pull must reproduce. Big enough that transfers span many
// reads (and can be cut part way), random so that compression cannot shrink them away.
const BIG = randomBytes(256 * 1024);
const file = (name: string, data: string | Buffer, mode = 0o644): TarEntry => ({ name, type: 'file', mode, mtime: T, data: Buffer.from(data) });
const marker = (name: string): TarEntry => ({ name, type: 'file', mode: 0o644, mtime: T, size: 0 });
const LOWER: LayerSpec = {
  compression: 'gzip',
  files: { 'etc/motd': 'hello\n', 'data/a': 'alpha', 'data/big': BIG, x: 'whited out above', 'opq/old1': 'o1', 'opq/old2': 'o2' },
  entries: [
    { name: 'link', type: 'symlink', mode: 0o777, mtime: T, linkname: 'data/a' },
    { name: 'abs', type: 'symlink', mode: 0o777, mtime: T, linkname: '/etc/motd' },
    { name: 'data/a-hard', type: 'link', mode: 0o644, mtime: T, linkname: 'data/a' },
  ],
};
const MIDDLE: LayerSpec = {
  compression: 'zstd',
  files: { 'opq/new': 'n', 'data/b': 'beta' },
  entries: [marker('.wh.x'), marker('opq/.wh..wh..opq')],
};
const UPPER: LayerSpec = {
  compression: 'none',
  files: { 'top/file': 'top' },
  entries: [
    file('top/tool', '#!/bin/sh\n', 0o4755),
    { name: 'top/file-hard', type: 'link', mode: 0o644, mtime: T, linkname: 'top/file' },
    // a hard link to a file of a lower layer, which no hard link can reach across snapshots
    { name: 'top/lower-hard', type: 'link', mode: 0o644, mtime: T, linkname: 'data/a' },
  ],
};
const OTHER_UPPER: LayerSpec = { compression: 'gzip', files: { 'other/file': 'another top layer' } };

// ---------------------------------------------------------------------------------------------

describe('hull pull and push against a real registry', { concurrency: true }, () => {
  describe('the base image, round trip through the CLI', () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await startRegistry({ auth: 'none' });
    });
    after(() => reg.stop());

    it('push, rmi, pull: the same image ID and the same files, with docker-like output', async (t) => {
      const root = newRoot(t);
      const ref = `${reg.host}/test/bb:1`;
      const id = (await ok(root, ['image', 'base'])).trim();
      assert.match(id, /^sha256:[0-9a-f]{64}$/);
      const snapshotOf = (): { dir: string; listing: string[] } => {
        const store = ImageStore.open(root);
        try {
          const layers = store.layers(id);
          assert.equal(layers.length, 1);
          const dir = store.snapshots.dir(layers[0]!.chainId);
          return { dir, listing: listing(dir) };
        } finally {
          store.close();
        }
      };
      const original = snapshotOf();
      assert.ok(original.listing.some((l) => l.startsWith('bin/busybox 100755 ')), 'the snapshot holds busybox');
      assert.ok(original.listing.some((l) => l.startsWith('bin/sh 120777 ') && l.endsWith('-> /bin/busybox')), 'applets are symlinks');

      await ok(root, ['tag', 'busybox', ref]);
      const pushed = lines(await ok(root, ['push', ref]));
      assert.equal(pushed[0], `The push refers to repository [${reg.host}/test/bb]`);
      assert.ok(pushed.some((l) => /^[0-9a-f]{12}: Pushed$/.test(l)), pushed.join('\n'));
      const pushedDigest = /^1: digest: (sha256:[0-9a-f]{64}) size: \d+$/.exec(pushed.at(-1)!)?.[1];
      assert.ok(pushedDigest, `push ends with the digest line: ${pushed.at(-1)}`);

      const removed = lines(await ok(root, ['rmi', 'busybox', ref]));
      assert.ok(removed.includes('Untagged: busybox:latest'));
      assert.ok(removed.includes(`Untagged: ${ref}`));
      assert.ok(removed.includes(`Deleted: ${id}`));
      assert.equal(existsSync(original.dir), false, 'rmi removed the snapshot');
      assert.deepEqual(files(join(root, 'blobs/sha256')), [], 'rmi removed the blobs');

      const pulled = lines(await ok(root, ['pull', ref]));
      assert.equal(pulled[0], '1: Pulling from test/bb');
      const complete = pulled.findIndex((l) => /^[0-9a-f]{12}: Pull complete$/.test(l));
      const digest = pulled.indexOf(`Digest: ${pushedDigest}`);
      const status = pulled.indexOf(`Status: Downloaded newer image for ${ref}`);
      assert.ok(complete > 0 && digest > complete && status > digest, pulled.join('\n'));
      assert.equal(pulled.at(-1), ref, 'the full reference is the last line');

      const inspected = JSON.parse(await ok(root, ['image', 'inspect', ref])) as { Id: string; RepoTags: string[]; RepoDigests: string[] }[];
      assert.equal(inspected[0]!.Id, id, 'the pulled image has the pushed image ID');
      assert.deepEqual(inspected[0]!.RepoTags, [ref]);
      assert.deepEqual(inspected[0]!.RepoDigests, [`${reg.host}/test/bb@${pushedDigest}`]);
      const again = snapshotOf();
      assert.equal(again.dir, original.dir, 'the same chain ID, so the same snapshot directory');
      assert.deepEqual(again.listing, original.listing, 'the pulled files equal the original ones');

      const second = lines(await ok(root, ['pull', ref]));
      assert.ok(second.includes(`Status: Image is up to date for ${ref}`), second.join('\n'));
      assert.ok(!second.some((l) => /Pull complete|Downloading/.test(l)), second.join('\n'));
      assert.equal(second.at(-1), ref);
      assert.deepEqual(lines(await ok(root, ['pull', '-q', ref])), [ref], '-q prints only the reference');
    });

    it('pull of a name without a tag says it uses latest, and of a missing tag fails clearly', async (t) => {
      const root = newRoot(t);
      await ok(root, ['image', 'base', `${reg.host}/test/latest`]);
      await ok(root, ['push', '-q', `${reg.host}/test/latest`]);
      const fresh = newRoot(t);
      const out = lines(await ok(fresh, ['pull', `${reg.host}/test/latest`]));
      assert.equal(out[0], 'Using default tag: latest');
      assert.equal(out[1], 'latest: Pulling from test/latest');
      assert.equal(out.at(-1), `${reg.host}/test/latest:latest`);
      const before = rootState(fresh);
      await fails(fresh, ['pull', `${reg.host}/test/latest:nope`], /manifest unknown/);
      assert.deepEqual(rootState(fresh), before);

      const [info] = JSON.parse(await ok(fresh, ['image', 'inspect', `${reg.host}/test/latest`])) as { RepoDigests: string[] }[];
      const byDigest = info!.RepoDigests[0]!;
      const digest = byDigest.slice(byDigest.indexOf('@') + 1);
      const third = newRoot(t);
      const out2 = lines(await ok(third, ['pull', byDigest]));
      assert.equal(out2[0], `${digest}: Pulling from test/latest`);
      assert.ok(out2.includes(`Status: Downloaded newer image for ${byDigest}`), out2.join('\n'));
      assert.equal(out2.at(-1), byDigest);
    });
  });

  describe('a multi-layer image pushed by skopeo', { concurrency: true }, () => {
    let reg: TestRegistry;
    let first: { layout: string; manifests: string[]; configs: string[] };
    before(async () => {
      reg = await startRegistry({ auth: 'none' });
      first = await skopeoImage(reg, 'test/multi', [{ layers: [LOWER, MIDDLE, UPPER], labels: { which: 'first' } }], 'v1');
      await skopeoImage(reg, 'test/multi', [{ layers: [LOWER, MIDDLE, OTHER_UPPER], labels: { which: 'second' } }], 'v2');
    });
    after(() => reg.stop());

    it('gzip, zstd and plain layers each unpack into their own snapshot, whiteouts as overlayfs wants them', async (t) => {
      const store = openStore(t);
      const progress = progressLog();
      const result = await pullImage(store, `${reg.host}/test/multi:v1`, { config, onProgress: progress.sink });
      assert.equal(result.image.id, first.configs[0]);
      assert.equal(result.digest, first.manifests[0]);
      assert.equal(result.upToDate, false);
      const manifest = layoutManifest(first.layout, first.manifests[0]!).doc;
      assert.deepEqual(
        manifest.layers.map((l) => l.mediaType),
        ['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar+zstd', 'application/vnd.oci.image.layer.v1.tar'],
      );
      assert.deepEqual(progress.statuses('Pull complete').sort(), manifest.layers.map((l) => short(l.digest)).sort());

      const layers = store.layers(result.image.id);
      assert.deepEqual(layers.map((l) => l.blob), manifest.layers.map((l) => l.digest), 'each layer keeps the blob it came as');
      const dirs = layers.map((l) => store.snapshots.dir(l.chainId));
      assert.equal(new Set(dirs).size, 3);
      assert.deepEqual(readdirSync(join(store.root, 'snapshots')).sort(), dirs.map((d) => d.slice(d.lastIndexOf('/') + 1)).sort());
      const [lower, middle, upper] = dirs as [string, string, string];

      assert.deepEqual(readdirSync(lower).sort(), ['abs', 'data', 'etc', 'link', 'opq', 'x']);
      assert.equal(readlinkSync(join(lower, 'link')), 'data/a');
      assert.equal(readlinkSync(join(lower, 'abs')), '/etc/motd');
      assert.equal(lstatSync(join(lower, 'data/a-hard')).ino, lstatSync(join(lower, 'data/a')).ino, 'a hard link stays a hard link');
      assert.equal(lstatSync(join(lower, 'data/a')).nlink, 2);
      assert.deepEqual(readFileSync(join(lower, 'data/big')), BIG);

      // the middle layer only: a whiteout device for x, and an opaque opq with only its new file
      assert.deepEqual(readdirSync(middle).sort(), ['data', 'opq', 'x']);
      const wh = lstatSync(join(middle, 'x'));
      assert.ok(wh.isCharacterDevice(), 'x is whited out with a character device');
      assert.equal(wh.rdev, 0, 'the whiteout is device 0/0');
      assert.equal(lgetxattr(join(middle, 'opq'), 'trusted.overlay.opaque')?.toString(), 'y');
      assert.equal(lgetxattr(join(middle, 'data'), 'trusted.overlay.opaque'), null);
      assert.deepEqual(readdirSync(join(middle, 'opq')), ['new']);
      assert.equal(readFileSync(join(middle, 'data/b'), 'utf8'), 'beta');

      assert.equal(lstatSync(join(upper, 'top/tool')).mode & 0o7777, 0o4755, 'the setuid bit survives');
      assert.equal(lstatSync(join(upper, 'top/file-hard')).ino, lstatSync(join(upper, 'top/file')).ino);
      assert.ok(lstatSync(join(upper, 'top/lower-hard')).isFile());
      assert.equal(readFileSync(join(upper, 'top/lower-hard'), 'utf8'), 'alpha', 'a link into a lower layer gets its content');
      assert.equal(inspectImage(store, `${reg.host}/test/multi:v1`).Id, first.configs[0]);
    });

    it('a second image that starts with the same layers reuses their snapshots (Already exists)', async (t) => {
      const store = openStore(t);
      const one = await pullImage(store, `${reg.host}/test/multi:v1`, { config });
      const inodes = store.layers(one.image.id).map((l) => lstatSync(store.snapshots.dir(l.chainId)).ino);
      const progress = progressLog();
      const two = await pullImage(store, `${reg.host}/test/multi:v2`, { config, onProgress: progress.sink });
      const a = store.layers(one.image.id);
      const b = store.layers(two.image.id);
      assert.notEqual(one.image.id, two.image.id);
      assert.deepEqual(b.slice(0, 2).map((l) => l.chainId), a.slice(0, 2).map((l) => l.chainId));
      assert.notEqual(b[2]!.chainId, a[2]!.chainId);
      assert.deepEqual(progress.statuses('Already exists').sort(), [b[0]!.blob!, b[1]!.blob!].map(short).sort());
      assert.deepEqual(progress.statuses('Pull complete'), [short(b[2]!.blob!)]);
      assert.deepEqual(a.map((l) => lstatSync(store.snapshots.dir(l.chainId)).ino), inodes, 'the shared snapshots were not made again');
      assert.equal(readdirSync(join(store.root, 'snapshots')).length, 4, 'three layers plus the other top one');
      assert.equal(store.db.prepare('SELECT count(*) AS n FROM snapshots').get()!.n, 4);
      assert.deepEqual(readdirSync(store.snapshots.dir(b[2]!.chainId)), ['other']);

      // removing one image keeps the layers the other still uses
      removeImage(store, `${reg.host}/test/multi:v1`);
      assert.equal(existsSync(store.snapshots.dir(a[2]!.chainId)), false);
      for (const l of b) assert.ok(existsSync(store.snapshots.dir(l.chainId)), `${l.chainId} is still there`);
      assert.deepEqual(files(join(store.root, 'tmp')), []);
    });

    it('pushes back without recompressing: the same manifest digest, the blobs the registry has skipped', async (t) => {
      const store = openStore(t);
      await pullImage(store, `${reg.host}/test/multi:v1`, { config });
      store.tag(first.configs[0]!, `${reg.host}/test/copy:v1`);
      const progress = progressLog();
      const pushed = await pushImage(store, `${reg.host}/test/copy:v1`, { config, onProgress: progress.sink });
      assert.equal(pushed.digest, first.manifests[0], 'the pushed manifest is the pulled one, byte for byte');
      assert.equal(store.get(first.configs[0]!)!.manifest, first.manifests[0]);
      // the blobs came from test/multi on this registry, so they are mounted rather than sent
      assert.equal(progress.statuses('Mounted from test/multi').length, 3, JSON.stringify(progress.events));
      assert.deepEqual(progress.statuses('Pushed'), []);

      const again = progressLog();
      const second = await pushImage(store, `${reg.host}/test/copy:v1`, { config, onProgress: again.sink });
      assert.equal(second.digest, pushed.digest);
      assert.equal(again.statuses('Layer already exists').length, 3);
      assert.deepEqual(again.statuses('Pushed'), []);

      // what the registry serves under the new name is what skopeo pushed
      const other = openStore(t);
      const pulled = await pullImage(other, `${reg.host}/test/copy:v1`, { config });
      assert.equal(pulled.image.id, first.configs[0]);
      assert.equal(pulled.digest, first.manifests[0]);
    });
  });

  describe('a multi-arch index pushed by skopeo', { concurrency: true }, () => {
    let reg: TestRegistry;
    let pushed: { manifests: string[]; configs: string[] };
    const host = hostPlatform();
    before(async () => {
      reg = await startRegistry({ auth: 'none' });
      const one = (architecture: string, variant?: string): ImageSpec => ({
        architecture,
        ...(variant ? { variant } : {}),
        layers: [{ files: { arch: `${architecture}${variant ?? ''}` } }],
      });
      pushed = await skopeoImage(reg, 'test/multiarch', [one('amd64'), one('arm64'), one('arm', 'v7')], '1');
    });
    after(() => reg.stop());

    it('the default pull picks the host platform', async (t) => {
      const which = ['amd64', 'arm64', 'arm'].indexOf(host.architecture);
      assert.ok(which >= 0, `the host (${host.architecture}) is one of the index's platforms`);
      const root = newRoot(t);
      const ref = `${reg.host}/test/multiarch:1`;
      const out = lines(await ok(root, ['pull', ref]));
      assert.equal(out.at(-1), ref);
      const [info] = JSON.parse(await ok(root, ['image', 'inspect', ref])) as { Id: string; Architecture: string; Os: string; RepoDigests: string[] }[];
      assert.equal(info!.Architecture, host.architecture);
      assert.equal(info!.Os, 'linux');
      assert.equal(info!.Id, pushed.configs[which]);
      // the repo digest is the index's, as docker records it
      const index = JSON.parse(readFileSync(join(root, 'blobs/sha256', info!.RepoDigests[0]!.split('@sha256:')[1]!), 'utf8')) as { manifests: unknown[] };
      assert.equal(index.manifests.length, 3);
    });

    it('--platform linux/arm64 picks arm64, and linux/arm/v7 the arm variant', async (t) => {
      const root = newRoot(t);
      const ref = `${reg.host}/test/multiarch:1`;
      await ok(root, ['pull', '-q', '--platform', 'linux/arm64', ref]);
      const [arm64] = JSON.parse(await ok(root, ['image', 'inspect', ref])) as { Id: string; Architecture: string }[];
      assert.equal(arm64!.Architecture, 'arm64');
      assert.equal(arm64!.Id, pushed.configs[1]);
      await ok(root, ['pull', '-q', '--platform', 'linux/arm/v7', ref]);
      const [arm] = JSON.parse(await ok(root, ['image', 'inspect', ref])) as { Id: string; Architecture: string; Variant: string }[];
      assert.equal(arm!.Architecture, 'arm');
      assert.equal(arm!.Variant, 'v7');
      assert.equal(arm!.Id, pushed.configs[2]);
    });

    it('a platform the index lacks fails clearly and stores nothing', async (t) => {
      const root = newRoot(t);
      const before = rootState(root);
      await fails(root, ['pull', '--platform', 'linux/s390x', `${reg.host}/test/multiarch:1`], /no matching manifest for linux\/s390x in the manifest list entries/);
      assert.deepEqual(rootState(root), before);
      assert.deepEqual(blobFiles(root), []);
    });
  });

  describe('push', { concurrency: true }, () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await startRegistry({ auth: 'none' });
    });
    after(() => reg.stop());

    /** A proxy of its own per test, so that its request log holds only that test's requests. */
    async function proxy(t: TestContext): Promise<MisbehavingRegistry> {
      const p = await startMisbehavingRegistry({ upstream: reg.url });
      t.after(() => p.stop());
      return p;
    }
    const uploads = (p: MisbehavingRegistry, from = 0) => p.requests.slice(from).filter((r) => r.path.includes('/blobs/uploads/'));

    it('skips blobs the registry has, and mounts them across repositories (POST ?mount=, no upload)', async (t) => {
      const p = await proxy(t);
      const root = newRoot(t);
      await ok(root, ['image', 'base', `${p.host}/test/bb:1`]);
      const firstPush = lines(await ok(root, ['push', `${p.host}/test/bb:1`]));
      assert.ok(firstPush.some((l) => / Pushed$/.test(l)));
      assert.ok(uploads(p).some((r) => r.method === 'PUT'), 'the first push uploads');

      const again = lines(await ok(root, ['push', `${p.host}/test/bb:1`]));
      assert.ok(again.some((l) => /^[0-9a-f]{12}: Layer already exists$/.test(l)), again.join('\n'));

      const mark = p.requests.length;
      await ok(root, ['tag', `${p.host}/test/bb:1`, `${p.host}/test/mounted:1`]);
      const mounted = lines(await ok(root, ['push', `${p.host}/test/mounted:1`]));
      assert.ok(mounted.some((l) => /^[0-9a-f]{12}: Mounted from test\/bb$/.test(l)), mounted.join('\n'));
      const posts = uploads(p, mark).filter((r) => r.method === 'POST');
      assert.ok(posts.length >= 2, 'the layer and the config are mounted');
      for (const r of posts) {
        const q = new URL(r.path, 'http://x').searchParams;
        assert.match(q.get('mount') ?? '', /^sha256:[0-9a-f]{64}$/, r.path);
        assert.equal(q.get('from'), 'test/bb');
      }
      assert.deepEqual(uploads(p, mark).filter((r) => r.method === 'PUT' || r.method === 'PATCH'), [], 'no blob was uploaded');
      assert.ok(p.requests.slice(mark).some((r) => r.method === 'PUT' && r.path === '/v2/test/mounted/manifests/1'));
    });

    it('monolithic by default, chunked with HULL_PUSH_CHUNK_SIZE; either way the registry serves the same image', async (t) => {
      const p = await proxy(t);
      const root = newRoot(t);
      const id = (await ok(root, ['image', 'base', `${p.host}/test/mono:1`])).trim();
      await ok(root, ['push', `${p.host}/test/mono:1`]);
      assert.deepEqual(uploads(p).filter((r) => r.method === 'PATCH'), [], 'a monolithic upload sends no PATCH');
      assert.ok(uploads(p).some((r) => r.method === 'PUT' && /[?&]digest=sha256/.test(r.path)));

      // a second root has no record of test/mono, so nothing is mounted and every blob is sent
      const mark = p.requests.length;
      const other = newRoot(t);
      assert.equal((await ok(other, ['image', 'base', `${p.host}/test/chunked:1`])).trim(), id, 'the base image is the same everywhere');
      await ok(other, ['push', `${p.host}/test/chunked:1`], { env: { HULL_PUSH_CHUNK_SIZE: '262144' } });
      const store = ImageStore.open(other);
      const sizes = [store.layers(id)[0]!.blobSize!, store.content.size(id)];
      store.close();
      const patches = uploads(p, mark).filter((r) => r.method === 'PATCH');
      const expected = sizes.reduce((n, size) => n + Math.ceil(size / 262144), 0);
      assert.equal(patches.length, expected, `layer and config of ${sizes.join(' and ')} bytes in 256 KiB chunks`);
      for (const r of patches) assert.match(String(r.headers['content-range']), /^\d+-\d+$/);
      assert.ok(uploads(p, mark).every((r) => !new URL(r.path, 'http://x').searchParams.has('mount')));

      const fresh = newRoot(t);
      await ok(fresh, ['pull', '-q', `${reg.host}/test/chunked:1`]);
      await ok(fresh, ['pull', '-q', `${reg.host}/test/mono:1`]);
      const ids = JSON.parse(await ok(fresh, ['image', 'inspect', `${reg.host}/test/chunked:1`, `${reg.host}/test/mono:1`])) as { Id: string }[];
      assert.deepEqual(ids.map((i) => i.Id), [id, id]);
    });

    it('through the engine: the pushed manifest digest is the stored one; chunkSize uploads in PATCHes', async (t) => {
      const p = await proxy(t);
      const store = openStore(t);
      const img = await makeBusyboxImage(store, `docker.io/library/busybox:latest`);
      store.tag(img.id, `${p.host}/engine/bb:1`);
      const progress = progressLog();
      const result = await pushImage(store, `${p.host}/engine/bb:1`, { config, chunkSize: 300_000, onProgress: progress.sink });
      assert.equal(result.digest, img.manifest, 'push recompresses nothing, so the digest is the stored manifest');
      assert.equal(result.size, store.content.size(img.manifest));
      assert.ok(uploads(p).filter((r) => r.method === 'PATCH').length >= 2);
      assert.equal(progress.events[0]!.status, `The push refers to repository [${p.host}/engine/bb]`);
      assert.deepEqual(progress.statuses('Pushed'), [short(store.layers(img.id)[0]!.blob!)]);
      assert.deepEqual(findImage(store, `${p.host}/engine/bb@${result.digest}`).id, img.id, 'the push recorded the repo digest');
    });
  });

  describe('auth: htpasswd', { concurrency: true }, () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await startRegistry({ auth: 'htpasswd' });
    });
    after(() => reg.stop());

    it('login, push, pull, logout through the CLI; nothing is stored for a wrong password', async (t) => {
      const root = newRoot(t);
      const dockerConfig = newDockerConfig(t);
      const cfgFile = join(dockerConfig, 'config.json');
      const { user, password } = reg.users;
      const ref = `${reg.host}/private/bb:1`;
      await ok(root, ['image', 'base', ref], { dockerConfig });

      await fails(root, ['push', ref], /unauthorized|no basic auth credentials/i, { dockerConfig });
      await fails(root, ['pull', ref], /unauthorized|no basic auth credentials/i, { dockerConfig });

      // another registry's entry and a key hull does not manage must survive every change
      const other = { auths: { 'other.example:5000': { auth: Buffer.from('someone:secret').toString('base64') } }, detachKeys: 'ctrl-x' };
      writeFileSync(cfgFile, JSON.stringify(other), { mode: 0o600 });
      const original = readFileSync(cfgFile);
      await fails(root, ['login', '-u', user, '--password-stdin', reg.host], /unauthorized|incorrect username or password/i, { dockerConfig, input: 'wrong-password\n' });
      assert.deepEqual(readFileSync(cfgFile), original, 'a failed login leaves config.json as it was');

      const out = await ok(root, ['login', '-u', user, '--password-stdin', reg.host], { dockerConfig, input: `${password}\n` });
      assert.match(out, /^Login Succeeded$/m);
      const saved = JSON.parse(readFileSync(cfgFile, 'utf8')) as { auths: Record<string, { auth: string }>; detachKeys: string };
      assert.equal(Buffer.from(saved.auths[reg.host]!.auth, 'base64').toString(), `${user}:${password}`);
      assert.deepEqual(saved.auths['other.example:5000'], other.auths['other.example:5000']);
      assert.equal(saved.detachKeys, 'ctrl-x');
      assert.equal(lstatSync(cfgFile).mode & 0o777, 0o600, 'config.json is private');

      await ok(root, ['push', ref], { dockerConfig });
      await ok(root, ['rmi', ref], { dockerConfig });
      assert.equal((await ok(root, ['pull', '-q', ref], { dockerConfig })).trim(), ref);

      assert.match(await ok(root, ['logout', reg.host], { dockerConfig }), new RegExp(`Removing login credentials for ${reg.host.replace(/\./g, '\\.')}`));
      assert.deepEqual(JSON.parse(readFileSync(cfgFile, 'utf8')), other, 'logout removed the credentials and only them');
      await fails(root, ['pull', ref], /unauthorized|no basic auth credentials/i, { dockerConfig });
    });

    it('through the engine: a pull without credentials fails and stores nothing; with them it works', async (t) => {
      const store = openStore(t);
      const dockerConfigDir = newDockerConfig(t);
      const img = await makeBusyboxImage(store, `${reg.host}/engine/bb:1`);
      const before = storeState(store);
      await assert.rejects(pullImage(store, `${reg.host}/engine/bb:1`, { config, dockerConfigDir }), /unauthorized|no basic auth credentials/i);
      assertUnchanged(store, before);
      await login(reg.host, reg.users.user, reg.users.password, { configDir: dockerConfigDir });
      await pushImage(store, `${reg.host}/engine/bb:1`, { config, dockerConfigDir });
      const other = openStore(t);
      const pulled = await pullImage(other, `${reg.host}/engine/bb:1`, { config, dockerConfigDir });
      assert.equal(pulled.image.id, img.id);
    });
  });

  describe('auth: token server', { concurrency: true }, () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await startRegistry({ auth: 'token' });
    });
    after(() => reg.stop());

    it('login, push and pull with bearer tokens; a repository the token server denies fails clearly', async (t) => {
      const root = newRoot(t);
      const dockerConfig = newDockerConfig(t);
      const { user, password } = reg.users;
      await fails(root, ['login', '-u', user, '--password-stdin', reg.host], /unauthorized|incorrect username or password/i, { dockerConfig, input: 'nope\n' });
      assert.equal(existsSync(join(dockerConfig, 'config.json')), false);
      assert.match(await ok(root, ['login', '-u', user, '--password-stdin', reg.host], { dockerConfig, input: `${password}\n` }), /^Login Succeeded$/m);
      const saved = JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8')) as { auths: Record<string, { auth?: string; identitytoken?: string }> };
      // the token server issued a refresh token: docker keeps it instead of the password
      assert.ok(saved.auths[reg.host]?.identitytoken, JSON.stringify(saved));
      assert.ok(!JSON.stringify(saved).includes(password), 'the password itself is not stored');

      const ref = `${reg.host}/team/app:1`;
      const id = (await ok(root, ['image', 'base', ref], { dockerConfig })).trim();
      await ok(root, ['push', ref], { dockerConfig });
      const secret = `${reg.host}/secret/app:1`;
      await ok(root, ['tag', ref, secret], { dockerConfig });
      await ok(root, ['push', '-q', secret], { dockerConfig });
      assert.ok(reg.token!.requests.some((r) => r.user === user && r.scopes.some((s) => s.startsWith('repository:team/app:') && s.includes('push'))));

      const fresh = newRoot(t);
      await ok(fresh, ['pull', '-q', ref], { dockerConfig });
      const [info] = JSON.parse(await ok(fresh, ['image', 'inspect', ref], { dockerConfig })) as { Id: string }[];
      assert.equal(info!.Id, id);

      reg.token!.deny = (repository) => repository === 'secret/app';
      const before = rootState(fresh);
      await fails(fresh, ['pull', secret], /denied|unauthorized/i, { dockerConfig });
      reg.token!.denyMode = 'forbid';
      await fails(fresh, ['pull', secret], /denied/i, { dockerConfig });
      assert.deepEqual(rootState(fresh), before);

      await ok(root, ['logout', reg.host], { dockerConfig });
      await fails(fresh, ['pull', ref], /unauthorized|denied/i, { dockerConfig });
    });
  });

  describe('hostile registries: a clear error, and the store exactly as before', { concurrency: true }, () => {
    let reg: TestRegistry;
    let image: { layout: string; manifests: string[]; configs: string[] };
    let manifest: ReturnType<typeof layoutManifest>;
    let bigLayer: string;
    before(async () => {
      reg = await startRegistry({ auth: 'none' });
      image = await skopeoImage(reg, 'test/hostile', [{ layers: [LOWER, MIDDLE, UPPER] }], '1');
      manifest = layoutManifest(image.layout, image.manifests[0]!);
      bigLayer = manifest.doc.layers[0]!.digest;
    });
    after(() => reg.stop());

    /**
     * Pulls test/hostile:1 through a proxy that misbehaves as `rule` says, into a store that
     * already holds an image; returns the error after checking that nothing changed.
     */
    async function hostilePull(t: TestContext, rule: (req: ProxiedRequest) => Misbehaviour | null): Promise<{ error: Error; proxy: MisbehavingRegistry; store: ImageStore }> {
      const proxy = await startMisbehavingRegistry({ upstream: reg.url, rule });
      t.after(() => proxy.stop());
      const store = openStore(t);
      await makeBusyboxImage(store, 'docker.io/library/busybox:latest');
      const before = storeState(store);
      let error: Error | undefined;
      try {
        await pullImage(store, `${proxy.host}/test/hostile:1`, { config });
      } catch (e) {
        error = e as Error;
      }
      assert.ok(error instanceof Error, 'the pull failed');
      t.diagnostic(`${error.name}: ${error.message}`);
      assertUnchanged(store, before);
      return { error, proxy, store };
    }
    const isBlob = (digest: string) => (r: ProxiedRequest) => r.method === 'GET' && r.path === blobPath('test/hostile', digest);
    const isManifest = (r: ProxiedRequest) => r.path.startsWith('/v2/test/hostile/manifests/');

    it('a layer whose Content-Length is shorter than the blob', async (t) => {
      const { error, proxy } = await hostilePull(t, (r) => (isBlob(bigLayer)(r) ? { kind: 'wrong-length', extra: -500 } : null));
      assert.match(error.message, new RegExp(`${bigLayer}: got \\d+ bytes where its descriptor gives \\d+`));
      assert.equal(proxy.requests.filter(isBlob(bigLayer)).length, 1, 'a blob of the wrong size is not fetched again');
    });

    it('a config whose Content-Length is longer than its body', async (t) => {
      const configDigest = manifest.doc.config.digest;
      const { error } = await hostilePull(t, (r) => (isBlob(configDigest)(r) ? { kind: 'wrong-length', extra: 1000 } : null));
      assert.match(error.message, new RegExp(`blobs/${configDigest}`));
      assert.match(error.message, /body ended after \d+ of \d+ bytes|closed before the body reached its Content-Length/);
    });

    it('a connection that drops on every attempt', async (t) => {
      const { error, proxy } = await hostilePull(t, (r) => (isBlob(bigLayer)(r) ? { kind: 'drop', after: 4096 } : null));
      assert.match(error.message, new RegExp(bigLayer));
      assert.equal(proxy.requests.filter(isBlob(bigLayer)).length, 3, 'three attempts, then it gives up');
    });

    it('what a failed pull received is resumed by the next pull', async (t) => {
      const { store } = await hostilePull(t, (r) => (isBlob(bigLayer)(r) ? { kind: 'drop', after: 4096 } : null));
      const partial = join(store.root, 'ingest', `sha256-${bigLayer.slice(7)}`);
      const kept = lstatSync(partial).size;
      assert.ok(kept > 0, 'the bytes received are kept for a resume');
      const good = await startMisbehavingRegistry({ upstream: reg.url });
      t.after(() => good.stop());
      const result = await pullImage(store, `${good.host}/test/hostile:1`, { config });
      assert.equal(result.image.id, image.configs[0]);
      const gets = good.requests.filter(isBlob(bigLayer));
      assert.equal(gets.length, 1);
      assert.equal(gets[0]!.headers.range, `bytes=${kept}-`);
      assert.deepEqual(files(join(store.root, 'ingest')), []);
    });

    it('a layer with the right digest whose tar climbs out: the unpack\'s error once the download is whole', async (t) => {
      // a big file first, so the bad entry is read while the blob still downloads
      const evil: LayerSpec = { compression: 'gzip', files: { 'data/big': BIG }, entries: [file('../evil', 'x')] };
      const escape = await skopeoImage(reg, 'test/escape', [{ layers: [LOWER, evil] }], '1');
      const evilLayer = layoutManifest(escape.layout, escape.manifests[0]!).doc.layers[1]!.digest;
      const store = openStore(t);
      await makeBusyboxImage(store, 'docker.io/library/busybox:latest');
      const before = storeState(store);
      await assert.rejects(pullImage(store, `${reg.host}/test/escape:1`, { config }), (e: Error) => {
        assert.match(e.message, new RegExp(`${evilLayer.slice(7)}.*"\\.\\./evil": path has a "\\.\\." component`));
        return true;
      });
      assertUnchanged(store, before);
    });

    it('a redirect loop', async (t) => {
      const { error } = await hostilePull(t, (r) => (isBlob(bigLayer)(r) ? { kind: 'redirect-loop' } : null));
      assert.match(error.message, /redirect loop|too many redirects/);
    });

    it('a blob whose bytes do not match its digest', async (t) => {
      const size = manifest.doc.layers[0]!.size;
      const { error, proxy } = await hostilePull(t, (r) =>
        isBlob(bigLayer)(r) ? { kind: 'respond', status: 200, headers: { 'content-type': 'application/octet-stream' }, body: randomBytes(size) } : null,
      );
      assert.match(error.message, new RegExp(`${bigLayer}.*hash to sha256:`));
      assert.equal(proxy.requests.filter(isBlob(bigLayer)).length, 1, 'wrong bytes are never retried');
    });

    it('an oversized manifest', async (t) => {
      const huge = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', pad: 'x'.repeat(5 << 20) }));
      const { error } = await hostilePull(t, (r) =>
        isManifest(r) ? { kind: 'respond', status: 200, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: huge } : null,
      );
      assert.match(error.message, /manifest/);
      assert.match(error.message, /4194304|4 MiB|too large|larger|more than/i);
    });

    it('malformed manifest JSON', async (t) => {
      const { error } = await hostilePull(t, (r) =>
        isManifest(r) ? { kind: 'respond', status: 200, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: '{"schemaVersion": 2, "config": ' } : null,
      );
      assert.match(error.message, /manifest/);
      assert.match(error.message, /JSON/);
    });

    it('a manifest whose Content-Type disagrees with its mediaType', async (t) => {
      const { error } = await hostilePull(t, (r) =>
        isManifest(r) ? { kind: 'respond', status: 200, headers: { 'content-type': 'application/vnd.docker.distribution.manifest.v2+json' }, body: manifest.bytes } : null,
      );
      assert.match(error.message, /mediaType/);
      assert.match(error.message, /application\/vnd\.docker\.distribution\.manifest\.v2\+json/);
    });

    it('a schema 1 manifest', async (t) => {
      const schema1 = JSON.stringify({ schemaVersion: 1, name: 'test/hostile', tag: '1', architecture: 'amd64', fsLayers: [], history: [], signatures: [] });
      const { error } = await hostilePull(t, (r) =>
        isManifest(r) ? { kind: 'respond', status: 200, headers: { 'content-type': 'application/vnd.docker.distribution.manifest.v1+prettyjws' }, body: schema1 } : null,
      );
      assert.match(error.message, /schema 1 manifests are not supported/);
    });

    it('through the CLI: a non-zero exit, the message on stderr, nothing stored', async (t) => {
      const proxy = await startMisbehavingRegistry({
        upstream: reg.url,
        rule: (r) => (isBlob(bigLayer)(r) ? { kind: 'respond', status: 200, body: randomBytes(manifest.doc.layers[0]!.size) } : null),
      });
      t.after(() => proxy.stop());
      const root = newRoot(t);
      await ok(root, ['image', 'base']);
      const before = rootState(root);
      const r = await fails(root, ['pull', `${proxy.host}/test/hostile:1`], new RegExp(`^Error: .*${bigLayer}`, 'm'));
      assert.equal(r.status, 1);
      assert.deepEqual(rootState(root), before);
      assert.deepEqual(files(join(root, 'tmp')), []);
      assert.deepEqual(files(join(root, 'ingest')), [], 'wrong bytes are not kept for a resume');
    });
  });

  describe('resume', { concurrency: true }, () => {
    let reg: TestRegistry;
    let image: { layout: string; manifests: string[]; configs: string[] };
    let bigLayer: string;
    before(async () => {
      reg = await startRegistry({ auth: 'none' });
      image = await skopeoImage(reg, 'test/resume', [{ layers: [LOWER, MIDDLE, UPPER] }], '1');
      bigLayer = layoutManifest(image.layout, image.manifests[0]!).doc.layers[0]!.digest;
    });
    after(() => reg.stop());

    /** A proxy that cuts the big layer's first download after `after` bytes, then does `then`. */
    async function cutOnce(t: TestContext, after: number, then: Misbehaviour | null): Promise<MisbehavingRegistry> {
      let cut = false;
      const proxy = await startMisbehavingRegistry({
        upstream: reg.url,
        rule: (r) => {
          if (r.method !== 'GET' || r.path !== blobPath('test/resume', bigLayer)) return null;
          if (cut) return then;
          cut = true;
          return { kind: 'drop', after };
        },
      });
      t.after(() => proxy.stop());
      return proxy;
    }

    it('a dropped download resumes with Range: bytes=N-', async (t) => {
      const N = 65536;
      const proxy = await cutOnce(t, N, null);
      const store = openStore(t);
      const progress = progressLog();
      const result = await pullImage(store, `${proxy.host}/test/resume:1`, { config, onProgress: progress.sink });
      assert.equal(result.image.id, image.configs[0]);
      const gets = proxy.requests.filter((r) => r.method === 'GET' && r.path === blobPath('test/resume', bigLayer));
      assert.equal(gets.length, 2);
      assert.equal(gets[0]!.headers.range, undefined);
      assert.equal(gets[1]!.headers.range, `bytes=${N}-`);
      assert.ok(progress.statuses('Retrying in 1 second').length === 1);
      // the layer was unpacked as it arrived: before the retry, not after the download
      const at = (status: string) => progress.events.findIndex((e) => e.id === short(bigLayer) && e.status === status);
      assert.ok(at('Extracting') >= 0 && at('Extracting') < at('Retrying in 1 second'), JSON.stringify(progress.events.filter((e) => e.id === short(bigLayer)).map((e) => e.status)));
      assert.deepEqual(readFileSync(join(store.snapshots.dir(store.layers(result.image.id)[0]!.chainId), 'data/big')), BIG);
      assert.deepEqual(files(join(store.root, 'ingest')), []);
    });

    it('a whole download that a killed run left before its rename is checked, not fetched again', async (t) => {
      const proxy = await startMisbehavingRegistry({ upstream: reg.url });
      t.after(() => proxy.stop());
      const store = openStore(t);
      mkdirSync(join(store.root, 'ingest'));
      writeFileSync(join(store.root, 'ingest', `sha256-${bigLayer.slice(7)}`), readFileSync(join(image.layout, 'blobs/sha256', bigLayer.slice(7))));
      const result = await pullImage(store, `${proxy.host}/test/resume:1`, { config });
      assert.equal(result.image.id, image.configs[0]);
      assert.deepEqual(proxy.requests.filter((r) => r.path === blobPath('test/resume', bigLayer)), [], 'the blob was not asked for');
      assert.deepEqual(files(join(store.root, 'ingest')), []);
    });

    it('a whole but wrong leftover is thrown away and the blob fetched from byte 0', async (t) => {
      const proxy = await startMisbehavingRegistry({ upstream: reg.url });
      t.after(() => proxy.stop());
      const store = openStore(t);
      mkdirSync(join(store.root, 'ingest'));
      const size = readFileSync(join(image.layout, 'blobs/sha256', bigLayer.slice(7))).length;
      writeFileSync(join(store.root, 'ingest', `sha256-${bigLayer.slice(7)}`), randomBytes(size));
      const result = await pullImage(store, `${proxy.host}/test/resume:1`, { config });
      assert.equal(result.image.id, image.configs[0]);
      const gets = proxy.requests.filter((r) => r.method === 'GET' && r.path === blobPath('test/resume', bigLayer));
      assert.equal(gets.length, 1);
      assert.equal(gets[0]!.headers.range, undefined);
    });

    it('a server that ignores Range: the retry starts over from byte 0 and still succeeds', async (t) => {
      const proxy = await cutOnce(t, 65536, { kind: 'ignore-range' });
      const store = openStore(t);
      const result = await pullImage(store, `${proxy.host}/test/resume:1`, { config });
      assert.equal(result.image.id, image.configs[0]);
      assert.equal(proxy.requests.filter((r) => r.method === 'GET' && r.path === blobPath('test/resume', bigLayer)).length, 2);
      assert.deepEqual(readFileSync(join(store.snapshots.dir(store.layers(result.image.id)[0]!.chainId), 'data/big')), BIG);
    });
  });

  describe('concurrency: several hull processes on one root', { concurrency: true }, () => {
    let reg: TestRegistry;
    let a: { manifests: string[]; configs: string[] };
    let b: { manifests: string[]; configs: string[] };
    before(async () => {
      reg = await startRegistry({ auth: 'none' });
      a = await skopeoImage(reg, 'test/conc', [{ layers: [LOWER, MIDDLE, UPPER] }], 'a');
      b = await skopeoImage(reg, 'test/conc', [{ layers: [LOWER, MIDDLE, OTHER_UPPER] }], 'b');
    });
    after(() => reg.stop());

    function consistent(root: string): { images: string[]; chains: string[] } {
      const store = ImageStore.open(root);
      try {
        const images = store.list();
        const chains = (store.db.prepare('SELECT chain_id FROM snapshots ORDER BY chain_id').all() as { chain_id: string }[]).map((r) => r.chain_id);
        const used = new Set(images.flatMap((i) => store.layers(i.id).map((l) => l.chainId)));
        assert.deepEqual([...used].sort(), chains, 'every snapshot row belongs to an image, and every image layer has a row');
        assert.deepEqual(readdirSync(join(root, 'snapshots')).sort(), chains.map((c) => c.slice(7)), 'one directory per snapshot row');
        for (const img of images) {
          for (const l of store.layers(img.id)) {
            if (l.blob) assert.ok(store.content.has(l.blob), `blob ${l.blob} of ${img.id} is there`);
          }
        }
        assert.deepEqual(files(join(root, 'tmp')), []);
        assert.deepEqual((store.db.prepare('SELECT count(*) AS n FROM leases').get() as { n: number }).n, 0);
        return { images: images.map((i) => i.id).sort(), chains };
      } finally {
        store.close();
      }
    }

    it('two pulls of the same image at once both succeed, with one snapshot per layer', async (t) => {
      const root = newRoot(t);
      const ref = `${reg.host}/test/conc:a`;
      const [one, two] = await Promise.all([hull(root, ['pull', ref]), hull(root, ['pull', ref])]);
      for (const r of [one!, two!]) {
        assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
        assert.equal(lines(r.stdout).at(-1), ref);
      }
      const state = consistent(root);
      assert.deepEqual(state.images, [a.configs[0]]);
      assert.equal(state.chains.length, 3);
    });

    it('a pull while an rmi of another image sharing layers runs leaves both consistent', async (t) => {
      const root = newRoot(t);
      await ok(root, ['pull', '-q', `${reg.host}/test/conc:a`]);
      const [pulled, removed] = await Promise.all([hull(root, ['pull', '-q', `${reg.host}/test/conc:b`]), hull(root, ['rmi', `${reg.host}/test/conc:a`])]);
      assert.equal(pulled.status, 0, pulled.stderr);
      assert.equal(removed.status, 0, removed.stderr);
      const state = consistent(root);
      assert.deepEqual(state.images, [b.configs[0]]);
      assert.equal(state.chains.length, 3, 'b keeps the two shared layers and its own; the layer only a had is gone');
      // b is whole: its files are all there
      const store = ImageStore.open(root);
      try {
        const [lower, middle, upper] = store.layers(b.configs[0]!).map((l) => store.snapshots.dir(l.chainId)) as [string, string, string];
        assert.deepEqual(readFileSync(join(lower, 'data/big')), BIG);
        assert.ok(lstatSync(join(middle, 'x')).isCharacterDevice());
        assert.equal(readFileSync(join(upper, 'other/file'), 'utf8'), 'another top layer');
      } finally {
        store.close();
      }
    });
  });
});
