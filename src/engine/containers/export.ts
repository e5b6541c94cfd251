// `export`: a container's root filesystem (the image's layers, the init layer and the container's
// own changes, merged by overlayfs; not its volumes) as one tar, in docker's format: names
// relative to the root without "./", directories first and then their names sorted, hard links
// as link entries. `hull import` of it makes an image that runs.
import { closeSync, constants, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { tarStream } from '../../image/tar/writer.ts';
import { openContainerView } from './container-view.ts';
import type { ContainerEnv } from './lifecycle.ts';
import { walkTree } from './tree-archive.ts';

/** Writes container `ref`'s filesystem as a tar to `out`: a stream (left open) or a file path (written aside, then renamed into place). */
export async function exportContainer(env: ContainerEnv, ref: string, out: Writable | string): Promise<void> {
  const c = env.containers.find(ref);
  const view = openContainerView(env, c, { mounts: false });
  try {
    const root = view.fs.lookup('/', { follow: false });
    const tar = () => Readable.from(tarStream(walkTree(view.fs, root, '', { skipTop: true })));
    if (typeof out !== 'string') {
      await pipeline(tar(), out, { end: false });
      return;
    }
    const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
    try {
      await pipeline(tar(), createWriteStream(tmp, { mode: 0o600 }));
      const fd = openSync(tmp, constants.O_RDONLY);
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, out);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
  } finally {
    view.release();
  }
}
