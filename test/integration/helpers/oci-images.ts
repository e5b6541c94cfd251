// Test images made on the spot: an OCI layout with the layers, platforms and compressions a
// test asks for, which skopeo (a real third-party client) then pushes to the test registry.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { tarStream, type TarEntry } from '../../../src/image/tar/writer.ts';

export interface LayerSpec {
  files: Record<string, string | Buffer>;
  compression?: 'gzip' | 'zstd' | 'none';
  /** Extra raw entries (whiteouts, links, ...). */
  entries?: TarEntry[];
}

export interface ImageSpec {
  layers: LayerSpec[];
  architecture?: string;
  variant?: string;
  cmd?: string[];
  labels?: Record<string, string>;
}

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

export async function layerTar(spec: LayerSpec): Promise<Buffer> {
  const entries: TarEntry[] = [];
  const dirs = new Set<string>();
  for (const name of Object.keys(spec.files).sort()) {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) {
        dirs.add(d);
        entries.push({ name: d, type: 'dir', mode: 0o755, mtime: 1_700_000_000 });
      }
    }
    const data = Buffer.from(spec.files[name]!);
    entries.push({ name, type: 'file', mode: 0o644, mtime: 1_700_000_000, data, size: data.length });
  }
  entries.push(...(spec.entries ?? []));
  const chunks: Buffer[] = [];
  for await (const c of tarStream(entries)) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Writes an OCI layout at dir holding one image per spec (an index when there are several); returns the digests. */
export async function writeOciLayout(dir: string, images: ImageSpec[], tag = 'latest'): Promise<{ manifests: string[]; configs: string[] }> {
  mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
  const put = (b: Buffer) => {
    const d = sha(b);
    writeFileSync(join(dir, 'blobs/sha256', d.slice(7)), b);
    return d;
  };
  const manifests: { mediaType: string; digest: string; size: number; platform: { architecture: string; os: string; variant?: string } }[] = [];
  const configs: string[] = [];
  for (const img of images) {
    const layers = [];
    const diffIds = [];
    for (const l of img.layers) {
      const tar = await layerTar(l);
      diffIds.push(sha(tar));
      const c = l.compression ?? 'gzip';
      const blob = c === 'gzip' ? gzipSync(tar) : c === 'zstd' ? zstdCompressSync(tar) : tar;
      const mediaType = 'application/vnd.oci.image.layer.v1.tar' + (c === 'gzip' ? '+gzip' : c === 'zstd' ? '+zstd' : '');
      layers.push({ mediaType, digest: put(blob), size: blob.length });
    }
    const arch = img.architecture ?? 'amd64';
    const config = Buffer.from(
      JSON.stringify({
        architecture: arch,
        os: 'linux',
        ...(img.variant ? { variant: img.variant } : {}),
        created: '2026-01-01T00:00:00Z',
        config: { Cmd: img.cmd ?? ['sh'], Labels: img.labels ?? {} },
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: img.layers.map((_, i) => ({ created: '2026-01-01T00:00:00Z', created_by: `layer ${i}` })),
      }),
    );
    const configDigest = put(config);
    configs.push(configDigest);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers,
      }),
    );
    manifests.push({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: put(manifest),
      size: manifest.length,
      platform: { architecture: arch, os: 'linux', ...(img.variant ? { variant: img.variant } : {}) },
    });
  }
  let top: { mediaType: string; digest: string; size: number };
  if (images.length === 1) top = { ...manifests[0]! };
  else {
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
    top = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: put(index), size: index.length };
  }
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': tag } }] }));
  return { manifests: manifests.map((m) => m.digest), configs };
}

/** Pushes an OCI layout to the registry with skopeo, keeping every platform and the blobs as they are. */
export function skopeoPush(layout: string, tag: string, dest: string, creds?: { user: string; password: string }): void {
  const args = ['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', ...(creds ? ['--dest-creds', `${creds.user}:${creds.password}`] : []), `oci:${layout}:${tag}`, `docker://${dest}`];
  const r = spawnSync('skopeo', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`skopeo ${args.join(' ')}: ${r.stderr}`);
}
