// The lexer of Go's text/template (text/template/parse/lex.go): splits template text
// into items. It stops at the first error, which becomes an 'error' item; the parser
// reports it with the line where the action started.

import { quote } from './printf.ts';
import { utf8Length } from './value.ts';

export type ItemType =
  | 'error'
  | 'bool'
  | 'char'
  | 'charConstant'
  | 'complex'
  | 'assign'
  | 'declare'
  | 'eof'
  | 'field'
  | 'identifier'
  | 'leftDelim'
  | 'leftParen'
  | 'number'
  | 'pipe'
  | 'rawString'
  | 'rightDelim'
  | 'rightParen'
  | 'space'
  | 'string'
  | 'text'
  | 'variable'
  // keywords
  | 'block'
  | 'break'
  | 'continue'
  | 'dot'
  | 'define'
  | 'else'
  | 'end'
  | 'if'
  | 'nil'
  | 'range'
  | 'template'
  | 'with';

export interface Item {
  readonly type: ItemType;
  readonly pos: number;
  readonly val: string;
  readonly line: number;
}

const KEYWORDS: ReadonlyMap<string, ItemType> = new Map<string, ItemType>([
  ['block', 'block'],
  ['break', 'break'],
  ['continue', 'continue'],
  ['define', 'define'],
  ['else', 'else'],
  ['end', 'end'],
  ['if', 'if'],
  ['range', 'range'],
  ['nil', 'nil'],
  ['template', 'template'],
  ['with', 'with'],
]);
const KEYWORD_TYPES = new Set<ItemType>([...KEYWORDS.values(), 'dot']);

const LEFT_DELIM = '{{';
const RIGHT_DELIM = '}}';
const LEFT_COMMENT = '/*';
const RIGHT_COMMENT = '*/';

export function itemString(i: Item): string {
  if (i.type === 'eof') return 'EOF';
  if (i.type === 'error') return i.val;
  if (KEYWORD_TYPES.has(i.type)) return `<${i.val}>`;
  if (utf8Length(i.val) > 10) return `${quote(Array.from(i.val).slice(0, 10).join(''))}...`;
  return quote(i.val);
}

const isSpace = (r: string): boolean => r === ' ' || r === '\t' || r === '\r' || r === '\n';
const alphaNumeric = /^[\p{L}\p{Nd}_]$/u;
const isAlphaNumeric = (r: string): boolean => alphaNumeric.test(r);
const hasLeftTrimMarker = (s: string, at: number): boolean => s[at] === '-' && isSpace(s[at + 1] ?? '');
const hasRightTrimMarker = (s: string, at: number): boolean => isSpace(s[at] ?? '') && s[at + 1] === '-';

function unicodeName(r: string): string {
  const cp = r.codePointAt(0) ?? 0;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(r) ? `${hex} '${r}'` : hex;
}

const EOF = '';

/** Splits template text into items, stopping at the first error (an 'error' item). */
export function lex(input: string, breakOK: boolean, continueOK: boolean): Item[] {
  const items: Item[] = [];
  let pos = 0;
  let start = 0;
  let line = 1;
  let startLine = 1;
  let parenDepth = 0;
  let atEOF = false;

  const countNewlines = (from: number, to: number): number => {
    let n = 0;
    for (let i = from; i < to; i++) if (input.charCodeAt(i) === 10) n++;
    return n;
  };
  const next = (): string => {
    if (pos >= input.length) {
      atEOF = true;
      return EOF;
    }
    const cp = input.codePointAt(pos) as number;
    const r = String.fromCodePoint(cp);
    pos += r.length;
    if (r === '\n') line++;
    return r;
  };
  const backup = (): void => {
    // Once the end is seen it stays seen, as in Go's lexer.
    if (!atEOF && pos > 0) {
      const lo = input.charCodeAt(pos - 1);
      const hi = pos >= 2 ? input.charCodeAt(pos - 2) : 0;
      pos -= lo >= 0xdc00 && lo <= 0xdfff && hi >= 0xd800 && hi <= 0xdbff ? 2 : 1;
      if (input[pos] === '\n') line--;
    }
  };
  const peek = (): string => {
    const r = next();
    backup();
    return r;
  };
  const emit = (type: ItemType): void => {
    items.push({ type, pos: start, val: input.slice(start, pos), line: startLine });
    start = pos;
    startLine = line;
  };
  const ignore = (): void => {
    line += countNewlines(start, pos);
    start = pos;
    startLine = line;
  };
  const error = (message: string): null => {
    items.push({ type: 'error', pos: start, val: message, line: startLine });
    return null;
  };
  const accept = (valid: string): boolean => {
    const r = next();
    if (r !== EOF && valid.includes(r)) return true;
    backup();
    return false;
  };
  const acceptRun = (valid: string): void => {
    for (;;) {
      const r = next();
      if (r === EOF || !valid.includes(r)) break;
    }
    backup();
  };
  const atRightDelim = (): { delim: boolean; trim: boolean } => {
    if (hasRightTrimMarker(input, pos) && input.startsWith(RIGHT_DELIM, pos + 2)) return { delim: true, trim: true };
    if (input.startsWith(RIGHT_DELIM, pos)) return { delim: true, trim: false };
    return { delim: false, trim: false };
  };
  const atTerminator = (): boolean => {
    const r = peek();
    if (isSpace(r)) return true;
    switch (r) {
      case EOF:
      case '.':
      case ',':
      case '|':
      case ':':
      case ')':
      case '(':
        return true;
    }
    return input.startsWith(RIGHT_DELIM, pos);
  };
  const trailingSpace = (from: number, to: number): number => {
    let n = 0;
    while (to - n > from && isSpace(input[to - n - 1] as string)) n++;
    return n;
  };
  const leadingSpace = (from: number): number => {
    let n = 0;
    while (from + n < input.length && isSpace(input[from + n] as string)) n++;
    return n;
  };

  type State = () => State | null;

  const lexText: State = () => {
    const x = input.indexOf(LEFT_DELIM, pos);
    if (x >= 0) {
      pos = x;
      const trim = hasLeftTrimMarker(input, pos + LEFT_DELIM.length) ? trailingSpace(start, pos) : 0;
      pos -= trim;
      if (pos > start) {
        line += countNewlines(start, pos);
        emit('text');
      }
      pos += trim;
      ignore();
      return lexLeftDelim;
    }
    pos = input.length;
    if (pos > start) {
      line += countNewlines(start, pos);
      emit('text');
    }
    emit('eof');
    return null;
  };

  const lexLeftDelim: State = () => {
    pos += LEFT_DELIM.length;
    const trim = hasLeftTrimMarker(input, pos);
    const afterMarker = trim ? 2 : 0;
    if (input.startsWith(LEFT_COMMENT, pos + afterMarker)) {
      pos += afterMarker;
      ignore();
      return lexComment;
    }
    emit('leftDelim');
    pos += afterMarker;
    ignore();
    parenDepth = 0;
    return lexInsideAction;
  };

  const lexComment: State = () => {
    pos += LEFT_COMMENT.length;
    const i = input.indexOf(RIGHT_COMMENT, pos);
    if (i < 0) return error('unclosed comment');
    pos = i + RIGHT_COMMENT.length;
    const { delim, trim } = atRightDelim();
    if (!delim) return error('comment ends before closing delimiter');
    if (trim) pos += 2;
    pos += RIGHT_DELIM.length;
    if (trim) pos += leadingSpace(pos);
    ignore();
    return lexText;
  };

  const lexRightDelim: State = () => {
    const trim = hasRightTrimMarker(input, pos);
    if (trim) {
      pos += 2;
      ignore();
    }
    pos += RIGHT_DELIM.length;
    emit('rightDelim');
    if (trim) {
      pos += leadingSpace(pos);
      ignore();
    }
    return lexText;
  };

  const lexInsideAction: State = () => {
    if (atRightDelim().delim) {
      if (parenDepth === 0) return lexRightDelim;
      return error('unclosed left paren');
    }
    const r = next();
    if (r === EOF) return error('unclosed action');
    if (isSpace(r)) {
      backup(); // a space may start " -}}"
      return lexSpace;
    }
    switch (r) {
      case '=':
        emit('assign');
        return lexInsideAction;
      case ':':
        if (next() !== '=') return error('expected :=');
        emit('declare');
        return lexInsideAction;
      case '|':
        emit('pipe');
        return lexInsideAction;
      case '"':
        return lexQuote;
      case '`':
        return lexRawQuote;
      case '$':
        return lexVariable;
      case "'":
        return lexChar;
      case '(':
        emit('leftParen');
        parenDepth++;
        return lexInsideAction;
      case ')':
        emit('rightParen');
        parenDepth--;
        if (parenDepth < 0) return error(`unexpected right paren ${unicodeName(r)}`);
        return lexInsideAction;
    }
    if (r === '.') {
      const c = input[pos];
      if (pos < input.length && !(c !== undefined && c >= '0' && c <= '9')) return lexField;
    }
    if (r === '.' || r === '+' || r === '-' || (r >= '0' && r <= '9')) {
      backup();
      return lexNumber;
    }
    if (isAlphaNumeric(r)) {
      backup();
      return lexIdentifier;
    }
    const cp = r.codePointAt(0) as number;
    if (cp < 0x80 && cp >= 0x20 && cp !== 0x7f) {
      emit('char');
      return lexInsideAction;
    }
    return error(`unrecognized character in action: ${unicodeName(r)}`);
  };

  const lexSpace: State = () => {
    let numSpaces = 0;
    while (isSpace(peek())) {
      next();
      numSpaces++;
    }
    if (hasRightTrimMarker(input, pos - 1) && input.startsWith(RIGHT_DELIM, pos + 1)) {
      backup(); // before the space of " -}}"
      if (numSpaces === 1) return lexRightDelim;
    }
    emit('space');
    return lexInsideAction;
  };

  const lexIdentifier: State = () => {
    for (;;) {
      const r = next();
      if (r !== EOF && isAlphaNumeric(r)) continue;
      backup();
      const word = input.slice(start, pos);
      if (!atTerminator()) return error(`bad character ${unicodeName(r)}`);
      const keyword = KEYWORDS.get(word);
      if (keyword !== undefined) {
        if ((keyword === 'break' && !breakOK) || (keyword === 'continue' && !continueOK)) emit('identifier');
        else emit(keyword);
      } else if (word === 'true' || word === 'false') {
        emit('bool');
      } else {
        emit('identifier');
      }
      return lexInsideAction;
    }
  };

  const lexFieldOrVariable = (type: 'field' | 'variable'): State | null => {
    if (atTerminator()) {
      emit(type === 'variable' ? 'variable' : 'dot');
      return lexInsideAction;
    }
    let r: string;
    for (;;) {
      r = next();
      if (r === EOF || !isAlphaNumeric(r)) {
        backup();
        break;
      }
    }
    if (!atTerminator()) return error(`bad character ${unicodeName(r)}`);
    emit(type);
    return lexInsideAction;
  };
  const lexField: State = () => lexFieldOrVariable('field');
  const lexVariable: State = () => {
    if (atTerminator()) {
      emit('variable');
      return lexInsideAction;
    }
    return lexFieldOrVariable('variable');
  };

  const lexQuoted = (close: string, what: string): State | null => {
    for (;;) {
      let r = next();
      if (r === '\\') {
        r = next();
        if (r !== EOF && r !== '\n') continue;
        return error(`unterminated ${what}`);
      }
      if (r === EOF || r === '\n') return error(`unterminated ${what}`);
      if (r === close) break;
    }
    emit(close === '"' ? 'string' : 'charConstant');
    return lexInsideAction;
  };
  const lexQuote: State = () => lexQuoted('"', 'quoted string');
  const lexChar: State = () => lexQuoted("'", 'character constant');

  const lexRawQuote: State = () => {
    for (;;) {
      const r = next();
      if (r === EOF) return error('unterminated raw quoted string');
      if (r === '`') break;
    }
    emit('rawString');
    return lexInsideAction;
  };

  const scanNumber = (): boolean => {
    accept('+-');
    let digits = '0123456789_';
    if (accept('0')) {
      if (accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (accept('oO')) digits = '01234567_';
      else if (accept('bB')) digits = '01_';
    }
    acceptRun(digits);
    if (accept('.')) acceptRun(digits);
    if (digits.length === 11 && accept('eE')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    if (digits.length === 23 && accept('pP')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    accept('i');
    const r = peek();
    if (r !== EOF && isAlphaNumeric(r)) {
      next();
      return false;
    }
    return true;
  };
  const lexNumber: State = () => {
    if (!scanNumber()) return error(`bad number syntax: ${quote(input.slice(start, pos))}`);
    const sign = peek();
    if (sign === '+' || sign === '-') {
      if (!scanNumber() || input[pos - 1] !== 'i') return error(`bad number syntax: ${quote(input.slice(start, pos))}`);
      emit('complex');
    } else {
      emit('number');
    }
    return lexInsideAction;
  };

  for (let state: State | null = lexText; state !== null; ) state = state();
  return items;
}
