// Compiled seccomp programs, kept by the hash of what they were compiled from (as crun does),
// so that starting the same profile again costs a file read instead of a compile.
//
// <root>/.seccomp/<sha256 of input> holds: a magic line, the sha256 of the rest, then the
// flags, the warnings and the program. Written to a temp file and renamed; an entry that is
// torn, truncated or altered fails its hash and is compiled again.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Seccomp } from '../spec/types.ts';
import { nativeArch } from './arch.ts';
import { compileSeccomp, type CompiledSeccomp } from './compile.ts';
import { X86_64 } from './syscalls.ts';

/** What a launch plan needs to load a filter. */
export interface SeccompFilter {
  program: Uint8Array;
  flags: number;
  /** Where the listener fd goes, when flags has SECCOMP_FILTER_FLAG_NEW_LISTENER. */
  listenerPath?: string;
}

const MAGIC = 'hull-seccomp 1\n';
// Bump when the compiler's output for the same input changes; the tables are hashed in too.
const COMPILER_VERSION = '1';

function sha256(data: string | Uint8Array): string {
  // loaded here, not at the top: node:crypto costs ~4 ms at start-up, and most creates have no profile
  const { createHash } = process.getBuiltinModule('node:crypto');
  return createHash('sha256').update(data).digest('hex');
}

let tablesHash: string | undefined;

/** The cache key: the profile as given, the machine's architecture, and the compiler. */
export function cacheKey(s: Seccomp): string {
  tablesHash ??= sha256(X86_64).slice(0, 16);
  return sha256(`${COMPILER_VERSION}\0${tablesHash}\0${nativeArch() ?? process.arch}\0${JSON.stringify(s)}`);
}

function encodeEntry(c: CompiledSeccomp): Buffer {
  const head = Buffer.from(JSON.stringify({ flags: c.flags, warnings: c.warnings }) + '\n');
  const body = Buffer.concat([head, c.program]);
  return Buffer.concat([Buffer.from(MAGIC), Buffer.from(sha256(body) + '\n'), body]);
}

function decodeEntry(data: Buffer): CompiledSeccomp | undefined {
  const magic = Buffer.from(MAGIC);
  if (data.length < magic.length + 65 || !data.subarray(0, magic.length).equals(magic)) return undefined;
  const hash = data.subarray(magic.length, magic.length + 64).toString('latin1');
  const body = data.subarray(magic.length + 65);
  if (sha256(body) !== hash) return undefined;
  const nl = body.indexOf(10);
  if (nl < 0) return undefined;
  try {
    const head = JSON.parse(body.subarray(0, nl).toString('utf8')) as { flags: number; warnings: string[] };
    const program = new Uint8Array(body.subarray(nl + 1));
    if (!Number.isInteger(head.flags) || !Array.isArray(head.warnings) || program.length === 0 || program.length % 8) return undefined;
    return { program, flags: head.flags, warnings: head.warnings };
  } catch {
    return undefined;
  }
}

/**
 * The compiled filter for a profile, from the cache under root when it holds a sound entry.
 * Compile errors are thrown; warnings (unknown syscalls) go to warn every time.
 */
export function seccompFilter(root: string, s: Seccomp, warn: (msg: string) => void, where = 'config.json'): SeccompFilter {
  const dir = join(root, '.seccomp');
  const file = join(dir, cacheKey(s));
  let c: CompiledSeccomp | undefined;
  try {
    c = decodeEntry(readFileSync(file));
  } catch {
    // not cached yet
  }
  if (!c) {
    c = compileSeccomp(s, { where });
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, encodeEntry(c), { mode: 0o600 });
      renameSync(tmp, file);
    } catch {
      // a cache that cannot be written only costs the next start a compile
      rmSync(`${file}.${process.pid}.tmp`, { force: true });
    }
  }
  for (const w of c.warnings) warn(w);
  const f: SeccompFilter = { program: c.program, flags: c.flags };
  if (s.listenerPath) f.listenerPath = s.listenerPath;
  return f;
}
