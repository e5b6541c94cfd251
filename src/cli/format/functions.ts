// docker's template functions (docker/cli templates/templates.go), and the variants
// docker uses when it renders a table header, which leave the column name intact.

import { encodeJson } from './json.ts';
import type { CallContext, FuncMap, TemplateFunction } from './template.ts';
import { sliceBytes, utf8Length } from './value.ts';

/** json, split, join, title, lower, upper, pad and truncate, as docker defines them. */
export function dockerFunctions(): FuncMap {
  return {
    json: { params: ['any'], fn: json },
    split: { params: ['string', 'string'], fn: split },
    join: { params: ['strings', 'string'], fn: (elems: string[], sep: string) => elems.join(sep) },
    title: { params: ['string'], fn: title },
    lower: { params: ['string'], fn: (s: string) => mapRunes(s, 'lower') },
    upper: { params: ['string'], fn: (s: string) => mapRunes(s, 'upper') },
    pad: { params: ['string', 'int', 'int'], fn: pad },
    truncate: { params: ['string', 'int'], fn: truncate },
  } satisfies Record<string, TemplateFunction>;
}

/**
 * docker's HeaderFunctions: while the header row of a table renders, the template runs
 * on the map of column names, and these return the name unchanged. `pad` is kept so
 * that headers stay aligned with padded columns.
 */
export function dockerHeaderFunctions(): FuncMap {
  const same = (v: string): string => v;
  return {
    json: { params: ['string'], fn: same },
    split: { params: ['string', 'string'], fn: same },
    join: { params: ['string', 'string'], fn: same },
    title: { params: ['string'], fn: same },
    lower: { params: ['string'], fn: same },
    upper: { params: ['string'], fn: same },
    truncate: { params: ['string', 'int'], fn: same },
  } satisfies Record<string, TemplateFunction>;
}

/** docker ignores encoding errors, which leave the output empty. */
function json(this: CallContext, v: unknown): string {
  try {
    return encodeJson(v, { objectsAreMaps: this.objectsAreMaps });
  } catch {
    return '';
  }
}

/** strings.Split: an empty separator splits after each character. */
function split(s: string, sep: string): string[] {
  return sep === '' ? Array.from(s) : s.split(sep);
}

/** strings.Title: puts the first letter of each word in title case. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const r of s) {
    out += isSeparator(prev) ? toTitleRune(r) : r;
    prev = r;
  }
  return out;
}

// Title case differs from upper case only for these digraphs: ǆ is Ǆ in upper case, ǅ in title case.
const TITLE_DIGRAPHS: Readonly<Record<string, string>> = {
  '\u01c4': '\u01c5', '\u01c5': '\u01c5', '\u01c6': '\u01c5',
  '\u01c7': '\u01c8', '\u01c8': '\u01c8', '\u01c9': '\u01c8',
  '\u01ca': '\u01cb', '\u01cb': '\u01cb', '\u01cc': '\u01cb',
  '\u01f1': '\u01f2', '\u01f2': '\u01f2', '\u01f3': '\u01f2',
};

function toTitleRune(r: string): string {
  return TITLE_DIGRAPHS[r] ?? toUpperRune(r);
}

function isSeparator(r: string): boolean {
  const cp = r.codePointAt(0) as number;
  if (cp <= 0x7f) return !/[0-9a-zA-Z_]/.test(r);
  if (/[\p{L}\p{Nd}]/u.test(r)) return false;
  return /\s/u.test(r);
}

/**
 * Go maps case one rune at a time with Unicode's simple mappings. JavaScript applies the
 * full ones, which may expand a rune: upper-case ß is SS there, but stays ß in Go, and
 * lower-case İ is i plus a combining dot there, but i in Go.
 */
function mapRunes(s: string, to: 'lower' | 'upper'): string {
  let out = '';
  for (const r of s) out += to === 'lower' ? toLowerRune(r) : toUpperRune(r);
  return out;
}

function toUpperRune(r: string): string {
  const u = r.toUpperCase();
  return Array.from(u).length === 1 ? u : r;
}

function toLowerRune(r: string): string {
  return String.fromCodePoint(r.toLowerCase().codePointAt(0) as number);
}

/** Adds spaces around a non-empty string. */
function pad(s: string, prefix: number, suffix: number): string {
  if (s === '') return s;
  if (prefix < 0 || suffix < 0) throw new Error('strings: negative Repeat count');
  return ' '.repeat(prefix) + s + ' '.repeat(suffix);
}

/** Cuts a string to at most n bytes, as docker does (a cut may split a character). */
function truncate(s: string, n: number): string {
  const len = utf8Length(s);
  if (len < n) return s;
  if (n < 0) throw new Error(`runtime error: slice bounds out of range [:${n}]`);
  return sliceBytes(s, 0, n);
}
