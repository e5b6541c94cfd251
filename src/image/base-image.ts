// hull's embedded base image: a busybox root filesystem made from the host's busybox-static,
// with no network. Everything in it is derived from the busybox binary (its mtime is every
// timestamp), so two machines with the same busybox make the same image ID.
import { childProcess } from '../child-process.ts';
import { readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { digestOf } from './digest.ts';
import { tarStream, type TarEntry } from './tar/writer.ts';
import { hostPlatform } from './platform.ts';
import { MediaType, parseImageConfig, serializeConfig, serializeManifest } from './manifest.ts';
import { installImage } from './install.ts';
import type { ImageRecord, ImageStore } from './store/image-store.ts';

export const DEFAULT_BUSYBOX = '/bin/busybox';

export async function makeBusyboxImage(store: ImageStore, tag: string, busybox = DEFAULT_BUSYBOX): Promise<ImageRecord> {
  const { entries, created } = busyboxEntries(busybox);
  const chunks: Buffer[] = [];
  for await (const chunk of tarStream(entries)) chunks.push(chunk);
  const tar = Buffer.concat(chunks);
  const layer = gzipSync(tar, { level: 6 });
  const diffId = digestOf(tar);
  const platform = hostPlatform();
  const config = serializeConfig({
    created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created, created_by: `hull image base: ${busybox} (busybox-static)` }],
  });
  const lease = store.lease();
  try {
    const configDigest = store.content.put(lease, config);
    const layerDigest = store.content.put(lease, layer);
    const manifest = serializeManifest({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configDigest, size: config.length },
      layers: [{ mediaType: MediaType.OciLayerGzip, digest: layerDigest, size: layer.length }],
    });
    const manifestDigest = store.content.put(lease, manifest);
    return await installImage(store, lease, {
      manifest: { digest: manifestDigest, mediaType: MediaType.OciManifest },
      config: { digest: configDigest, parsed: parseImageConfig(config) },
      layers: [{ digest: layerDigest, mediaType: MediaType.OciLayerGzip, size: layer.length }],
      tags: [tag],
      repoDigests: [],
    });
  } finally {
    store.endLease(lease);
  }
}

function busyboxEntries(busybox: string): { entries: TarEntry[]; created: string } {
  let st;
  try {
    st = statSync(busybox);
  } catch {
    throw new Error(`${busybox} is missing: install Debian's busybox-static (apt-get install busybox-static)`);
  }
  const list = childProcess().spawnSync(busybox, ['--list-full'], { encoding: 'utf8' });
  if (list.status !== 0) throw new Error(`${busybox} --list-full failed: is it busybox? ${list.stderr ?? ''}`.trim());
  if (!isStatic(busybox)) {
    throw new Error(`${busybox} is not statically linked: install Debian's busybox-static, not busybox`);
  }
  const mtime = Math.floor(st.mtimeMs / 1000);
  const created = new Date(mtime * 1000).toISOString().replace('.000Z', 'Z');
  const dirs: [string, number][] = [
    ['bin', 0o755], ['dev', 0o755], ['etc', 0o755], ['home', 0o755], ['proc', 0o555], ['root', 0o700], ['sbin', 0o755],
    ['sys', 0o555], ['tmp', 0o1777], ['usr', 0o755], ['usr/bin', 0o755], ['usr/sbin', 0o755], ['var', 0o755], ['var/run', 0o755],
  ];
  const entries: TarEntry[] = dirs.map(([name, mode]) => ({ name, type: 'dir', mode, mtime }));
  entries.push({ name: 'bin/busybox', type: 'file', mode: 0o755, mtime, data: readFileSync(busybox) });
  const file = (name: string, text: string): TarEntry => ({ name, type: 'file', mode: 0o644, mtime, data: Buffer.from(text) });
  entries.push(file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n'));
  entries.push(file('etc/group', 'root:x:0:\nnogroup:x:65534:\n'));
  const made = new Set(['bin/busybox', ...dirs.map(([d]) => d)]);
  for (const applet of list.stdout.split('\n').map((l) => l.trim()).filter(Boolean).sort()) {
    if (made.has(applet) || applet.includes('..') || applet.startsWith('/')) continue;
    made.add(applet);
    entries.push({ name: applet, type: 'symlink', mode: 0o777, mtime, linkname: '/bin/busybox' });
  }
  return { entries, created };
}

/** An ELF with no PT_INTERP program header needs no dynamic loader. */
function isStatic(path: string): boolean {
  const elf = readFileSync(path);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) return false;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (elf.readUInt32LE(phoff + i * phentsize) === 3) return false;
  return true;
}
