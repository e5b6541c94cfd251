import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import AjvModule from 'ajv-draft-04';
import { digestOf } from '../../src/image/digest.ts';
import type { Digest } from '../../src/image/digest.ts';
import {
  DEFAULT_MANIFEST_MAX_BYTES,
  MANIFEST_ACCEPT,
  ManifestError,
  MediaType,
  Schema1Error,
  isForeignLayer,
  isImageConfigMediaType,
  isIndexMediaType,
  isLayerMediaType,
  isManifestMediaType,
  layerCompression,
  parseImageConfig,
  parseManifestDocument,
  serializeConfig,
  serializeIndex,
  serializeManifest,
} from '../../src/image/manifest.ts';
import type { ImageConfig, ImageIndex, ImageManifest, ManifestDocument } from '../../src/image/manifest.ts';

// The official OCI image-spec schemas, beside the repository (never copied into it).
const SCHEMAS = new URL('../../../shared/specs/image-spec/', import.meta.url);

// The schema files carry nested `id`s that re-base their relative `$ref`s onto URIs
// nothing is registered under; without them, each file's refs resolve against the file's
// own URL, where its siblings are registered.
function dropIds(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropIds);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).filter(([k, x]) => !(k === 'id' && typeof x === 'string')).map(([k, x]) => [k, dropIds(x)]));
}

function loadSchemas() {
  const ajv = new AjvModule.default({ allErrors: true, strict: false });
  // No ajv-formats here: the two formats these schemas use, checked by hand.
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/);
  ajv.addFormat('uri', (s: string) => URL.canParse(s));
  for (const file of readdirSync(SCHEMAS).filter((f) => f.endsWith('.json'))) {
    const url = new URL(file, SCHEMAS);
    ajv.addSchema(dropIds(JSON.parse(readFileSync(url, 'utf8'))) as object, url.href);
  }
  const get = (file: string) => {
    const v = ajv.getSchema(new URL(file, SCHEMAS).href);
    assert.ok(v, `${file} compiles`);
    return (doc: unknown) => {
      const ok = v(doc) as boolean;
      return { ok, errors: JSON.stringify(v.errors ?? []) };
    };
  };
  return {
    manifest: get('image-manifest-schema.json'),
    index: get('image-index-schema.json'),
    config: get('config-schema.json'),
  };
}

const schema = loadSchemas();

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const hex = (n: number) => n.toString(16).padStart(64, '0');
const dg = (n: number) => `sha256:${hex(n)}` as Digest;

// What a registry serves for a docker-pushed image.
const dockerManifest = {
  schemaVersion: 2,
  mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
  config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 1457, digest: dg(1) },
  layers: [
    { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 2592863, digest: dg(2) },
    { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 33, digest: dg(3) },
    {
      mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
      size: 5,
      digest: dg(4),
      urls: ['https://mcr.microsoft.com/v2/blobs/x'],
    },
  ],
};

function failure(fn: () => unknown): ManifestError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ManifestError, `expected a ManifestError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a ManifestError');
}

test('media type constants are the registered names', () => {
  assert.equal(MediaType.OciManifest, 'application/vnd.oci.image.manifest.v1+json');
  assert.equal(MediaType.OciIndex, 'application/vnd.oci.image.index.v1+json');
  assert.equal(MediaType.OciConfig, 'application/vnd.oci.image.config.v1+json');
  assert.equal(MediaType.OciLayer, 'application/vnd.oci.image.layer.v1.tar');
  assert.equal(MediaType.OciLayerGzip, 'application/vnd.oci.image.layer.v1.tar+gzip');
  assert.equal(MediaType.OciLayerZstd, 'application/vnd.oci.image.layer.v1.tar+zstd');
  assert.equal(MediaType.OciLayerNondistributableGzip, 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip');
  assert.equal(MediaType.DockerManifest, 'application/vnd.docker.distribution.manifest.v2+json');
  assert.equal(MediaType.DockerManifestList, 'application/vnd.docker.distribution.manifest.list.v2+json');
  assert.equal(MediaType.DockerConfig, 'application/vnd.docker.container.image.v1+json');
  assert.equal(MediaType.DockerLayerGzip, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
  assert.equal(MediaType.DockerForeignLayer, 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip');
  assert.equal(MediaType.DockerSchema1Manifest, 'application/vnd.docker.distribution.manifest.v1+json');
  assert.equal(MediaType.DockerSchema1SignedManifest, 'application/vnd.docker.distribution.manifest.v1+prettyjws');
  assert.deepEqual([...MANIFEST_ACCEPT].sort(), [MediaType.DockerManifest, MediaType.DockerManifestList, MediaType.OciIndex, MediaType.OciManifest].sort());
  assert.ok(isManifestMediaType(MediaType.DockerManifest) && isManifestMediaType(MediaType.OciManifest));
  assert.ok(!isManifestMediaType(MediaType.OciIndex));
  assert.ok(isIndexMediaType(MediaType.DockerManifestList) && isIndexMediaType(MediaType.OciIndex));
  assert.ok(isImageConfigMediaType(MediaType.DockerConfig) && isImageConfigMediaType(MediaType.OciConfig));
  assert.ok(!isImageConfigMediaType(MediaType.OciEmpty));
});

test('layer media types map to their compression; foreign layers are recognized', () => {
  const cases: Array<[string, 'gzip' | 'zstd' | 'none', boolean]> = [
    [MediaType.OciLayer, 'none', false],
    [MediaType.OciLayerGzip, 'gzip', false],
    [MediaType.OciLayerZstd, 'zstd', false],
    [MediaType.OciLayerNondistributable, 'none', true],
    [MediaType.OciLayerNondistributableGzip, 'gzip', true],
    [MediaType.OciLayerNondistributableZstd, 'zstd', true],
    [MediaType.DockerLayer, 'none', false],
    [MediaType.DockerLayerGzip, 'gzip', false],
    [MediaType.DockerLayerZstd, 'zstd', false],
    [MediaType.DockerForeignLayer, 'gzip', true],
  ];
  for (const [mt, compression, foreign] of cases) {
    assert.equal(layerCompression(mt), compression, mt);
    assert.equal(isForeignLayer(mt), foreign, mt);
    assert.equal(isLayerMediaType(mt), true, mt);
  }
  for (const mt of [MediaType.OciConfig, 'application/vnd.oci.image.layer.v1.tar+bzip2', 'toString', '__proto__', '']) {
    assert.equal(isLayerMediaType(mt), false, mt);
    assert.equal(isForeignLayer(mt), false, mt);
    assert.match(failure(() => layerCompression(mt)).message, /unsupported layer media type/);
  }
});

test('a Docker v2 manifest from a registry parses with every field kept', () => {
  const doc = parseManifestDocument(json(dockerManifest), 'application/vnd.docker.distribution.manifest.v2+json');
  assert.equal(doc.kind, 'manifest');
  assert.ok(doc.kind === 'manifest');
  assert.equal(doc.mediaType, MediaType.DockerManifest);
  assert.deepEqual(doc.manifest, dockerManifest);
  assert.deepEqual(doc.manifest.layers[2]?.urls, ['https://mcr.microsoft.com/v2/blobs/x']);
  // The same bytes from a store, with no header, are the same document.
  assert.deepEqual(parseManifestDocument(json(dockerManifest)), doc);
  // Header parameters and case are ignored; generic types say nothing.
  assert.deepEqual(parseManifestDocument(json(dockerManifest), 'Application/VND.docker.distribution.manifest.v2+json; charset=utf-8'), doc);
  assert.deepEqual(parseManifestDocument(json(dockerManifest), 'application/json'), doc);
  assert.deepEqual(parseManifestDocument(JSON.stringify(dockerManifest), 'application/octet-stream'), doc);
});

test('OCI manifests and indexes parse, with or without mediaType in the body', () => {
  const oci = {
    schemaVersion: 2,
    config: { mediaType: MediaType.OciConfig, digest: dg(1), size: 7 },
    layers: [{ mediaType: MediaType.OciLayerZstd, digest: dg(2), size: 9, annotations: { 'org.opencontainers.image.title': 'x' } }],
    annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
    extraFieldFromTheFuture: { ignored: true },
  };
  const byShape = parseManifestDocument(json(oci));
  assert.equal(byShape.kind, 'manifest');
  assert.equal(byShape.mediaType, MediaType.OciManifest);
  assert.ok(byShape.kind === 'manifest');
  assert.equal(byShape.manifest.mediaType, undefined);
  assert.equal(byShape.manifest.annotations?.['org.opencontainers.image.created'], '2024-01-01T00:00:00Z');
  assert.ok(!('extraFieldFromTheFuture' in byShape.manifest));
  const byHeader = parseManifestDocument(json(oci), MediaType.OciManifest);
  assert.equal(byHeader.mediaType, MediaType.OciManifest);

  // Referrers-era fields are tolerated and kept; zero layers are allowed (OCI says SHOULD).
  const artifact = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: 'application/vnd.example.sbom.v1+json',
    config: { mediaType: MediaType.OciEmpty, digest: digestOf('{}'), size: 2, data: 'e30=' },
    layers: [],
    subject: { mediaType: MediaType.OciManifest, digest: dg(9), size: 500 },
  };
  const a = parseManifestDocument(json(artifact));
  assert.ok(a.kind === 'manifest');
  assert.equal(a.manifest.artifactType, 'application/vnd.example.sbom.v1+json');
  assert.deepEqual(a.manifest.subject, artifact.subject);
  assert.equal(a.manifest.config.data, 'e30=');
  assert.deepEqual(a.manifest.layers, []);

  const index = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [
      { mediaType: MediaType.OciManifest, digest: dg(1), size: 10, platform: { architecture: 'amd64', os: 'linux' } },
      {
        mediaType: MediaType.OciManifest,
        digest: dg(2),
        size: 11,
        platform: { architecture: 'arm64', os: 'linux', variant: 'v8', 'os.features': ['sse4'], 'os.version': '1' },
      },
      { mediaType: MediaType.OciIndex, digest: dg(3), size: 12, annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } },
    ],
  };
  const i = parseManifestDocument(json(index));
  assert.equal(i.kind, 'index');
  assert.ok(i.kind === 'index');
  assert.deepEqual(i.index, index);
  const { mediaType: _m, ...noType } = index;
  const byShapeIndex = parseManifestDocument(json(noType));
  assert.equal(byShapeIndex.kind, 'index');
  assert.equal(byShapeIndex.mediaType, MediaType.OciIndex);

  const list = { schemaVersion: 2, mediaType: MediaType.DockerManifestList, manifests: [{ mediaType: MediaType.DockerManifest, size: 1, digest: dg(5), platform: { architecture: 'amd64', os: 'linux' } }] };
  const l = parseManifestDocument(json(list), MediaType.DockerManifestList);
  assert.equal(l.mediaType, MediaType.DockerManifestList);
});

test('schema 1 manifests are refused with a clear message', () => {
  const schema1 = { schemaVersion: 1, name: 'library/busybox', tag: 'latest', architecture: 'amd64', fsLayers: [], history: [], signatures: [] };
  const message = 'manifest: schema 1 manifests are not supported; push the image with a newer client';
  for (const [body, header] of [
    [json(schema1), undefined],
    [json(schema1), 'application/json'],
    [json(schema1), MediaType.DockerSchema1SignedManifest],
    [json(dockerManifest), MediaType.DockerSchema1Manifest],
    [new TextEncoder().encode('not even json'), `${MediaType.DockerSchema1SignedManifest}; charset=utf-8`],
    [json({ ...dockerManifest, mediaType: MediaType.DockerSchema1Manifest }), undefined],
  ] as const) {
    assert.throws(() => parseManifestDocument(body, header), (e: unknown) => e instanceof Schema1Error && e.message === message);
  }
});

test('malformed manifests are refused, naming the field', () => {
  const m = (patch: (d: Record<string, unknown>) => void) => {
    const d = structuredClone(dockerManifest) as unknown as Record<string, unknown>;
    patch(d);
    return json(d);
  };
  const layers = (d: Record<string, unknown>) => d['layers'] as Array<Record<string, unknown>>;
  const cases: Array<[Uint8Array, string | undefined, string]> = [
    [m((d) => { layers(d)[2]!['digest'] = 'sha256:xyz'; }), undefined, 'manifest: layers[2].digest: invalid digest "sha256:xyz": the part after ":" must be hexadecimal'],
    [m((d) => { layers(d)[1]!['digest'] = 'sha256:abc'; }), undefined, 'manifest: layers[1].digest: invalid digest "sha256:abc": sha256 needs 64 hex characters, got 3'],
    [m((d) => { layers(d)[0]!['digest'] = `sha256:${hex(2).toUpperCase().replace(/0/g, 'A')}`; }), undefined, `manifest: layers[0].digest: invalid digest "sha256:${hex(2).toUpperCase().replace(/0/g, 'A')}": the hex part must be lowercase`],
    [m((d) => { layers(d)[0]!['digest'] = `md5:${hex(1)}`; }), undefined, `manifest: layers[0].digest: invalid digest "md5:${hex(1)}": unsupported digest algorithm "md5" (hull supports sha256 and sha512)`],
    [m((d) => { delete layers(d)[0]!['digest']; }), undefined, 'manifest: layers[0].digest: missing'],
    [m((d) => { layers(d)[0]!['size'] = -1; }), undefined, 'manifest: layers[0].size: must be at least 0, got -1'],
    [m((d) => { layers(d)[0]!['size'] = 1.5; }), undefined, 'manifest: layers[0].size: expected an integer, got number 1.5'],
    [m((d) => { layers(d)[0]!['size'] = '12'; }), undefined, 'manifest: layers[0].size: expected an integer, got the string "12"'],
    [m((d) => { layers(d)[0]!['size'] = 2 ** 60; }), undefined, `manifest: layers[0].size: ${2 ** 60} is too large to represent exactly`],
    [m((d) => { layers(d)[0]!['size'] = null; }), undefined, 'manifest: layers[0].size: missing'],
    [m((d) => { layers(d)[0]!['mediaType'] = 'not a media type'; }), undefined, 'manifest: layers[0].mediaType: invalid media type "not a media type"'],
    [m((d) => { layers(d)[0]!['mediaType'] = 7; }), undefined, 'manifest: layers[0].mediaType: expected a string, got number 7'],
    [m((d) => { layers(d)[2]!['urls'] = ['file:///etc/shadow']; }), undefined, 'manifest: layers[2].urls[0]: "file:///etc/shadow" is not an http or https URL'],
    [m((d) => { layers(d)[2]!['urls'] = ['not a url']; }), undefined, 'manifest: layers[2].urls[0]: "not a url" is not an http or https URL'],
    [m((d) => { layers(d)[2]!['urls'] = 'https://x'; }), undefined, 'manifest: layers[2].urls: expected an array, got the string "https://x"'],
    [m((d) => { layers(d)[0]!['annotations'] = { a: 1 }; }), undefined, 'manifest: layers[0].annotations.a: expected a string, got number 1'],
    [m((d) => { layers(d)[0]!['annotations'] = { 'org.x': false }; }), undefined, 'manifest: layers[0].annotations["org.x"]: expected a string, got boolean false'],
    [m((d) => { (d['layers'] as unknown[])[0] = 'x'; }), undefined, 'manifest: layers[0]: expected an object, got the string "x"'],
    [m((d) => { d['layers'] = {}; }), undefined, 'manifest: layers: expected an array, got an object'],
    [m((d) => { delete d['layers']; }), undefined, 'manifest: layers: missing'],
    [m((d) => { delete d['config']; }), undefined, 'manifest: config: missing'],
    [m((d) => { (d['config'] as Record<string, unknown>)['digest'] = 'sha256:'; }), undefined, 'manifest: config.digest: invalid digest "sha256:": sha256 needs 64 hex characters, got 0'],
    [m((d) => { d['manifests'] = []; }), undefined, 'manifest: manifests: not allowed in an image manifest'],
    [m((d) => { d['schemaVersion'] = 3; }), undefined, 'manifest: schemaVersion: expected 2, got number 3'],
    [m((d) => { d['schemaVersion'] = '2'; }), undefined, 'manifest: schemaVersion: expected 2, got the string "2"'],
    [m((d) => { delete d['schemaVersion']; }), undefined, 'manifest: schemaVersion: missing'],
    [m((d) => { d['annotations'] = []; }), undefined, 'manifest: annotations: expected an object, got an array'],
    [m((d) => { d['subject'] = { mediaType: MediaType.OciManifest, size: 1 }; }), undefined, 'manifest: subject.digest: missing'],
    [m((d) => { d['artifactType'] = 'nope'; }), undefined, 'manifest: artifactType: invalid media type "nope"'],
    [m(() => {}), MediaType.OciManifest, `manifest: mediaType: the document says "${MediaType.DockerManifest}" but the Content-Type header says "${MediaType.OciManifest}"`],
    [m(() => {}), MediaType.DockerManifestList, `manifest: mediaType: the document says "${MediaType.DockerManifest}" but the Content-Type header says "${MediaType.DockerManifestList}"`],
    [m((d) => { delete d['mediaType']; }), MediaType.DockerManifest, `manifest: mediaType: missing; a Docker v2 manifest must state "${MediaType.DockerManifest}"`],
    [m((d) => { d['mediaType'] = 'application/vnd.oci.artifact.manifest.v1+json'; }), undefined, 'manifest: mediaType: unsupported manifest media type "application/vnd.oci.artifact.manifest.v1+json"'],
    [m((d) => { delete d['mediaType']; }), 'text/html', 'manifest: mediaType: unsupported manifest media type "text/html"'],
    [m((d) => { delete d['mediaType']; d['manifests'] = []; }), undefined, 'manifest: mediaType: missing, and the document has neither only "manifests" (an index) nor only "config" and "layers" (a manifest)'],
    [json({ schemaVersion: 2 }), undefined, 'manifest: mediaType: missing, and the document has neither only "manifests" (an index) nor only "config" and "layers" (a manifest)'],
    [json({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [], layers: [] }), undefined, 'index: layers: not allowed in an image index'],
    [json({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [], config: {} }), undefined, 'index: config: not allowed in an image index'],
    [json({ schemaVersion: 2, mediaType: MediaType.OciIndex }), undefined, 'index: manifests: missing'],
    [json({ schemaVersion: 2, manifests: [] }), MediaType.DockerManifestList, `index: mediaType: missing; a Docker manifest list must state "${MediaType.DockerManifestList}"`],
    [json({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ mediaType: MediaType.OciManifest, digest: dg(1), size: 1, platform: { architecture: 'amd64' } }] }), undefined, 'index: manifests[0].platform.os: missing'],
    [json({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ mediaType: MediaType.OciManifest, digest: dg(1), size: 1, platform: { architecture: 'amd64', os: 'linux', 'os.features': 'x' } }] }), undefined, 'index: manifests[0].platform["os.features"]: expected an array, got the string "x"'],
    [json([dockerManifest]), undefined, 'manifest: expected an object, got an array'],
    [json(null), undefined, 'manifest: expected an object, got null'],
    [new TextEncoder().encode('{"schemaVersion": 2,'), undefined, 'manifest: malformed JSON: '],
    [new Uint8Array([0x7b, 0xff, 0x7d]), undefined, 'manifest: not valid UTF-8'],
    [new TextEncoder().encode('\ufeff{}'), undefined, 'manifest: malformed JSON: '],
  ];
  for (const [bytes, header, want] of cases) {
    const e = failure(() => parseManifestDocument(bytes, header));
    if (want.endsWith(': ')) assert.ok(e.message.startsWith(want), `${e.message} should start with ${want}`);
    else assert.equal(e.message, want);
  }
});

test('embedded data must match its descriptor', () => {
  const withData = (data: string, size: number, digest: Digest) =>
    json({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciEmpty, digest, size, data }, layers: [] });
  assert.doesNotThrow(() => parseManifestDocument(withData('e30=', 2, digestOf('{}'))));
  assert.doesNotThrow(() => parseManifestDocument(withData('e30=', 2, digestOf('{}', 'sha512'))));
  assert.equal(failure(() => parseManifestDocument(withData('e30=', 3, digestOf('{}')))).message, 'manifest: config.data: holds 2 bytes but size says 3');
  assert.equal(
    failure(() => parseManifestDocument(withData('e30=', 2, dg(1)))).message,
    `manifest: config.data: content has digest ${digestOf('{}')}, not ${dg(1)}`,
  );
  assert.equal(failure(() => parseManifestDocument(withData('e30', 2, digestOf('{}')))).message, 'manifest: config.data: not valid base64');
  assert.equal(failure(() => parseManifestDocument(withData('e3!=', 2, digestOf('{}')))).message, 'manifest: config.data: not valid base64');
});

test('the size limit is enforced before parsing', () => {
  const padded = json({ ...dockerManifest, annotations: { pad: 'x'.repeat(DEFAULT_MANIFEST_MAX_BYTES) } });
  assert.match(failure(() => parseManifestDocument(padded)).message, new RegExp(`^manifest: ${padded.byteLength} bytes is over the limit of ${DEFAULT_MANIFEST_MAX_BYTES} bytes$`));
  const small = json(dockerManifest);
  assert.match(failure(() => parseManifestDocument(small, undefined, { maxBytes: 100 })).message, /over the limit of 100 bytes/);
  assert.doesNotThrow(() => parseManifestDocument(small, undefined, { maxBytes: small.byteLength }));
  // A string body is measured in UTF-8 bytes, not UTF-16 units.
  const wide = JSON.stringify({ ...dockerManifest, annotations: { a: 'é'.repeat(60) } });
  assert.match(failure(() => parseManifestDocument(wide, undefined, { maxBytes: wide.length + 10 })).message, /over the limit/);
});

test('a "__proto__" annotation stays a plain key', () => {
  const raw = `{"schemaVersion":2,"mediaType":"${MediaType.OciManifest}","config":{"mediaType":"${MediaType.OciConfig}","digest":"${dg(1)}","size":1},"layers":[],"annotations":{"__proto__":"x","constructor":"y"}}`;
  const doc = parseManifestDocument(raw);
  assert.ok(doc.kind === 'manifest');
  const a = doc.manifest.annotations!;
  assert.equal(Object.getPrototypeOf(a), Object.prototype);
  assert.deepEqual(Object.keys(a), ['__proto__', 'constructor']);
  assert.equal(Object.getOwnPropertyDescriptor(a, '__proto__')?.value, 'x');
  // And it survives serialization.
  const again = parseManifestDocument(serializeManifest(doc.manifest));
  assert.ok(again.kind === 'manifest');
  assert.equal(Object.getOwnPropertyDescriptor(again.manifest.annotations!, '__proto__')?.value, 'x');
});

// An image config as docker 20.10 writes it: legacy fields, nulls for unset values.
const dockerConfigJson = `{"architecture":"amd64","config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"ExposedPorts":{"80/tcp":{}},"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"Healthcheck":{"Test":["CMD-SHELL","true"],"Interval":30000000000,"Retries":3},"Image":"sha256:${hex(7)}","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{"b":"2","a":"1"},"StopSignal":"SIGTERM"},"container":"abc","container_config":{"Cmd":["/bin/sh","-c","#(nop) CMD [\\"sh\\"]"]},"created":"2023-05-19T20:19:22.751398522Z","docker_version":"20.10.23","history":[{"created":"2023-05-19T20:19:22.642507645Z","created_by":"/bin/sh -c #(nop) ADD file:abc in / "},{"created":"2023-05-19T20:19:22.751398522Z","created_by":"/bin/sh -c #(nop)  CMD [\\"sh\\"]","empty_layer":true}],"os":"linux","rootfs":{"type":"layers","diff_ids":["${dg(8)}"]}}`;

test('a docker-written image config parses to hull\'s typed config', () => {
  const c = parseImageConfig(dockerConfigJson);
  assert.deepEqual(c, {
    created: '2023-05-19T20:19:22.751398522Z',
    architecture: 'amd64',
    os: 'linux',
    config: {
      User: '',
      ExposedPorts: { '80/tcp': {} },
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: ['sh'],
      WorkingDir: '',
      Labels: { b: '2', a: '1' },
      StopSignal: 'SIGTERM',
      Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 30000000000, Retries: 3 },
    },
    rootfs: { type: 'layers', diff_ids: [dg(8)] },
    history: [
      { created: '2023-05-19T20:19:22.642507645Z', created_by: '/bin/sh -c #(nop) ADD file:abc in / ' },
      { created: '2023-05-19T20:19:22.751398522Z', created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
    ],
  });
  // Bytes and strings parse alike.
  assert.deepEqual(parseImageConfig(new TextEncoder().encode(dockerConfigJson)), c);
});

test('malformed image configs are refused, naming the field', () => {
  const base = (): Record<string, unknown> => JSON.parse(dockerConfigJson);
  const cfg = (patch: (c: Record<string, unknown>) => void) => {
    const c = base();
    patch(c);
    return JSON.stringify(c);
  };
  const inner = (c: Record<string, unknown>) => c['config'] as Record<string, unknown>;
  const cases: Array<[string, string]> = [
    [cfg((c) => { delete c['architecture']; }), 'image config: architecture: missing'],
    [cfg((c) => { c['architecture'] = ''; }), 'image config: architecture: must not be empty'],
    [cfg((c) => { c['os'] = 5; }), 'image config: os: expected a string, got number 5'],
    [cfg((c) => { delete c['rootfs']; }), 'image config: rootfs: missing'],
    [cfg((c) => { c['rootfs'] = { type: 'layers+base', diff_ids: [] }; }), 'image config: rootfs.type: must be "layers", got "layers+base"'],
    [cfg((c) => { c['rootfs'] = { type: 'layers' }; }), 'image config: rootfs.diff_ids: missing'],
    [cfg((c) => { c['rootfs'] = { type: 'layers', diff_ids: [dg(1), 'sha256:nothex'] }; }), 'image config: rootfs.diff_ids[1]: invalid digest "sha256:nothex": the part after ":" must be hexadecimal'],
    [cfg((c) => { c['created'] = 'yesterday'; }), 'image config: created: "yesterday" is not an RFC 3339 date-time'],
    [cfg((c) => { c['created'] = '2023-02-30T00:00:00Z'; }), 'image config: created: "2023-02-30T00:00:00Z" is not an RFC 3339 date-time'],
    [cfg((c) => { c['created'] = '2023-01-01T24:00:00Z'; }), 'image config: created: "2023-01-01T24:00:00Z" is not an RFC 3339 date-time'],
    [cfg((c) => { c['created'] = '2023-01-01 00:00:00Z'; }), 'image config: created: "2023-01-01 00:00:00Z" is not an RFC 3339 date-time'],
    [cfg((c) => { c['history'] = {}; }), 'image config: history: expected an array, got an object'],
    [cfg((c) => { (c['history'] as Array<Record<string, unknown>>)[1]!['empty_layer'] = 'yes'; }), 'image config: history[1].empty_layer: expected true or false, got the string "yes"'],
    [cfg((c) => { (c['history'] as Array<Record<string, unknown>>)[0]!['created'] = '2023'; }), 'image config: history[0].created: "2023" is not an RFC 3339 date-time'],
    [cfg((c) => { inner(c)['ExposedPorts'] = { http: {} }; }), 'image config: config.ExposedPorts.http: not a port: expected <port>[-<port>][/tcp|/udp|/sctp]'],
    [cfg((c) => { inner(c)['ExposedPorts'] = { '80/tcp': 'yes' }; }), 'image config: config.ExposedPorts["80/tcp"]: expected an object, got the string "yes"'],
    [cfg((c) => { inner(c)['Env'] = ['A=1', 'B=\u0000']; }), 'image config: config.Env[1]: contains a NUL byte'],
    [cfg((c) => { inner(c)['Env'] = 'A=1'; }), 'image config: config.Env: expected an array, got the string "A=1"'],
    [cfg((c) => { inner(c)['Cmd'] = ['sh', 1]; }), 'image config: config.Cmd[1]: expected a string, got number 1'],
    [cfg((c) => { inner(c)['Entrypoint'] = [null]; }), 'image config: config.Entrypoint[0]: expected a string, got null'],
    [cfg((c) => { inner(c)['WorkingDir'] = '/a\u0000b'; }), 'image config: config.WorkingDir: contains a NUL byte'],
    [cfg((c) => { inner(c)['Labels'] = { a: 1 }; }), 'image config: config.Labels.a: expected a string, got number 1'],
    [cfg((c) => { inner(c)['Volumes'] = { '': {} }; }), 'image config: config.Volumes[""]: empty volume path'],
    [cfg((c) => { inner(c)['Healthcheck'] = { Interval: -5 }; }), 'image config: config.Healthcheck.Interval: must be at least 0, got -5'],
    [cfg((c) => { inner(c)['ArgsEscaped'] = 'true'; }), 'image config: config.ArgsEscaped: expected true or false, got the string "true"'],
    [cfg((c) => { c['config'] = []; }), 'image config: config: expected an object, got an array'],
    ['[]', 'image config: expected an object, got an array'],
    ['{', 'image config: malformed JSON: '],
  ];
  for (const [input, want] of cases) {
    const e = failure(() => parseImageConfig(input));
    if (want.endsWith(': ')) assert.ok(e.message.startsWith(want), e.message);
    else assert.equal(e.message, want);
  }
  assert.match(failure(() => parseImageConfig(dockerConfigJson, { maxBytes: 100 })).message, /^image config: \d+ bytes is over the limit of 100 bytes$/);
});

const sampleConfig: ImageConfig = {
  created: '2024-03-01T12:00:00Z',
  author: 'hull <hull@example.com>',
  architecture: 'arm64',
  os: 'linux',
  variant: 'v8',
  config: {
    User: '1000:1000',
    ExposedPorts: { '8080/tcp': {}, '443/tcp': {}, '53/udp': {} },
    Env: ['PATH=/usr/bin:/bin', 'A=<b>&c'],
    Entrypoint: ['/entrypoint.sh'],
    Cmd: ['serve', '--port', '8080'],
    Volumes: { '/data': {} },
    WorkingDir: '/srv',
    Labels: { 'org.opencontainers.image.title': 'x', '10': 'ten', '9': 'nine', 'z\u2028': 'sep' },
    StopSignal: 'SIGINT',
    ArgsEscaped: true,
    Healthcheck: { Test: ['CMD', 'true'], Interval: 1_000_000_000, Timeout: 2_000_000_000, StartPeriod: 0, Retries: 3 },
    OnBuild: ['RUN true'],
    Shell: ['/bin/sh', '-c'],
  },
  rootfs: { type: 'layers', diff_ids: [dg(1), dg(2)] },
  history: [
    { created: '2024-03-01T11:00:00Z', created_by: 'ADD rootfs.tar / && echo <done>', comment: 'base' },
    { created: '2024-03-01T12:00:00Z', created_by: 'COPY app /srv' },
    { created: '2024-03-01T12:00:00Z', created_by: 'CMD ["serve"]', empty_layer: true },
  ],
};

test('serializeConfig writes docker\'s key order, compact, with Go\'s escaping', () => {
  const bytes = serializeConfig(sampleConfig);
  const s = text(bytes);
  assert.ok(!s.includes('\n'), 'compact');
  assert.ok(s.startsWith('{"created":"2024-03-01T12:00:00Z","author":"hull \\u003chull@example.com\\u003e","architecture":"arm64","os":"linux","variant":"v8","config":{"User":"1000:1000","ExposedPorts":{"443/tcp":{},"53/udp":{},"8080/tcp":{}},"Env":["PATH=/usr/bin:/bin","A=\\u003cb\\u003e\\u0026c"],"Entrypoint":["/entrypoint.sh"],"Cmd":["serve","--port","8080"],"Volumes":{"/data":{}},"WorkingDir":"/srv","Labels":{"10":"ten","9":"nine","org.opencontainers.image.title":"x","z\\u2028":"sep"},"StopSignal":"SIGINT","ArgsEscaped":true,"Healthcheck":{"Test":["CMD","true"],"Interval":1000000000,"Timeout":2000000000,"StartPeriod":0,"Retries":3},"OnBuild":["RUN true"],"Shell":["/bin/sh","-c"]},"rootfs":{"type":"layers","diff_ids":['), s);
  assert.ok(s.endsWith(`"history":[{"created":"2024-03-01T11:00:00Z","created_by":"ADD rootfs.tar / \\u0026\\u0026 echo \\u003cdone\\u003e","comment":"base"},{"created":"2024-03-01T12:00:00Z","created_by":"COPY app /srv"},{"created":"2024-03-01T12:00:00Z","created_by":"CMD [\\"serve\\"]","empty_layer":true}]}`), s);
  // Round trip: parsing what was written gives back the same config, and rewriting it the same bytes.
  const parsed = parseImageConfig(bytes);
  assert.deepEqual(parsed, sampleConfig);
  assert.deepEqual(serializeConfig(parsed), bytes);
  // The docker-written config also survives a round trip.
  const fromDocker = parseImageConfig(dockerConfigJson);
  assert.deepEqual(parseImageConfig(serializeConfig(fromDocker)), fromDocker);
});

const sampleManifest: ImageManifest = {
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  config: { mediaType: MediaType.OciConfig, digest: dg(10), size: 1234 },
  layers: [
    { mediaType: MediaType.OciLayerGzip, digest: dg(11), size: 100, annotations: { 'z': '1', 'a': '2' } },
    { mediaType: MediaType.OciLayerNondistributableGzip, digest: dg(12), size: 200, urls: ['https://example.com/layer?a=1&b=2'] },
  ],
  annotations: { 'org.opencontainers.image.created': '2024-03-01T12:00:00Z' },
};

test('serializeManifest writes the OCI key order, indented, and parses back', () => {
  const bytes = serializeManifest({
    // Keys given in a scrambled order come out in the canonical one.
    annotations: sampleManifest.annotations!,
    layers: sampleManifest.layers.map((l) => ({ ...l })),
    config: { size: 1234, digest: dg(10), mediaType: MediaType.OciConfig },
    mediaType: MediaType.OciManifest,
    schemaVersion: 2,
  });
  const expected = `{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {
    "mediaType": "application/vnd.oci.image.config.v1+json",
    "digest": "${dg(10)}",
    "size": 1234
  },
  "layers": [
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
      "digest": "${dg(11)}",
      "size": 100,
      "annotations": {
        "a": "2",
        "z": "1"
      }
    },
    {
      "mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
      "digest": "${dg(12)}",
      "size": 200,
      "urls": [
        "https://example.com/layer?a=1\\u0026b=2"
      ]
    }
  ],
  "annotations": {
    "org.opencontainers.image.created": "2024-03-01T12:00:00Z"
  }
}`;
  assert.equal(text(bytes), expected);
  const doc = parseManifestDocument(bytes);
  assert.ok(doc.kind === 'manifest');
  assert.deepEqual(doc.manifest, sampleManifest);
  assert.deepEqual(serializeManifest(doc.manifest), bytes);
  // Empty collections are written as such.
  const empty = text(serializeManifest({ ...sampleManifest, layers: [], annotations: {} }));
  assert.match(empty, /"layers": \[\],\n  "annotations": \{\}\n\}$/);
});

const sampleIndex: ImageIndex = {
  schemaVersion: 2,
  mediaType: MediaType.OciIndex,
  manifests: [
    { mediaType: MediaType.OciManifest, digest: dg(20), size: 500, platform: { architecture: 'amd64', os: 'linux' } },
    {
      mediaType: MediaType.OciManifest,
      digest: dg(21),
      size: 501,
      platform: { variant: 'v8', 'os.features': ['f'], 'os.version': '1', os: 'linux', architecture: 'arm64' },
      annotations: { 'org.opencontainers.image.ref.name': 'latest' },
    },
  ],
  annotations: { b: '1' },
};

test('serializeIndex writes platforms in OCI order and parses back', () => {
  const bytes = serializeIndex(sampleIndex);
  const s = text(bytes);
  assert.ok(s.includes(`"platform": {
        "architecture": "arm64",
        "os": "linux",
        "os.version": "1",
        "os.features": [
          "f"
        ],
        "variant": "v8"
      }`), s);
  assert.ok(s.indexOf('"annotations": {\n        "org.opencontainers.image.ref.name"') > s.indexOf('"size": 501'));
  const doc = parseManifestDocument(bytes);
  assert.ok(doc.kind === 'index');
  assert.deepEqual(doc.index, sampleIndex);
  assert.deepEqual(serializeIndex(doc.index), bytes);
  const list = serializeIndex({ ...sampleIndex, mediaType: MediaType.DockerManifestList });
  assert.equal(parseManifestDocument(list, MediaType.DockerManifestList).mediaType, MediaType.DockerManifestList);
});

test('the serializers refuse to write what hull would refuse to read', () => {
  assert.equal(
    failure(() => serializeManifest({ ...sampleManifest, mediaType: undefined })).message,
    `manifest: mediaType: hull writes manifests with mediaType ${MediaType.OciManifest} or ${MediaType.DockerManifest}`,
  );
  assert.match(failure(() => serializeManifest({ ...sampleManifest, mediaType: MediaType.OciIndex })).message, /^manifest: mediaType: hull writes manifests/);
  assert.match(failure(() => serializeIndex({ ...sampleIndex, mediaType: MediaType.OciManifest })).message, /^index: mediaType: hull writes indexes/);
  assert.equal(
    failure(() => serializeManifest({ ...sampleManifest, layers: [{ mediaType: MediaType.OciLayer, digest: 'sha256:abc' as Digest, size: 1 }] })).message,
    'manifest: layers[0].digest: invalid digest "sha256:abc": sha256 needs 64 hex characters, got 3',
  );
  assert.equal(
    failure(() => serializeIndex({ ...sampleIndex, manifests: [{ mediaType: MediaType.OciManifest, digest: dg(1), size: -3 }] })).message,
    'index: manifests[0].size: must be at least 0, got -3',
  );
  assert.equal(
    failure(() => serializeConfig({ ...sampleConfig, rootfs: { type: 'layers', diff_ids: ['sha256:a' as Digest] } })).message,
    'image config: rootfs.diff_ids[0]: invalid digest "sha256:a": sha256 needs 64 hex characters, got 1',
  );
  assert.equal(failure(() => serializeConfig({ ...sampleConfig, created: 'now' })).message, 'image config: created: "now" is not an RFC 3339 date-time');
  assert.equal(failure(() => serializeConfig({ ...sampleConfig, os: '' })).message, 'image config: os: must not be empty');
});

test('what hull writes passes the official OCI image-spec schemas', () => {
  const check = (validate: (d: unknown) => { ok: boolean; errors: string }, bytes: Uint8Array, label: string) => {
    const r = validate(JSON.parse(text(bytes)));
    assert.ok(r.ok, `${label}: ${r.errors}`);
  };
  check(schema.manifest, serializeManifest(sampleManifest), 'OCI manifest');
  check(schema.manifest, serializeManifest({ ...sampleManifest, mediaType: MediaType.DockerManifest }), 'Docker manifest');
  check(
    schema.manifest,
    serializeManifest({
      ...sampleManifest,
      artifactType: 'application/vnd.example+json',
      config: { mediaType: MediaType.OciEmpty, digest: digestOf('{}'), size: 2, data: 'e30=' },
      subject: { mediaType: MediaType.OciManifest, digest: dg(3), size: 3 },
    }),
    'artifact manifest',
  );
  check(schema.index, serializeIndex(sampleIndex), 'OCI index');
  check(schema.index, serializeIndex({ ...sampleIndex, mediaType: MediaType.DockerManifestList }), 'Docker manifest list');
  check(schema.config, serializeConfig(sampleConfig), 'image config');
  check(schema.config, serializeConfig({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }), 'minimal config');
  check(schema.config, serializeConfig(parseImageConfig(dockerConfigJson)), 'docker config rewritten');

  // The validator itself can fail, so the passes above mean something.
  const broken = JSON.parse(text(serializeManifest(sampleManifest))) as Record<string, unknown>;
  delete broken['config'];
  assert.equal(schema.manifest(broken).ok, false);
  const badConfig = JSON.parse(text(serializeConfig(sampleConfig))) as Record<string, unknown>;
  badConfig['created'] = 'not a date';
  assert.equal(schema.config(badConfig).ok, false);
  const badIndex = JSON.parse(text(serializeIndex(sampleIndex))) as { manifests: Array<Record<string, unknown>> };
  badIndex.manifests[0]!['digest'] = 'SHA256:nope!';
  assert.equal(schema.index(badIndex).ok, false);
});

test('every document hull accepts from outside, once re-serialized, passes the schemas too', () => {
  const docs: ManifestDocument[] = [
    parseManifestDocument(json(dockerManifest)),
    parseManifestDocument(json({ schemaVersion: 2, mediaType: MediaType.DockerManifestList, manifests: [{ mediaType: MediaType.DockerManifest, size: 1, digest: dg(5), platform: { architecture: 'arm', os: 'linux', variant: 'v7' } }] })),
  ];
  for (const d of docs) {
    if (d.kind === 'manifest') {
      const r = schema.manifest(JSON.parse(text(serializeManifest(d.manifest))));
      assert.ok(r.ok, r.errors);
    } else {
      const r = schema.index(JSON.parse(text(serializeIndex(d.index))));
      assert.ok(r.ok, r.errors);
    }
  }
});
