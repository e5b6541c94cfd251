// The value grammars docker's CLI inherits from Go (strconv, go-units sizes, encoding/csv), with
// Go's error texts, so that `hull run` accepts and refuses flag values exactly as `docker run`
// does and says the same thing when it refuses one.

/** Go's %q: a double-quoted string with Go escapes (strconv.Quote). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (r >= 0x20 && r < 0x7f) out += ch;
    else if (r >= 0x80 && (PRINTABLE ??= /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u).test(ch)) out += ch;
    else if (ESCAPES[r] !== undefined) out += ESCAPES[r];
    else if (r < 0x20 || r === 0x7f) out += `\\x${hex(r, 2)}`;
    else if (r >= 0xd800 && r <= 0xdfff) out += '\\ufffd';
    else if (r < 0x10000) out += `\\u${hex(r, 4)}`;
    else out += `\\U${hex(r, 8)}`;
  }
  return `${out}"`;
}

// Go's unicode.IsPrint beyond ASCII: letters, marks, numbers, punctuation and symbols. Made at
// first use, in goQuote: the pattern costs ~0.5 ms to build, and most commands quote nothing.
let PRINTABLE: RegExp | undefined;
const ESCAPES: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' };

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** A failed strconv call, worded as Go's *strconv.NumError. */
export class NumError extends Error {
  constructor(fn: string, input: string, reason: 'invalid syntax' | 'value out of range') {
    super(`${fn}: parsing ${goQuote(input)}: ${reason}`);
  }
}

/** strconv.ParseBool. */
export function parseBool(s: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  throw new NumError('strconv.ParseBool', s, 'invalid syntax');
}

function digitValue(c: string): number {
  const code = c.toLowerCase().charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 122) return code - 97 + 10;
  return 99;
}

/** Go's rule for `_` digit separators (only with base 0): each one sits between digits. */
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s[0] === '-' || s[0] === '+') s = s.slice(1);
  let hexDigits = false;
  if (s.length >= 2 && s[0] === '0' && 'box'.includes(s[1]!.toLowerCase())) {
    i = 2;
    saw = '0';
    hexDigits = s[1]!.toLowerCase() === 'x';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hexDigits && digitValue(c) < 16)) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** strconv.ParseUint's digits; base 0 reads Go's prefixes (0x, 0o, 0b, leading 0) and `_`. */
function parseUnsigned(fn: string, input: string, s: string, base: number, bitSize: number): bigint {
  if (s === '') throw new NumError(fn, input, 'invalid syntax');
  const base0 = base === 0;
  const s0 = s;
  if (base0) {
    base = 10;
    if (s[0] === '0') {
      const p = s[1]?.toLowerCase();
      if (s.length >= 3 && (p === 'b' || p === 'o' || p === 'x')) {
        base = p === 'b' ? 2 : p === 'o' ? 8 : 16;
        s = s.slice(2);
      } else {
        base = 8;
        s = s.slice(1);
      }
    }
  }
  const max = (1n << BigInt(bitSize)) - 1n;
  let n = 0n;
  let underscores = false;
  for (const c of s) {
    if (c === '_' && base0) {
      underscores = true;
      continue;
    }
    const d = digitValue(c);
    if (d >= base) throw new NumError(fn, input, 'invalid syntax');
    n = n * BigInt(base) + BigInt(d);
    if (n > max) throw new NumError(fn, input, 'value out of range');
  }
  if (underscores && !underscoreOK(s0)) throw new NumError(fn, input, 'invalid syntax');
  return n;
}

/** strconv.ParseUint(s, base, bitSize). */
export function parseUint(s: string, base = 10, bitSize = 64, fn = 'strconv.ParseUint'): bigint {
  return parseUnsigned(fn, s, s, base, bitSize);
}

/** strconv.ParseInt(s, base, bitSize); pflag's int flags use base 0. */
export function parseInt64(s: string, base = 0, bitSize = 64, fn = 'strconv.ParseInt'): bigint {
  if (s === '') throw new NumError(fn, s, 'invalid syntax');
  let body = s;
  let negative = false;
  if (s[0] === '+' || s[0] === '-') {
    negative = s[0] === '-';
    body = s.slice(1);
  }
  let un: bigint;
  try {
    un = parseUnsigned(fn, s, body, base, bitSize);
  } catch (err) {
    if (err instanceof NumError && err.message.endsWith('value out of range')) throw new NumError(fn, s, 'value out of range');
    throw err;
  }
  const cutoff = 1n << BigInt(bitSize - 1);
  if ((!negative && un >= cutoff) || (negative && un > cutoff)) throw new NumError(fn, s, 'value out of range');
  return negative ? -un : un;
}

/** strconv.Atoi: base 10, no prefixes or separators. */
export function atoi(s: string): number {
  return Number(parseInt64(s, 10, 64, 'strconv.Atoi'));
}

/** A pflag int/int64 flag's value: strconv.ParseInt(s, 0, 64). */
export function parseFlagInt(s: string): number {
  return Number(parseInt64(s, 0, 64));
}

const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL_FLOAT = /^[+-]?(?:inf|infinity|nan)$/i;

/** strconv.ParseFloat(s, 64) for decimal input (hex floats are not needed by any flag). */
export function parseFloat64(s: string): number {
  if (SPECIAL_FLOAT.test(s)) return /nan/i.test(s) ? NaN : s.startsWith('-') ? -Infinity : Infinity;
  if (!FLOAT.test(s)) throw new NumError('strconv.ParseFloat', s, 'invalid syntax');
  const v = Number(s);
  if (!Number.isFinite(v)) throw new NumError('strconv.ParseFloat', s, 'value out of range');
  return v;
}

const BINARY: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
const DECIMAL: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };

/** go-units' size grammar: a number, an optional space, and an optional unit k/m/g/t/p with b or ib. */
function parseSize(text: string, units: Record<string, number>): number {
  let sep = -1;
  for (let i = text.length - 1; i >= 0; i--) {
    if ('0123456789. '.includes(text[i]!)) {
      sep = i;
      break;
    }
  }
  if (sep === -1) throw new Error(`invalid size: '${text}'`);
  const num = text[sep] === ' ' ? text.slice(0, sep) : text.slice(0, sep + 1);
  let suffix = text.slice(sep + 1);
  let size = parseFloat64(num);
  if (size < 0) throw new Error(`invalid size: '${text}'`);
  if (suffix !== '') {
    const bad = new Error(`invalid suffix: '${suffix.length > 3 ? suffix : suffix.toLowerCase()}'`);
    if (suffix.length > 3) throw bad;
    suffix = suffix.toLowerCase();
    if (suffix[0] === 'b') {
      if (suffix.length > 1) throw bad;
    } else {
      const mult = units[suffix[0]!];
      if (mult === undefined) throw bad;
      if ((suffix.length === 2 && suffix[1] !== 'b') || (suffix.length === 3 && suffix.slice(1) !== 'ib')) throw bad;
      size *= mult;
    }
  }
  // Go converts to int64; beyond its range the result is meaningless, so refuse it instead.
  if (!(size < 2 ** 63)) throw new Error(`invalid size: '${text}'`);
  return Math.trunc(size);
}

/** go-units RAMInBytes: "512m", "1.5g", "10 KiB", "100" (bytes); binary units. */
export function ramInBytes(text: string): number {
  return parseSize(text, BINARY);
}

/** go-units FromHumanSize: the same grammar with decimal units ("10m" is 10,000,000). */
export function fromHumanSize(text: string): number {
  return parseSize(text, DECIMAL);
}

/** The first record of encoding/csv's reader (comma-separated, `"` quoting), with its errors. */
export function readCsvRecord(text: string): string[] {
  const data = Buffer.from(text, 'utf8');
  let offset = 0;
  let lineNo = 0;
  const readLine = (): Buffer | null => {
    if (offset >= data.length) return null;
    const nl = data.indexOf(0x0a, offset);
    const end = nl === -1 ? data.length : nl + 1;
    let line = data.subarray(offset, end);
    offset = end;
    lineNo++;
    if (nl === -1 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    const n = line.length;
    if (n >= 2 && line[n - 2] === 0x0d && line[n - 1] === 0x0a) line = Buffer.concat([line.subarray(0, n - 2), Buffer.from('\n')]);
    return line;
  };
  const newlineLength = (b: Buffer) => (b.length > 0 && b[b.length - 1] === 0x0a ? 1 : 0);

  let line = readLine();
  while (line !== null && line.length === newlineLength(line)) line = readLine();
  if (line === null) throw new Error('EOF');
  const recordLine = lineNo;
  const fail = (atLine: number, column: number, what: string): Error =>
    new Error(recordLine !== atLine
      ? `record on line ${recordLine}; parse error on line ${atLine}, column ${column}: ${what}`
      : `parse error on line ${atLine}, column ${column}: ${what}`);
  const BARE = 'bare " in non-quoted-field';
  const QUOTE = 'extraneous or missing " in quoted-field';

  const fields: string[] = [];
  let col = 1;
  let posLine = lineNo;
  for (;;) {
    if (line.length === 0 || line[0] !== 0x22) {
      const comma = line.indexOf(0x2c);
      const field = comma >= 0 ? line.subarray(0, comma) : line.subarray(0, line.length - newlineLength(line));
      const quote = field.indexOf(0x22);
      if (quote >= 0) throw fail(lineNo, col + quote, BARE);
      fields.push(field.toString('utf8'));
      if (comma < 0) return fields;
      line = line.subarray(comma + 1);
      col += comma + 1;
      continue;
    }
    const parts: Buffer[] = [];
    line = line.subarray(1);
    col += 1;
    for (;;) {
      const quote = line.indexOf(0x22);
      if (quote >= 0) {
        parts.push(line.subarray(0, quote));
        line = line.subarray(quote + 1);
        col += quote + 1;
        if (line[0] === 0x22) {
          parts.push(Buffer.from('"'));
          line = line.subarray(1);
          col += 1;
        } else if (line[0] === 0x2c) {
          line = line.subarray(1);
          col += 1;
          fields.push(Buffer.concat(parts).toString('utf8'));
          break;
        } else if (newlineLength(line) === line.length) {
          fields.push(Buffer.concat(parts).toString('utf8'));
          return fields;
        } else {
          throw fail(lineNo, col - 1, QUOTE);
        }
      } else if (line.length > 0) {
        parts.push(line);
        col += line.length;
        const next = readLine();
        line = next ?? Buffer.alloc(0);
        if (line.length > 0) {
          posLine++;
          col = 1;
        }
      } else {
        throw fail(posLine, col, QUOTE);
      }
    }
  }
}
