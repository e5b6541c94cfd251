// Bytes a directory tree takes on disk, counted as `du` does: allocated blocks, each inode once.
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export function diskUsage(path: string, seen = new Set<number>()): number {
  const st = lstatSync(path);
  let total = 0;
  if (st.nlink < 2 || st.isDirectory() || !seen.has(st.ino)) {
    if (st.nlink > 1 && !st.isDirectory()) seen.add(st.ino);
    total += st.blocks * 512;
  }
  if (st.isDirectory()) {
    for (const name of readdirSync(path)) total += diskUsage(join(path, name), seen);
  }
  return total;
}
