// `--security-opt seccomp=<file>`: docker's CLI reads the profile itself and sends its JSON,
// compacted, inside the option ("seccomp={...}"); the engine never opens the user's file. The
// JSON is checked with Go's encoding/json wording, so a broken profile reads as docker says it.
import { readFileSync } from 'node:fs';
import { goQuote } from './go-strconv.ts';

/** An os error worded as Go's *PathError ("open /x: no such file or directory"). */
export function goPathError(op: string, path: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const text: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EISDIR: 'is a directory',
    ENOTDIR: 'not a directory',
    ELOOP: 'too many levels of symbolic links',
    ENAMETOOLONG: 'file name too long',
    EPERM: 'operation not permitted',
  };
  // Go opens a directory fine and fails on the read
  return `${code === 'EISDIR' ? 'read' : op} ${path}: ${text[code] ?? (err as Error).message}`;
}

class JsonSyntax extends Error {}

/** Go's quoteChar, for "invalid character 'x' ..." messages. */
function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return "'\"'";
  return `'${goQuote(c).slice(1, -1)}'`;
}

/** A JSON value, validated as Go's scanner does; whitespace outside strings removed. */
function compact(text: string): string {
  let i = 0;
  let out = '';
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  };
  // Go ends the input with a space: where a space is wrong too (inside a literal, a number or
  // an escape), the space is the complaint; elsewhere the input ended too early
  const bad = (context: string, spaceAtEnd = false): JsonSyntax => {
    if (i >= text.length && !spaceAtEnd) return new JsonSyntax('unexpected end of JSON input');
    const c = i >= text.length ? ' ' : String.fromCodePoint(text.codePointAt(i)!);
    return new JsonSyntax(`invalid character ${quoteChar(c)} ${context}`);
  };
  const literal = (word: string) => {
    for (let k = 0; k < word.length; k++, i++) {
      if (text[i] !== word[k]) throw bad(`in literal ${word} (expecting ${quoteChar(word[k]!)})`, true);
    }
    out += word;
  };
  const string = () => {
    const start = i++;
    for (;;) {
      if (i >= text.length) throw bad('');
      const c = text[i]!;
      if (c === '"') break;
      if (c < ' ') throw bad('in string literal');
      if (c === '\\') {
        i++;
        const e = text[i];
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) {
            i++;
            if (!/[0-9a-fA-F]/.test(text[i] ?? '')) throw bad('in \\u hexadecimal character escape', true);
          }
        } else if (e === undefined || !'"\\/bfnrt'.includes(e)) throw bad('in string escape code', true);
      }
      i++;
    }
    i++;
    out += text.slice(start, i);
  };
  const digits = (context: string) => {
    if (!/[0-9]/.test(text[i] ?? '')) throw bad(context, true);
    while (/[0-9]/.test(text[i] ?? '')) i++;
  };
  const number = () => {
    const start = i;
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else digits('in numeric literal');
    if (text[i] === '.') {
      i++;
      digits('after decimal point in numeric literal');
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      digits('in exponent of numeric literal');
    }
    out += text.slice(start, i);
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      out += '{';
      ws();
      if (text[i] === '}') {
        i++;
        out += '}';
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') throw bad('looking for beginning of object key string');
        string();
        ws();
        if (text[i] !== ':') throw bad('after object key');
        i++;
        out += ':';
        value();
        ws();
        if (text[i] === ',') {
          i++;
          out += ',';
          continue;
        }
        if (text[i] === '}') {
          i++;
          out += '}';
          return;
        }
        throw bad('after object key:value pair');
      }
    }
    if (c === '[') {
      i++;
      out += '[';
      ws();
      if (text[i] === ']') {
        i++;
        out += ']';
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          out += ',';
          continue;
        }
        if (text[i] === ']') {
          i++;
          out += ']';
          return;
        }
        throw bad('after array element');
      }
    }
    if (c === '"') return string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    throw bad('looking for beginning of value');
  };
  value();
  ws();
  if (i < text.length) throw bad('after top-level value');
  return out;
}

/** The option docker's CLI sends for a seccomp profile file: "seccomp=<compact JSON>". */
export function seccompOptionFromFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`opening seccomp profile (${path}) failed: ${goPathError('open', path, err)}`);
  }
  try {
    return `seccomp=${compact(text)}`;
  } catch (err) {
    if (err instanceof JsonSyntax) throw new Error(`compacting json for seccomp profile (${path}) failed: ${err.message}`);
    throw err;
  }
}
