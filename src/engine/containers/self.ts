// How the engine names itself in commands it leaves behind (the shim's exit command).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** dist/hull: beside the bundle when running from it, the repository's when running from source. */
export function hullBinary(): string {
  if (process.env.HULL_BIN) return process.env.HULL_BIN;
  for (const u of [new URL('./hull', import.meta.url), new URL('../../../dist/hull', import.meta.url)]) {
    const path = fileURLToPath(u);
    if (existsSync(path) && !path.endsWith('.ts')) return path;
  }
  throw new Error('dist/hull not found: run "npm run build"');
}
