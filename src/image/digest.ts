// Content digests: the names of everything in the content store. A digest that came from
// outside (a manifest, a registry header, a CLI argument, a tar file) names a file path and
// a blob to trust, so parsing is strict: only algorithms hull can verify, only the
// canonical lowercase hex encoding, only the exact length.

import { createHash } from '../crypto.ts';
import type { Hash } from 'node:crypto';

export type DigestAlgorithm = 'sha256' | 'sha512';

/** `sha256:<64 lowercase hex>` or `sha512:<128 lowercase hex>`, once it has passed parseDigest. */
export type Digest = `sha256:${string}` | `sha512:${string}`;

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

// The OCI descriptor grammar for an algorithm name; anything matching it but not listed
// above is well-formed yet unsupported, which deserves a different message from garbage.
const ALGORITHM_GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*$/;
const LOWER_HEX = /^[0-9a-f]*$/;
const ANY_HEX = /^[0-9a-fA-F]*$/;

export class DigestError extends Error {
  override name = 'DigestError';
  readonly input: string;
  constructor(input: string, reason: string) {
    super(`invalid digest ${quote(input)}: ${reason}`);
    this.input = input;
  }
}

// Hostile strings can be huge or full of control characters; the message shows a bounded,
// escaped excerpt.
function quote(s: string): string {
  const shown = s.length > 160 ? `${s.slice(0, 160)}...` : s;
  return JSON.stringify(shown);
}

export function isDigestAlgorithm(s: string): s is DigestAlgorithm {
  return s === 'sha256' || s === 'sha512';
}

/** Validates a digest string and returns it typed; throws DigestError saying what is wrong. */
export function parseDigest(input: unknown): Digest {
  if (typeof input !== 'string') {
    throw new DigestError(String(input), `expected a string, got ${input === null ? 'null' : typeof input}`);
  }
  const colon = input.indexOf(':');
  if (colon < 0) throw new DigestError(input, 'expected <algorithm>:<hex>');
  const algorithm = input.slice(0, colon);
  const encoded = input.slice(colon + 1);
  if (algorithm === '') throw new DigestError(input, 'missing algorithm before ":"');
  if (!isDigestAlgorithm(algorithm)) {
    if (ALGORITHM_GRAMMAR.test(algorithm)) {
      throw new DigestError(input, `unsupported digest algorithm "${algorithm}" (hull supports sha256 and sha512)`);
    }
    throw new DigestError(input, 'malformed algorithm name');
  }
  const want = HEX_LENGTH[algorithm];
  if (!LOWER_HEX.test(encoded)) {
    if (ANY_HEX.test(encoded)) throw new DigestError(input, 'the hex part must be lowercase');
    throw new DigestError(input, 'the part after ":" must be hexadecimal');
  }
  if (encoded.length !== want) {
    throw new DigestError(input, `${algorithm} needs ${want} hex characters, got ${encoded.length}`);
  }
  return input as Digest;
}

export function isDigest(input: unknown): input is Digest {
  try {
    parseDigest(input);
    return true;
  } catch {
    return false;
  }
}

export function digestAlgorithm(d: Digest): DigestAlgorithm {
  return d.slice(0, d.indexOf(':')) as DigestAlgorithm;
}

/** The hex part of a digest: the file name under blobs/<algorithm>/. */
export function digestHex(d: Digest): string {
  return d.slice(d.indexOf(':') + 1);
}

export function digestOf(data: Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): Digest {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}` as Digest;
}

/** Hashes a stream of chunks (a download, a tar being written) and counts its bytes. */
export class DigestHasher {
  readonly algorithm: DigestAlgorithm;
  #hash: Hash;
  #size = 0;
  #result: Digest | undefined;

  constructor(algorithm: DigestAlgorithm = 'sha256') {
    if (!isDigestAlgorithm(algorithm)) {
      throw new DigestError(`${String(algorithm)}:`, `unsupported digest algorithm "${String(algorithm)}" (hull supports sha256 and sha512)`);
    }
    this.algorithm = algorithm;
    this.#hash = createHash(algorithm);
  }

  update(chunk: Uint8Array | string): this {
    if (this.#result !== undefined) throw new Error('DigestHasher: update() after digest()');
    this.#hash.update(chunk);
    this.#size += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    return this;
  }

  /** Bytes hashed so far. */
  get size(): number {
    return this.#size;
  }

  /** Finishes the hash; later calls return the same digest. */
  digest(): Digest {
    this.#result ??= `${this.algorithm}:${this.#hash.digest('hex')}` as Digest;
    return this.#result;
  }
}

/**
 * The 12-hex-character form docker shows for image and layer IDs. Accepts a digest or a
 * bare hex ID, as docker's TruncateID does.
 */
export function shortId(id: Digest | string): string {
  const colon = id.indexOf(':');
  return (colon >= 0 ? id.slice(colon + 1) : id).slice(0, 12);
}
