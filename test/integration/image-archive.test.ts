// save, load and import against real stores on disk: round trips, the OCI schemas, archives
// written by skopeo, compressed inputs, hostile archives (each refused with nothing left in the
// store), and the CLI verbs end to end.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import AjvModule from 'ajv-draft-04';
import { importImage, ImportError } from '../../src/engine/archive/import.ts';
import { ArchiveError, EmptyArchiveError, loadImages, loadMessages } from '../../src/engine/archive/load.ts';
import { SaveError, saveImages, type SaveFormat } from '../../src/engine/archive/save.ts';
import { makeBusyboxImage } from '../../src/image/base-image.ts';
import { MediaType, parseImageConfig, serializeConfig, serializeIndex, serializeManifest, type Descriptor } from '../../src/image/manifest.ts';
import { formatPlatform, hostPlatform } from '../../src/image/platform.ts';
import { ImageStore } from '../../src/image/store/image-store.ts';
import { readTar } from '../../src/image/tar/reader.ts';
import { tarStream, type TarEntry } from '../../src/image/tar/writer.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(REPO, 'src/cli/bin.ts');
const SCHEMAS = new URL('../../../shared/specs/image-spec/', import.meta.url);
const BUSYBOX = 'docker.io/library/busybox:latest';

const dirs: string[] = [];
const stores: ImageStore[] = [];
after(() => {
  for (const s of stores) s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `hull-archive-${prefix}-`));
  dirs.push(d);
  return d;
}

function newStore(): ImageStore {
  const s = ImageStore.open(tmp('store'));
  stores.push(s);
  return s;
}

async function busyboxStore(): Promise<{ store: ImageStore; id: string }> {
  const store = newStore();
  const img = await makeBusyboxImage(store, BUSYBOX);
  return { store, id: img.id };
}

const sha = (b: Uint8Array | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');
const hex = (d: string) => d.slice(d.indexOf(':') + 1);

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

async function tarOf(entries: TarEntry[]): Promise<Buffer> {
  return collect(tarStream(entries));
}

const file = (name: string, data: Buffer | string, mode = 0o644): TarEntry => ({ name, type: 'file', mode, mtime: 0, data: Buffer.from(data) });

async function saveToBuffer(store: ImageStore, names: string[], format: SaveFormat = 'docker'): Promise<Buffer> {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      parts.push(chunk);
      done();
    },
  });
  await saveImages(store, names, sink, format);
  return Buffer.concat(parts);
}

/** The entries of a tar, in order, with their content. */
async function entriesOf(tar: Buffer): Promise<{ path: string; type: string; linkpath: string; data: Buffer }[]> {
  const out = [];
  for await (const e of readTar(Readable.from([tar]))) out.push({ path: e.header.path, type: e.header.type, linkpath: e.header.linkpath, data: await e.read() });
  return out;
}

/** A directory's content as lines: path, type, permission bits, owner, and size or link target. */
function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, p));
      const kind = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? `link->${readlinkSync(join(root, p))}` : st.isFile() ? `file:${st.size}` : 'other';
      out.push(`${p} ${kind} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk('');
  return out;
}

/** What a store holds: its images and tags, and every file, snapshot and scratch directory on disk. */
function storeState(store: ImageStore): { images: string[]; files: string[] } {
  const images = store.list().map((i) => `${i.id} ${i.manifest} ${[...i.tags].sort().join(',')}`).sort();
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(store.root, rel))) {
      const p = rel ? `${rel}/${name}` : name;
      if (/^images\.db/.test(p)) continue;
      const st = lstatSync(join(store.root, p));
      if (st.isDirectory()) {
        // a snapshot or a lease's scratch directory counts even when it is empty
        if (/^(snapshots|tmp|ingest)\/[^/]+$/.test(p)) files.push(p + '/');
        if (!p.startsWith('snapshots/')) walk(p);
      } else files.push(p);
    }
  };
  walk('');
  return { images, files: files.sort() };
}

/** Loading `input` fails with an ArchiveError matching `re`, and the store is as it was. */
async function assertRefused(store: ImageStore, input: Buffer | string, re: RegExp): Promise<void> {
  const before = storeState(store);
  await assert.rejects(
    loadImages(store, typeof input === 'string' ? input : Readable.from([input])),
    (e: unknown) => {
      assert.ok(e instanceof ArchiveError, `expected an ArchiveError, got ${String(e)}`);
      assert.match(e.message, re);
      return true;
    },
  );
  assert.deepEqual(storeState(store), before);
}

// ---------------------------------------------------------------------------------------------
// The OCI image-spec schemas (draft-04), as ../shared has them.

function schemaValidator() {
  const ajv = new AjvModule.default({ allErrors: true, strict: false });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  ajv.addFormat('uri', (s: string) => URL.canParse(s));
  // nested string "id"s would re-base relative $refs; each file is registered under its own URL instead
  const dropIds = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(dropIds);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k, x]) => !(k === 'id' && typeof x === 'string')).map(([k, x]) => [k, dropIds(x)]));
    return v;
  };
  for (const f of readdirSync(SCHEMAS).filter((n) => n.endsWith('.json'))) {
    const url = new URL(f, SCHEMAS);
    ajv.addSchema(dropIds(JSON.parse(readFileSync(url, 'utf8'))) as object, url.href);
  }
  return (schema: string, doc: unknown) => {
    const validate = ajv.getSchema(new URL(schema, SCHEMAS).href)!;
    assert.ok(validate(doc), `${schema}: ${JSON.stringify(validate.errors)}`);
  };
}
const validate = schemaValidator();

/** Checks an OCI layout given as path -> bytes: schemas, blob digests, and every manifest and config it reaches. */
function checkLayout(files: Map<string, Buffer>): { index: { manifests: Descriptor[] } } {
  const layout = JSON.parse(files.get('oci-layout')!.toString());
  validate('image-layout-schema.json', layout);
  const index = JSON.parse(files.get('index.json')!.toString());
  validate('image-index-schema.json', index);
  for (const [path, bytes] of files) {
    if (path.startsWith('blobs/sha256/')) assert.equal(sha(bytes), `sha256:${path.slice('blobs/sha256/'.length)}`, `${path} hashes to its name`);
  }
  for (const d of index.manifests as Descriptor[]) {
    const m = files.get(`blobs/sha256/${hex(d.digest)}`)!;
    assert.equal(m.length, d.size);
    const manifest = JSON.parse(m.toString());
    validate('image-manifest-schema.json', manifest);
    const config = files.get(`blobs/sha256/${hex(manifest.config.digest)}`)!;
    assert.equal(config.length, manifest.config.size);
    validate('config-schema.json', JSON.parse(config.toString()));
    for (const l of manifest.layers) assert.equal(files.get(`blobs/sha256/${hex(l.digest)}`)!.length, l.size);
  }
  return { index };
}

function filesOfDir(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel))) {
      const p = rel ? `${rel}/${name}` : name;
      if (lstatSync(join(root, p)).isDirectory()) walk(p);
      else out.set(p, readFileSync(join(root, p)));
    }
  };
  walk('');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Hand-made images for load and import.

async function layer(files: Record<string, string>): Promise<{ tar: Buffer; diffId: string }> {
  const tar = await tarOf(Object.entries(files).map(([name, text]) => file(name, text)));
  return { tar, diffId: sha(tar) };
}

function configFor(diffIds: string[], platform = hostPlatform()): Buffer {
  return Buffer.from(
    serializeConfig({
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: { Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: diffIds as `sha256:${string}`[] },
    }),
  );
}

/** A docker-archive tar: manifest.json (as given, or raw bytes) and the files it names. */
async function dockerArchive(manifest: unknown, files: Record<string, Buffer>, extra: TarEntry[] = []): Promise<Buffer> {
  const body = Buffer.isBuffer(manifest) ? manifest : Buffer.from(JSON.stringify(manifest));
  return tarOf([...Object.entries(files).map(([n, b]) => file(n, b)), ...extra, file('manifest.json', body)]);
}

/** An OCI layout as path -> bytes for an image made of `layers`, with the index entries given. */
function ociImage(layers: Buffer[], diffIds: string[], platform = hostPlatform()): { blobs: Map<string, Buffer>; manifest: Descriptor; config: Buffer } {
  const blobs = new Map<string, Buffer>();
  const config = configFor(diffIds, platform);
  blobs.set(`blobs/sha256/${hex(sha(config))}`, config);
  for (const l of layers) blobs.set(`blobs/sha256/${hex(sha(l))}`, l);
  const manifest = Buffer.from(
    serializeManifest({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: sha(config) as `sha256:${string}`, size: config.length },
      layers: layers.map((l) => ({ mediaType: l[0] === 0x1f ? MediaType.OciLayerGzip : MediaType.OciLayer, digest: sha(l) as `sha256:${string}`, size: l.length })),
    }),
  );
  blobs.set(`blobs/sha256/${hex(sha(manifest))}`, manifest);
  return { blobs, config, manifest: { mediaType: MediaType.OciManifest, digest: sha(manifest) as `sha256:${string}`, size: manifest.length, platform } };
}

function indexJson(manifests: Descriptor[]): Buffer {
  return Buffer.from(serializeIndex({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }));
}

async function ociTar(files: Map<string, Buffer>): Promise<Buffer> {
  return tarOf([...files].map(([n, b]) => file(n, b)));
}

// ---------------------------------------------------------------------------------------------

test('save then load into another store: same image ID, tags, manifest and unpacked files', async () => {
  const { store: src, id } = await busyboxStore();
  src.tag(id, 'docker.io/library/busybox:1.0');
  const tar = await saveToBuffer(src, ['busybox']);

  const dst = newStore();
  const loaded = await loadImages(dst, Readable.from([tar]));
  assert.deepEqual(loaded, [{ id, tags: ['docker.io/library/busybox:1.0', BUSYBOX], moved: [] }]);
  assert.deepEqual(loadMessages(loaded), ['Loaded image: busybox:1.0', 'Loaded image: busybox:latest']);
  const a = src.get(id)!;
  const b = dst.get(id)!;
  assert.deepEqual(b.tags, a.tags);
  assert.equal(b.manifest, a.manifest);
  assert.equal(b.topChain, a.topChain);
  assert.equal(b.size, a.size);
  assert.deepEqual(dst.layers(id), src.layers(id));
  const tree = listTree(dst.snapshots.dir(b.topChain!));
  assert.ok(tree.some((l) => l.startsWith('bin/busybox file:')));
  assert.deepEqual(tree, listTree(src.snapshots.dir(a.topChain!)));

  // loading it again changes nothing
  const files = storeState(dst);
  assert.deepEqual(await loadImages(dst, Readable.from([tar])), loaded);
  assert.deepEqual(storeState(dst), files);
});

test('the default format is a docker-archive and an OCI layout in one tar, with the blobs as stored', async () => {
  const { store, id } = await busyboxStore();
  const tar = await saveToBuffer(store, ['busybox:latest']);
  const entries = await entriesOf(tar);
  const layerBlob = store.layers(id)[0]!.blob!;
  assert.deepEqual(
    entries.map((e) => e.path),
    ['blobs/', 'blobs/sha256/', ...[id, layerBlob, store.get(id)!.manifest].map((d) => `blobs/sha256/${hex(d)}`).sort(), 'index.json', 'manifest.json', 'oci-layout', 'repositories'],
  );
  const files = new Map(entries.filter((e) => e.type === 'file').map((e) => [e.path, e.data]));
  // the layer goes out compressed, byte for byte the store's blob
  assert.deepEqual(files.get(`blobs/sha256/${hex(layerBlob)}`), readFileSync(store.content.path(layerBlob)));
  assert.equal(files.get(`blobs/sha256/${hex(layerBlob)}`)![0], 0x1f);
  assert.deepEqual(JSON.parse(files.get('manifest.json')!.toString()), [
    { Config: `blobs/sha256/${hex(id)}`, RepoTags: ['busybox:latest'], Layers: [`blobs/sha256/${hex(layerBlob)}`] },
  ]);
  assert.deepEqual(JSON.parse(files.get('repositories')!.toString()), { busybox: { latest: hex(layerBlob) } });
  const { index } = checkLayout(files);
  assert.deepEqual(index.manifests.map((d) => [d.digest, d.annotations]), [
    [store.get(id)!.manifest, { 'io.containerd.image.name': BUSYBOX, 'org.opencontainers.image.ref.name': 'latest' }],
  ]);
  assert.deepEqual(index.manifests[0]!.platform, { architecture: hostPlatform().architecture, os: 'linux' });
});

test('oci-archive and oci-dir are OCI layouts that pass the image-spec schemas and load back', async () => {
  const { store, id } = await busyboxStore();
  const tar = await saveToBuffer(store, ['busybox'], 'oci-archive');
  const entries = await entriesOf(tar);
  assert.ok(!entries.some((e) => e.path === 'manifest.json' || e.path === 'repositories'), 'an OCI archive has no docker files');
  checkLayout(new Map(entries.filter((e) => e.type === 'file').map((e) => [e.path, e.data])));

  const dir = join(tmp('ocidir'), 'layout');
  await saveImages(store, ['busybox:latest'], dir, 'oci-dir');
  const files = filesOfDir(dir);
  assert.deepEqual([...files.keys()].filter((p) => !p.startsWith('blobs/')).sort(), ['index.json', 'oci-layout']);
  checkLayout(files);
  // a directory that holds something already is refused, and left as it was
  await assert.rejects(saveImages(store, ['busybox'], dir, 'oci-dir'), (e: unknown) => e instanceof SaveError && /is not empty/.test(e.message));
  assert.deepEqual(filesOfDir(dir), files);

  for (const input of [Readable.from([tar]), dir]) {
    const dst = newStore();
    assert.deepEqual(await loadImages(dst, input), [{ id, tags: [BUSYBOX], moved: [] }]);
    assert.deepEqual(listTree(dst.snapshots.dir(dst.get(id)!.topChain!)), listTree(store.snapshots.dir(store.get(id)!.topChain!)));
  }
});

test('several images, several tags, and an untagged image saved by ID', async () => {
  const { store, id } = await busyboxStore();
  const l1 = await layer({ 'one.txt': 'one' });
  const rootfs = join(tmp('rootfs'), 'one.tar');
  writeFileSync(rootfs, l1.tar);
  const other = await importImage(store, rootfs, { tag: 'other:1' });
  store.tag(other.id, 'docker.io/library/other:2');
  const untagged = await importImage(store, rootfs, { message: 'no tag' });
  assert.notEqual(untagged.id, other.id); // created differs, so the config does
  const tar = await saveToBuffer(store, ['busybox:latest', 'other', untagged.id.slice(7, 19)]);
  const files = new Map((await entriesOf(tar)).filter((e) => e.type === 'file').map((e) => [e.path, e.data]));
  const { index } = checkLayout(files);
  assert.equal(index.manifests.length, 4);
  assert.equal(index.manifests.filter((d) => d.annotations === undefined).length, 1, 'the untagged image is in index.json without a name');
  assert.deepEqual(JSON.parse(files.get('manifest.json')!.toString()).map((m: { RepoTags: string[] | null }) => m.RepoTags), [['busybox:latest'], ['other:1', 'other:2'], null]);

  const dst = newStore();
  const loaded = await loadImages(dst, Readable.from([tar]));
  assert.deepEqual(
    loaded.map((l) => [l.id, l.tags]),
    [
      [id, [BUSYBOX]],
      [other.id, ['docker.io/library/other:1', 'docker.io/library/other:2']],
      [untagged.id, []],
    ],
  );
  assert.deepEqual(loadMessages(loaded), ['Loaded image: busybox:latest', 'Loaded image: other:1', 'Loaded image: other:2', `Loaded image ID: ${untagged.id}`]);
  assert.equal(dst.list().length, 3);
});

test('a tag that moves to the loaded image is reported as docker reports it', async () => {
  const { store, id } = await busyboxStore();
  const tar = await saveToBuffer(store, ['busybox']);
  const dst = newStore();
  const l = await layer({ 'x.txt': 'x' });
  const rootfs = join(tmp('rootfs'), 'x.tar');
  writeFileSync(rootfs, l.tar);
  const old = await importImage(dst, rootfs, { tag: 'busybox:latest' });
  const loaded = await loadImages(dst, Readable.from([tar]));
  assert.deepEqual(loaded[0]!.moved, [{ tag: BUSYBOX, from: old.id }]);
  assert.deepEqual(loadMessages(loaded), [`The image busybox:latest already exists, renaming the old one with ID ${old.id} to empty string`, 'Loaded image: busybox:latest']);
  assert.deepEqual(dst.get(old.id)!.tags, []);
  assert.equal(dst.byName(BUSYBOX), id);
});

test('an image whose layer blob is not in the store cannot be saved, and no file is left', async () => {
  const { store, id } = await busyboxStore();
  rmSync(store.content.path(store.layers(id)[0]!.blob!));
  const out = join(tmp('out'), 'x.tar');
  await assert.rejects(saveImages(store, ['busybox'], out), (e: unknown) => e instanceof SaveError && /layer 0 .* has no compressed blob in the image store/.test(e.message));
  assert.deepEqual(readdirSync(join(out, '..')), []);
  await assert.rejects(saveImages(store, ['nosuch:image'], join(tmp('out'), 'y.tar')), (e: unknown) => e instanceof SaveError && /No such image: nosuch:image/.test(e.message));
});

test('archives that skopeo writes from a layout hull saved load back to the same image', async () => {
  const { store, id } = await busyboxStore();
  const work = tmp('skopeo');
  const layout = join(work, 'layout');
  await saveImages(store, ['busybox:latest'], layout, 'oci-dir');

  const skopeo = (...args: string[]) => {
    const r = spawnSync('skopeo', ['--insecure-policy', ...args], { encoding: 'utf8' });
    assert.equal(r.status, 0, `skopeo ${args.join(' ')}: ${r.stderr}`);
  };
  const dockerTar = join(work, 'docker.tar');
  skopeo('copy', `oci:${layout}:latest`, `docker-archive:${dockerTar}:busybox:sk`);
  // c/image writes the legacy <id>/layer.tar entries as symlinks into the archive
  const entries = await entriesOf(readFileSync(dockerTar));
  assert.ok(entries.some((e) => e.type === 'symlink' && e.path.endsWith('/layer.tar')), 'skopeo archive has its layer.tar symlinks');
  const a = newStore();
  assert.deepEqual(await loadImages(a, dockerTar), [{ id, tags: ['docker.io/library/busybox:sk'], moved: [] }]);
  assert.deepEqual(listTree(a.snapshots.dir(a.get(id)!.topChain!)), listTree(store.snapshots.dir(store.get(id)!.topChain!)));

  const ociTarFile = join(work, 'oci.tar');
  skopeo('copy', `oci:${layout}:latest`, `oci-archive:${ociTarFile}:busybox:ocia`);
  const b = newStore();
  assert.deepEqual(await loadImages(b, ociTarFile), [{ id, tags: ['docker.io/library/busybox:ocia'], moved: [] }]);

  // and skopeo reads what hull saves
  const ours = join(work, 'ours.tar');
  await saveImages(store, ['busybox'], ours);
  skopeo('copy', `docker-archive:${ours}`, `oci:${join(work, 'back')}:x`);
  assert.ok(existsSync(join(work, 'back/blobs/sha256', hex(id))), 'skopeo copied the same config');
});

test('a compressed archive, and docker-archive layers as plain tar, gzip and zstd at any path', async () => {
  const a = await layer({ 'a.txt': 'layer a' });
  const b = await layer({ 'b.txt': 'layer b' });
  const c = await layer({ 'c.txt': 'layer c' });
  const config = configFor([a.diffId, b.diffId, c.diffId]);
  const tar = await dockerArchive([{ Config: 'cfg.json', RepoTags: ['multi:1'], Layers: ['layers/a.tar', 'deep/dir/b.tar.gz', 'c'] }], {
    'cfg.json': config,
    'layers/a.tar': a.tar,
    'deep/dir/b.tar.gz': gzipSync(b.tar),
    c: zstdCompressSync(c.tar),
  });
  for (const input of [tar, gzipSync(tar), zstdCompressSync(tar)]) {
    const store = newStore();
    const loaded = await loadImages(store, Readable.from([input]));
    assert.deepEqual(loaded, [{ id: sha(config), tags: ['docker.io/library/multi:1'], moved: [] }]);
    assert.deepEqual(store.layers(sha(config)).map((l) => l.blobType), [MediaType.OciLayer, MediaType.OciLayerGzip, MediaType.OciLayerZstd]);
    const top = store.get(sha(config))!.topChain!;
    assert.deepEqual(store.snapshots.lowerDirs(top).map((d) => readdirSync(d)), [['c.txt'], ['b.txt'], ['a.txt']]);
    assert.equal(readFileSync(join(store.snapshots.dir(top), 'c.txt'), 'utf8'), 'layer c');
  }
});

test('an OCI layout with a nested multi-platform index: the host platform is chosen, or the one asked for', async () => {
  const host = hostPlatform();
  const other = host.architecture === 'ppc64le' ? { os: 'linux', architecture: 's390x' } : { os: 'linux', architecture: 'ppc64le' };
  const l = await layer({ 'host.txt': 'host' });
  const m = await layer({ 'other.txt': 'other' });
  const hostImg = ociImage([gzipSync(l.tar)], [l.diffId], host);
  const otherImg = ociImage([m.tar], [m.diffId], other);
  const missing = { mediaType: MediaType.OciManifest, digest: sha('absent') as `sha256:${string}`, size: 10, platform: { os: 'linux', architecture: 'riscv64' } };
  const nested = indexJson([missing, otherImg.manifest, hostImg.manifest]);
  const files = new Map([...hostImg.blobs, ...otherImg.blobs, [`blobs/sha256/${hex(sha(nested))}`, nested]]);
  files.set('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  files.set(
    'index.json',
    indexJson([{ mediaType: MediaType.OciIndex, digest: sha(nested) as `sha256:${string}`, size: nested.length, annotations: { 'io.containerd.image.name': 'docker.io/library/multi:plat', 'org.opencontainers.image.ref.name': 'plat' } }]),
  );
  const dir = tmp('layout');
  for (const [p, b] of files) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), b);
  }

  const s1 = newStore();
  assert.deepEqual(await loadImages(s1, dir), [{ id: sha(hostImg.config), tags: ['docker.io/library/multi:plat'], moved: [] }]);
  assert.ok(s1.content.has(sha(nested)), 'the index the image was chosen from is kept');
  assert.ok(!s1.content.has(sha(otherImg.config)), 'the other platforms are not');

  const s2 = newStore();
  assert.deepEqual((await loadImages(s2, Readable.from([await ociTar(files)]), { platform: other })).map((i) => i.id), [sha(otherImg.config)]);
  assert.equal(s2.get(sha(otherImg.config))!.architecture, other.architecture);

  // a platform the index lists but whose manifest the archive lacks, asked for (load --platform)
  const s3 = newStore();
  const before = storeState(s3);
  await assert.rejects(
    loadImages(s3, dir, { platform: { os: 'linux', architecture: 'riscv64' } }),
    (e: unknown) => e instanceof ArchiveError && /^requested platform \(linux\/riscv64\) found, but some content is missing: .*lists sha256:[0-9a-f]{64} for it, which is not in/.test(e.message),
  );
  assert.deepEqual(storeState(s3), before);
  // a platform the index does not list at all
  const listed = [host, other, { os: 'linux', architecture: 'riscv64' }].map(formatPlatform).sort().join(', ');
  await assert.rejects(
    loadImages(s3, dir, { platform: { os: 'linux', architecture: 'mips64le' }, label: 'layout' }),
    (e: unknown) => e instanceof ArchiveError && e.message === `requested platform (linux/mips64le) not found: layout holds no image for it; it holds ${listed}`,
  );
  assert.deepEqual(storeState(s3), before);
});

test('load --platform: only the images of that platform, from a docker-archive or a layout of several', async () => {
  const host = hostPlatform();
  const other = host.architecture === 'ppc64le' ? { os: 'linux', architecture: 's390x' } : { os: 'linux', architecture: 'ppc64le' };
  const absent = { os: 'linux', architecture: 'riscv64' };
  const h = await layer({ 'host.txt': 'host' });
  const o = await layer({ 'other.txt': 'other' });
  const hostConfig = configFor([h.diffId], host);
  const otherConfig = configFor([o.diffId], other);
  const tar = await dockerArchive(
    [
      { Config: 'host.json', RepoTags: ['app:host'], Layers: ['host.tar'] },
      { Config: 'other.json', RepoTags: ['app:other'], Layers: ['other.tar'] },
    ],
    { 'host.json': hostConfig, 'host.tar': h.tar, 'other.json': otherConfig, 'other.tar': o.tar },
  );

  // without --platform every image loads, whatever its platform, as docker's graph-driver store does
  const all = newStore();
  assert.deepEqual((await loadImages(all, Readable.from([tar]))).map((i) => i.tags), [['docker.io/library/app:host'], ['docker.io/library/app:other']]);

  const onlyOther = newStore();
  assert.deepEqual(await loadImages(onlyOther, Readable.from([tar]), { platform: other }), [{ id: sha(otherConfig), tags: ['docker.io/library/app:other'], moved: [] }]);
  assert.deepEqual(onlyOther.list().map((i) => i.id), [sha(otherConfig)]);
  assert.ok(!onlyOther.content.has(sha(hostConfig)), 'nothing of the skipped image is kept');
  assert.ok(!onlyOther.content.has(sha(h.tar)), 'nothing of the skipped image is kept');

  const onlyHost = newStore();
  assert.deepEqual((await loadImages(onlyHost, Readable.from([tar]), { platform: host })).map((i) => i.id), [sha(hostConfig)]);

  const none = newStore();
  const empty = storeState(none);
  await assert.rejects(
    loadImages(none, Readable.from([tar]), { platform: absent, label: 'apps.tar' }),
    (e: unknown) => e instanceof ArchiveError && e.message === `requested platform (linux/riscv64) not found: apps.tar holds no image for it; it holds ${[host, other].map(formatPlatform).sort().join(', ')}`,
  );
  assert.deepEqual(storeState(none), empty);

  // an OCI layout whose index.json names one image per platform, without an index between
  const hostImg = ociImage([h.tar], [h.diffId], host);
  const otherImg = ociImage([o.tar], [o.diffId], other);
  const files = new Map([...hostImg.blobs, ...otherImg.blobs]);
  files.set('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  const named = (d: Descriptor, name: string): Descriptor => ({ ...d, annotations: { 'io.containerd.image.name': name } });
  files.set('index.json', indexJson([named(hostImg.manifest, 'docker.io/library/app:host'), named(otherImg.manifest, 'docker.io/library/app:other')]));
  const layout = await ociTar(files);
  const fromLayout = newStore();
  assert.deepEqual(await loadImages(fromLayout, Readable.from([layout]), { platform: other }), [{ id: sha(otherImg.config), tags: ['docker.io/library/app:other'], moved: [] }]);
  assert.equal(fromLayout.list().length, 1);
  await assert.rejects(loadImages(newStore(), Readable.from([layout]), { platform: absent }), /requested platform \(linux\/riscv64\) not found/);
});

test('import from a file, with --change: a one-layer image with a gzip layer and docker\'s history', async () => {
  const store = newStore();
  const root = await layer({ 'etc/hostname': 'imported\n', 'bin/tool': '#!/bin/sh\n' });
  const src = join(tmp('import'), 'rootfs.tar.zst');
  writeFileSync(src, zstdCompressSync(root.tar));
  const img = await importImage(store, src, {
    tag: 'imported:v1',
    changes: ['ENV A=1 B="two words"', 'CMD ["/bin/tool"]', 'EXPOSE 8080', 'WORKDIR /srv', 'LABEL k=v', 'USER nobody'],
  });
  assert.deepEqual(img.tags, ['docker.io/library/imported:v1']);
  const config = parseImageConfig(store.content.read(img.id));
  assert.deepEqual(config.config, { User: 'nobody', ExposedPorts: { '8080/tcp': {} }, Env: ['A=1', 'B=two words'], Cmd: ['/bin/tool'], WorkingDir: '/srv', Labels: { k: 'v' } });
  assert.deepEqual(config.rootfs.diff_ids, [root.diffId]);
  assert.equal(config.os, 'linux');
  assert.equal(config.architecture, hostPlatform().architecture);
  assert.deepEqual(config.history, [{ created: config.created, comment: 'Imported from -' }]);
  const [l] = store.layers(img.id);
  assert.equal(l!.blobType, MediaType.OciLayerGzip);
  assert.equal(readFileSync(store.content.path(l!.blob!))[0], 0x1f);
  assert.equal(readFileSync(join(store.snapshots.dir(img.topChain!), 'etc/hostname'), 'utf8'), 'imported\n');

  const plat = await importImage(store, src, { platform: 'linux/arm64', message: 'for arm' });
  const pc = parseImageConfig(store.content.read(plat.id));
  assert.deepEqual([pc.architecture, pc.variant, pc.history![0]!.comment], ['arm64', 'v8', 'for arm']);
});

test('import from stdin and from an http URL; bad sources and changes leave the store as it was', async () => {
  const store = newStore();
  const root = await layer({ 'hello.txt': 'hello' });
  const fromStdin = await importImage(store, '-', { stdin: Readable.from([gzipSync(root.tar)]), tag: 'stdin:1' });
  assert.deepEqual(parseImageConfig(store.content.read(fromStdin.id)).rootfs.diff_ids, [root.diffId]);

  const server: Server = createServer((req, res) => {
    if (req.url === '/rootfs.tar') res.end(root.tar);
    else {
      res.statusCode = 404;
      res.end('no');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const fromUrl = await importImage(store, `${url}/rootfs.tar`, { tag: 'url:1' });
    const cfg = parseImageConfig(store.content.read(fromUrl.id));
    assert.equal(cfg.history![0]!.comment, `Imported from ${url}/rootfs.tar`);
    assert.equal(readFileSync(join(store.snapshots.dir(fromUrl.topChain!), 'hello.txt'), 'utf8'), 'hello');

    const before = storeState(store);
    const refused = async (p: Promise<unknown>, re: RegExp) => {
      await assert.rejects(p, (e: unknown) => e instanceof ImportError && re.test(e.message));
      assert.deepEqual(storeState(store), before);
    };
    await refused(importImage(store, `${url}/missing.tar`), /cannot download .*missing\.tar: the server answered 404/);
    await refused(importImage(store, '-', { stdin: Readable.from([Buffer.from('BZh91AY&SY' + 'x'.repeat(100))]) }), /unsupported compression.*bzip2/);
    await refused(importImage(store, '-', { stdin: Readable.from([Buffer.from('not a tar archive at all'.repeat(40))]) }), /not a usable root filesystem tarball/);
    await refused(importImage(store, '-', { stdin: Readable.from([]) }), /stdin is empty/);
    await refused(importImage(store, join(tmp('none'), 'nofile.tar')), /cannot open/);
    await refused(importImage(store, 'ftp://example.com/x.tar'), /unsupported URL scheme/);
    await refused(importImage(store, '-', { stdin: Readable.from([root.tar]), changes: ['RUN rm -rf /'] }), /^run is not a valid change command$/);
    await refused(importImage(store, '-', { stdin: Readable.from([root.tar]), changes: ['EXPOSE nope'] }), /"EXPOSE nope" is not a valid change command/);
    await refused(importImage(store, '-', { stdin: Readable.from([root.tar]), tag: 'x@sha256:' + 'a'.repeat(64) }), /digest reference/);
    await refused(importImage(store, '-', { stdin: Readable.from([root.tar]), platform: 'windows/amd64' }), /not supported/);
  } finally {
    server.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Hostile archives: each is refused with a message that says what is wrong, and leaves nothing.

test('hostile: entry paths with ".." or absolute paths', async () => {
  const { store } = await busyboxStore();
  await assertRefused(store, await tarOf([file('../evil', 'x'), file('manifest.json', '[]')]), /"\.\.\/evil" contains "\.\."/);
  await assertRefused(store, await tarOf([file('blobs/../../evil', 'x')]), /contains "\.\."/);
});

test('hostile: manifest.json naming a path outside the archive or a missing file', async () => {
  const { store } = await busyboxStore();
  const l = await layer({ 'a.txt': 'a' });
  const config = configFor([l.diffId]);
  const files = { 'c.json': config, 'l.tar': l.tar };
  await assertRefused(store, await dockerArchive([{ Config: 'c.json', RepoTags: ['x:1'], Layers: ['../../etc/passwd'] }], files), /Layers\[0\]: "\.\.\/\.\.\/etc\/passwd" contains "\.\."/);
  await assertRefused(store, await dockerArchive([{ Config: '/etc/passwd', RepoTags: ['x:1'], Layers: ['l.tar'] }], files), /Config: "\/etc\/passwd" is an absolute path/);
  await assertRefused(store, await dockerArchive([{ Config: 'c.json', RepoTags: ['x:1'], Layers: ['l.tar', 'missing.tar'] }], files), /lists 1 layers \(diff_ids\) but Layers has 2/);
  await assertRefused(store, await dockerArchive([{ Config: 'c.json', RepoTags: ['x:1'], Layers: ['missing.tar'] }], files), /Layers\[0\]: "missing\.tar" is not in the archive/);
  await assertRefused(store, await dockerArchive([{ Config: 'nope.json', RepoTags: ['x:1'], Layers: ['l.tar'] }], files), /Config: "nope\.json" is not in the archive/);
  // the same checks for an unpacked archive in a directory
  const dir = tmp('dir');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: 'c.json', Layers: ['../outside.tar'] }]));
  writeFileSync(join(dir, 'c.json'), config);
  await assertRefused(store, dir, /contains "\.\."/);
});

test('hostile: configs whose diff_ids do not match the layers', async () => {
  const { store, id } = await busyboxStore();
  const l = await layer({ 'a.txt': 'a' });
  const lie = configFor([sha('something else')]);
  await assertRefused(store, await dockerArchive([{ Config: 'c.json', RepoTags: ['x:1'], Layers: ['l.tar'] }], { 'c.json': lie, 'l.tar': l.tar }), /hashes to .* but the image config says/);
  // a diff_id the store already has unpacked is not trusted either
  const claimsBusybox = configFor([store.layers(id)[0]!.diffId]);
  await assertRefused(store, await dockerArchive([{ Config: 'c.json', RepoTags: ['busybox:latest'], Layers: ['l.tar'] }], { 'c.json': claimsBusybox, 'l.tar': l.tar }), /its content hashes to .* but the image config says/);
  // and through an OCI layout
  const img = ociImage([l.tar], [sha('not it')]);
  img.blobs.set('index.json', indexJson([img.manifest]));
  await assertRefused(store, await ociTar(img.blobs), /hashes to .* but the image config says/);
});

test('a failure in a later image undoes the earlier ones, and tags they moved go back', async () => {
  const { store, id } = await busyboxStore();
  const good = await layer({ 'good.txt': 'good' });
  const bad = await layer({ 'bad.txt': 'bad' });
  const goodConfig = configFor([good.diffId]);
  const tar = await dockerArchive(
    [
      { Config: 'good.json', RepoTags: ['good:1', 'busybox:latest'], Layers: ['good.tar'] },
      { Config: 'bad.json', RepoTags: ['bad:1'], Layers: ['bad.tar'] },
    ],
    { 'good.json': goodConfig, 'good.tar': good.tar, 'bad.json': configFor([sha('wrong')]), 'bad.tar': bad.tar },
  );
  await assertRefused(store, tar, /\[1\].*hashes to/);
  assert.equal(store.byName(BUSYBOX), id);
  assert.equal(store.get(sha(goodConfig)), undefined);
});

test('hostile: malformed JSON and documents of the wrong shape', async () => {
  const { store } = await busyboxStore();
  const l = await layer({ 'a.txt': 'a' });
  const files = { 'c.json': configFor([l.diffId]), 'l.tar': l.tar };
  await assertRefused(store, await dockerArchive(Buffer.from('[{"Config": '), files), /manifest\.json: malformed JSON/);
  await assertRefused(store, await dockerArchive({ Config: 'c.json' }, files), /manifest\.json: expected an array of images/);
  await assertRefused(store, await dockerArchive([{ Config: 'c.json', Layers: 'l.tar' }], files), /\[0\]\.Layers: expected a list of paths/);
  await assertRefused(store, await dockerArchive([{ Config: 'c.json', Layers: ['l.tar'], RepoTags: ['Not A Tag!'] }], files), /RepoTags\[0\]/);
  await assertRefused(store, await dockerArchive([{ Config: 'c.json', Layers: ['l.tar'], RepoTags: ['x@sha256:' + 'a'.repeat(64)] }], files), /invalid tag/);
  await assertRefused(store, await dockerArchive([{ Config: 'c.json', Layers: ['l.tar'] }], { ...files, 'c.json': Buffer.from('{"architecture": "amd64", ') }), /image config: malformed JSON/);
  await assertRefused(store, await tarOf([file('index.json', '{"schemaVersion": 2, "manifests": [')]), /index\.json: .*malformed JSON/);
  await assertRefused(store, await tarOf([file('index.json', indexJson([])), file('oci-layout', '{"imageLayoutVersion": "9.9.9"}')]), /unsupported layout version/);
  await assertRefused(store, await tarOf([file('repositories', '{}')]), /before docker 1\.10/);
  await assertRefused(store, await tarOf([file('hello.txt', 'hi')]), /neither manifest\.json .* nor index\.json/);
});

test('hostile: oversized JSON documents', async () => {
  const { store } = await busyboxStore();
  const big = Buffer.alloc(9 * 1024 * 1024, 0x20);
  big.write('[]', 0);
  await assertRefused(store, await tarOf([file('manifest.json', big)]), /manifest\.json.*over the limit of 8388608 bytes/);
  // a config blob beyond the limit is refused before it is parsed
  const l = await layer({ 'a.txt': 'a' });
  const hugeConfig = Buffer.concat([configFor([l.diffId]), Buffer.alloc(9 * 1024 * 1024, 0x20)]);
  await assertRefused(store, await dockerArchive([{ Config: 'c.json', Layers: ['l.tar'] }], { 'c.json': hugeConfig, 'l.tar': l.tar }), /over the limit of 8388608 bytes/);
});

test('hostile: symlinks leading out of the archive, and links where files belong', async () => {
  const { store } = await busyboxStore();
  const l = await layer({ 'a.txt': 'a' });
  const files = { 'c.json': configFor([l.diffId]) };
  const link = (name: string, target: string): TarEntry => ({ name, type: 'symlink', mode: 0o777, mtime: 0, linkname: target });
  await assertRefused(store, await dockerArchive([{ Config: 'c.json', Layers: ['x/layer.tar'] }], files, [link('x/layer.tar', '../../../etc/passwd')]), /points outside the archive/);
  await assertRefused(store, await dockerArchive([{ Config: 'c.json', Layers: ['x/layer.tar'] }], files, [link('x/layer.tar', '/etc/passwd')]), /absolute path "\/etc\/passwd"/);
  await assertRefused(store, await dockerArchive([{ Config: 'c.json', Layers: ['x/layer.tar'] }], files, [link('x/layer.tar', 'dangling')]), /"x\/layer\.tar" is not in the archive/);
  await assertRefused(store, await tarOf([file('real.json', '[]'), link('manifest.json', 'real.json')]), /manifest\.json is a link, not a file/);
  // a symlink inside a layout directory that leads out of it
  const dir = tmp('dir');
  const outside = join(tmp('outside'), 'secret');
  writeFileSync(outside, 'secret');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: 'c.json', Layers: [] }]));
  spawnSync('ln', ['-s', outside, join(dir, 'c.json')]);
  await assertRefused(store, dir, /leads outside/);
});

test('hostile: blobs whose content is not what their digest says', async () => {
  const { store } = await busyboxStore();
  const l = await layer({ 'a.txt': 'a' });
  const img = ociImage([l.tar], [l.diffId]);
  img.blobs.set('index.json', indexJson([img.manifest]));
  img.blobs.set(`blobs/sha256/${hex(sha(l.tar))}`, (await layer({ 'a.txt': 'b' })).tar);
  await assertRefused(store, await ociTar(img.blobs), /is not the blob its name says/);
  // a descriptor whose size is wrong
  const img2 = ociImage([l.tar], [l.diffId]);
  img2.blobs.set('index.json', indexJson([{ ...img2.manifest, size: img2.manifest.size + 1 }]));
  await assertRefused(store, await ociTar(img2.blobs), /bytes, but its descriptor says/);
  // a manifest that names a blob the archive lacks
  const img3 = ociImage([l.tar], [l.diffId]);
  img3.blobs.delete(`blobs/sha256/${hex(sha(l.tar))}`);
  img3.blobs.set('index.json', indexJson([img3.manifest]));
  await assertRefused(store, await ociTar(img3.blobs), /layers\[0\].*is not in the archive/);
});

test('hostile: truncated, empty, non-tar, corrupt and unsupported compressed input', async () => {
  const { store } = await busyboxStore();
  // a layer the store does not have, most of the archive, which streams straight into the content store
  const l = await layer({ 'random.bin': randomBytes(1 << 20).toString('base64') });
  const img = ociImage([l.tar], [l.diffId]);
  img.blobs.set('index.json', indexJson([img.manifest]));
  const tar = await ociTar(img.blobs);
  await assertRefused(store, tar.subarray(0, Math.floor(tar.length / 2)), /archive ends inside the data of "blobs\/sha256\//);
  const ingest = join(store.root, 'ingest');
  assert.deepEqual(existsSync(ingest) ? readdirSync(ingest) : [], [], 'no partial blob is kept');
  const gz = gzipSync(tar);
  await assertRefused(store, gz.subarray(0, gz.length - 100), /ends|corrupt|unexpected end/i);
  await assert.rejects(loadImages(store, Readable.from([])), EmptyArchiveError);
  await assertRefused(store, Buffer.from('this is not a tar archive'.repeat(50)), /checksum/);
  await assertRefused(store, Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]), /xz-compressed/);
  const dev: TarEntry = { name: 'dev/null', type: 'char', mode: 0o666, mtime: 0, devmajor: 1, devminor: 3 };
  await assertRefused(store, await tarOf([dev, file('manifest.json', '[]')]), /a char entry/);
});

// ---------------------------------------------------------------------------------------------
// The CLI, as a user runs it.

function hull(root: string, args: string[], input?: Buffer | string) {
  return spawnSync(process.execPath, [BIN, '--root', root, ...args], { input: input ?? '', maxBuffer: 1 << 30 });
}

test('CLI: save -o and load -i, save to a pipe and load from stdin, and docker\'s refusals', async () => {
  const root = tmp('cli-a');
  const made = hull(root, ['image', 'base']);
  assert.equal(made.status, 0, made.stderr.toString());
  const id = made.stdout.toString().trim();
  const out = join(tmp('cli-out'), 'busybox.tar');
  let r = hull(root, ['save', '-o', out, 'busybox']);
  assert.equal(r.status, 0, r.stderr.toString());

  const root2 = tmp('cli-b');
  r = hull(root2, ['load', '-i', out]);
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(r.stdout.toString(), 'Loaded image: busybox:latest\n');

  r = hull(root, ['image', 'save', 'busybox:latest']);
  assert.equal(r.status, 0, r.stderr.toString());
  assert.deepEqual(r.stdout, readFileSync(out), 'the same bytes to a pipe as to a file');
  const root3 = tmp('cli-c');
  const loaded = hull(root3, ['image', 'load', '-q'], gzipSync(r.stdout));
  assert.equal(loaded.status, 0, loaded.stderr.toString());
  assert.equal(loaded.stdout.toString(), 'Loaded image: busybox:latest\n');
  const s = ImageStore.open(root3);
  assert.equal(s.byName(BUSYBOX), id);
  s.close();

  r = hull(root3, ['load']);
  assert.equal(r.status, 1);
  assert.match(r.stderr.toString(), /requested load from stdin, but stdin is empty/);

  const layoutDir = join(tmp('cli-oci'), 'layout');
  r = hull(root, ['save', '--format', 'oci-dir', '-o', layoutDir, 'busybox']);
  assert.equal(r.status, 0, r.stderr.toString());
  checkLayout(filesOfDir(layoutDir));
  r = hull(root, ['save', '--format', 'oci-dir', 'busybox']);
  assert.equal(r.status, 125);
  r = hull(root, ['save', '--format', 'zip', '-o', out, 'busybox']);
  assert.equal(r.status, 125);

  // a terminal on stdout: script(1) gives the command a pty
  const tty = spawnSync('script', ['-qec', `${process.execPath} ${BIN} --root ${root} save busybox`, '/dev/null'], { encoding: 'utf8' });
  assert.notEqual(tty.status, 0);
  assert.match(tty.stdout, /cowardly refusing to save to a terminal\. Use the -o flag or redirect/);
  const ttyIn = spawnSync('script', ['-qec', `${process.execPath} ${BIN} --root ${root} load`, '/dev/null'], { encoding: 'utf8' });
  assert.notEqual(ttyIn.status, 0);
  assert.match(ttyIn.stdout, /requested load from stdin, but stdin is empty/);

  r = hull(root2, ['load', '-i', join(root2, 'nonexistent.tar')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr.toString(), /cannot open .*nonexistent\.tar/);
});

test('CLI: load --platform loads that platform only, and says so when the archive has none', async () => {
  const host = hostPlatform();
  const other = host.architecture === 'ppc64le' ? { os: 'linux', architecture: 's390x' } : { os: 'linux', architecture: 'ppc64le' };
  const h = await layer({ 'host.txt': 'host' });
  const o = await layer({ 'other.txt': 'other' });
  const tar = await dockerArchive(
    [
      { Config: 'host.json', RepoTags: ['app:host'], Layers: ['host.tar'] },
      { Config: 'other.json', RepoTags: ['app:other'], Layers: ['other.tar'] },
    ],
    { 'host.json': configFor([h.diffId], host), 'host.tar': h.tar, 'other.json': configFor([o.diffId], other), 'other.tar': o.tar },
  );
  const input = join(tmp('cli-plat'), 'apps.tar');
  writeFileSync(input, tar);
  const root = tmp('cli-plat-root');
  let r = hull(root, ['load', '--platform', formatPlatform(other), '-i', input]);
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(r.stdout.toString(), 'Loaded image: app:other\n');
  r = hull(root, ['image', 'load', '-q', '--platform', 'linux/riscv64'], tar);
  assert.equal(r.status, 1);
  assert.match(r.stderr.toString(), /^Error: requested platform \(linux\/riscv64\) not found: stdin holds no image for it; it holds linux\//);
  r = hull(root, ['load', '--platform', 'linux/amd64/v2/extra', '-i', input]);
  assert.equal(r.status, 1);
  assert.match(r.stderr.toString(), /invalid platform "linux\/amd64\/v2\/extra": expected os\[\/arch\[\/variant\]\]/);
  const s = ImageStore.open(root);
  try {
    assert.deepEqual(s.list().map((i) => i.tags), [['docker.io/library/app:other']]);
  } finally {
    s.close();
  }
});

test('CLI: import from stdin with --change, --message and a tag', async () => {
  const root = tmp('cli-import');
  const l = await layer({ 'etc/motd': 'hi\n' });
  const r = hull(root, ['import', '-c', 'ENV A=1', '--change', 'CMD ["/bin/sh"]', '-m', 'hello', '-', 'imp:cli'], gzipSync(l.tar));
  assert.equal(r.status, 0, r.stderr.toString());
  const id = r.stdout.toString().trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  const s = ImageStore.open(root);
  try {
    assert.equal(s.byName('docker.io/library/imp:cli'), id);
    const cfg = parseImageConfig(s.content.read(id));
    assert.deepEqual(cfg.config, { Env: ['A=1'], Cmd: ['/bin/sh'] });
    assert.equal(cfg.history![0]!.comment, 'hello');
  } finally {
    s.close();
  }
  const bad = hull(root, ['image', 'import', '-c', 'RUN make', '-'], l.tar);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr.toString(), /run is not a valid change command/);
});
