// node:crypto costs ~5 ms to load, more than all the other built-ins a container start needs
// together, and a start hashes nothing. So it is loaded when something first hashes, and random
// ids and names are read from the kernel's random pool instead.
import type { Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

let loaded: typeof import('node:crypto') | undefined;

/** node:crypto itself, loaded on first use. */
export function nodeCrypto(): typeof import('node:crypto') {
  return (loaded ??= process.getBuiltinModule('node:crypto'));
}

export function createHash(algorithm: string): Hash {
  return nodeCrypto().createHash(algorithm);
}

/** n bytes from /dev/urandom, the kernel's CSPRNG (what node:crypto's randomBytes reads too). */
export function randomBytes(n: number): Buffer {
  const out = Buffer.alloc(n);
  const fd = openSync('/dev/urandom', 'r');
  try {
    for (let got = 0; got < n; ) got += readSync(fd, out, got, n - got, null);
  } finally {
    closeSync(fd);
  }
  return out;
}

/** A uniform integer in [0, max), for max up to 2^32. */
export function randomInt(max: number): number {
  if (!Number.isInteger(max) || max < 1 || max > 2 ** 32) throw new RangeError(`randomInt: bad bound ${max}`);
  // rejection keeps it uniform: values past the last whole multiple of max are drawn again
  const limit = 2 ** 32 - (2 ** 32 % max);
  for (;;) {
    const v = randomBytes(4).readUInt32LE(0);
    if (v < limit) return v % max;
  }
}
