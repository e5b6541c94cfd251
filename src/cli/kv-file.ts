// docker's --env-file and --label-file format: one KEY=VALUE a line; blank lines and lines
// starting with "#" are skipped; leading whitespace is dropped and trailing whitespace kept; a
// KEY alone takes its value from the environment (env files) or is dropped.
import { readFileSync } from 'node:fs';
import { goPathError } from './seccomp-file.ts';

// Go's unicode.IsSpace.
const LEADING_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
const MAX_LINE = 64 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseLines(data: Buffer, lookup: ((key: string) => string | undefined) | null): string[] {
  const out: string[] = [];
  const raw: Buffer[] = [];
  for (let start = 0; start < data.length;) {
    const nl = data.indexOf(0x0a, start);
    const end = nl < 0 ? data.length : nl;
    let line = data.subarray(start, end);
    if (line.length >= MAX_LINE) throw new Error('bufio.Scanner: token too long');
    if (line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    raw.push(line);
    start = end + 1;
  }
  raw.forEach((bytes, index) => {
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw new Error(`invalid utf8 bytes at line ${index + 1}: [${[...bytes].join(' ')}]`);
    }
    if (index === 0 && text.startsWith('\ufeff')) text = text.slice(1);
    const line = text.replace(LEADING_SPACE, '');
    if (line === '' || line[0] === '#') return;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    if (key === '') throw new Error(`no variable name on line '${line}'`);
    if (/[ \t]/.test(key)) throw new Error(`variable '${key}' contains whitespaces`);
    if (eq >= 0) {
      out.push(line);
      return;
    }
    const value = lookup?.(line);
    if (value !== undefined) out.push(`${key}=${value}`);
  });
  return out;
}

/**
 * Reads one env or label file. `lookup` fills a KEY given alone (env files); without it such
 * a line is dropped (label files). Errors are docker's: Go's open error, or "invalid env file".
 */
export function readKvFile(path: string, lookup: ((key: string) => string | undefined) | null): string[] {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    const message = goPathError('open', path, err);
    // Go opens a directory and fails on the first read, inside the parser
    throw new Error((err as NodeJS.ErrnoException).code === 'EISDIR' ? `invalid env file (${path}): ${message}` : message);
  }
  try {
    return parseLines(data, lookup);
  } catch (err) {
    throw new Error(`invalid env file (${path}): ${(err as Error).message}`);
  }
}
