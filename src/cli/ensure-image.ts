// The image a `run` or `create` names, pulled first when missing (or always, with --pull always).
import { findImage, NotFoundError } from '../engine/images.ts';
import { parsePlatform } from '../image/platform.ts';
import { familiarString, normalize } from '../image/reference.ts';
import type { ImageRecord } from '../image/store/image-store.ts';
import { CliError, type Context } from './context.ts';

export async function ensureImage(ctx: Context, name: string, pull: 'missing' | 'always' | 'never', platform?: string, quiet = false): Promise<ImageRecord> {
  const store = ctx.store();
  if (pull !== 'always') {
    try {
      return findImage(store, name);
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
      if (pull === 'never') throw new CliError(`No such image: ${name}`, 125);
    }
    if (!quiet) process.stderr.write(`Unable to find image '${familiarString(normalize(name))}' locally\n`);
  }
  // loaded only when pulling: the registry client and progress bars cost a container start ~30 ms
  const [{ pullImage }, { progressRenderer }] = await Promise.all([import('../engine/pull.ts'), import('./progress.ts')]);
  const progress = progressRenderer({ quiet, out: process.stderr });
  try {
    const result = await pullImage(store, name, {
      config: ctx.engineSettings(),
      dockerConfigDir: ctx.dockerConfigDir(),
      onProgress: progress.sink,
      ...(platform ? { platform: parsePlatform(platform) } : {}),
    });
    return result.image;
  } finally {
    progress.done();
  }
}
