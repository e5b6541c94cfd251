// Compiled seccomp programs, kept by what they were compiled from (as crun does), so that
// starting the same profile again costs a file read instead of a compile.
//
// <root>/.seccomp/<checksum of input> holds: a magic line, the input, the checksum of the rest,
// then the flags, the warnings and the program. Written to a temp file and renamed. An entry is
// used only when its input equals this one's byte for byte, so a checksum collision costs a
// compile and nothing else; one that is torn, truncated or altered fails that comparison or its
// checksum and is compiled again. (The checksum leaves out the input, which the comparison
// covers: hashing it twice in JavaScript was ~0.3 ms of every start.)
// The checksum is not node:crypto's sha256: loading node:crypto costs ~5 ms at every start, and
// nothing here defends against an adversary (the directory is root's, mode 0700).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checksum64 as checksum } from '../../crypto.ts';
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

const MAGIC = 'hull-seccomp 3\n';
// Bump when the compiler's output for the same input changes (a change of the tables shows by itself).
const COMPILER_VERSION = '1';

let tablesSum: string | undefined;

/** What a compiled program depends on: the profile as given, the machine's architecture, and the compiler and its tables. */
function cacheInput(s: Seccomp): string {
  // the tables by their checksum: every entry keeps its input, and the tables are ~6 kB
  tablesSum ??= checksum(X86_64);
  return `${COMPILER_VERSION}\0${tablesSum}\0${nativeArch() ?? process.arch}\0${JSON.stringify(s)}`;
}

function encodeEntry(input: string, c: CompiledSeccomp): Buffer {
  const tail = Buffer.concat([Buffer.from(JSON.stringify({ flags: c.flags, warnings: c.warnings }) + '\n'), c.program]);
  return Buffer.concat([Buffer.from(`${MAGIC}${input}\n${checksum(tail)}\n`), tail]);
}

function decodeEntry(data: Buffer, input: string): CompiledSeccomp | undefined {
  const head = Buffer.from(`${MAGIC}${input}\n`);
  if (data.length < head.length + 17 || !data.subarray(0, head.length).equals(head) || data[head.length + 16] !== 10) return undefined;
  const sum = data.subarray(head.length, head.length + 16).toString('latin1');
  const tail = data.subarray(head.length + 17);
  if (checksum(tail) !== sum) return undefined;
  const nl = tail.indexOf(10);
  if (nl < 0) return undefined;
  try {
    const meta = JSON.parse(tail.subarray(0, nl).toString('utf8')) as { flags: number; warnings: string[] };
    const program = new Uint8Array(tail.subarray(nl + 1));
    if (!Number.isInteger(meta.flags) || !Array.isArray(meta.warnings) || program.length === 0 || program.length % 8) return undefined;
    return { program, flags: meta.flags, warnings: meta.warnings };
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
  const input = cacheInput(s);
  const file = join(dir, checksum(input));
  let c: CompiledSeccomp | undefined;
  try {
    c = decodeEntry(readFileSync(file), input);
  } catch {
    // not cached yet
  }
  if (!c) {
    c = compileSeccomp(s, { where });
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, encodeEntry(input, c), { mode: 0o600 });
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
