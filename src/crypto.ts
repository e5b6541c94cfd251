// node:crypto costs ~5 ms to load, more than all the other built-ins a container start needs
// together, and a start hashes nothing. So it is loaded when something first hashes, random ids
// and names are read from the kernel's random pool instead, and names derived from ids and
// checks of our own files use checksum64.
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

/**
 * 64 bits of two FNV-1a-style lanes over 32-bit words, as 16 hex digits. Not cryptographic:
 * for names derived from random ids, and for noticing a torn or altered file of our own.
 */
export function checksum64(data: string | Uint8Array): string {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  // words from a copy: a Buffer from the pool need not sit on a 4-byte boundary
  const padded = new Uint8Array((bytes.length + 7) & ~3);
  padded.set(bytes);
  new DataView(padded.buffer).setUint32(padded.length - 4, bytes.length, true);
  const words = new Uint32Array(padded.buffer);
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < words.length; i++) {
    a = Math.imul(a ^ words[i]!, 0x01000193);
    b = Math.imul(b ^ words[i]!, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
