// Go text/template's predefined functions. `call` is left out: template data here
// holds no function values to call. `and` and `or` are evaluated lazily by the
// executor; their entries only give their signatures.

import { isPrint, sprint, sprintf, sprintln } from './printf.ts';
import type { CallContext, FuncMap, TemplateFunction } from './template.ts';
import {
  compareUtf8,
  isTrue,
  kindOf,
  mapGet,
  mapSize,
  mapZero,
  sliceBytes,
  typeName,
  utf8Bytes,
  utf8Length,
} from './value.ts';

let cached: FuncMap | undefined;

export function builtinFunctions(): FuncMap {
  cached ??= {
    and: { params: ['value'], variadic: 'value', fn: lazilyEvaluated },
    or: { params: ['value'], variadic: 'value', fn: lazilyEvaluated },
    not: { params: ['value'], fn: not },
    len: { params: ['value'], fn: length },
    index: { params: ['value'], variadic: 'value', fn: index },
    slice: { params: ['value'], variadic: 'value', fn: slice },
    print: { params: [], variadic: 'any', fn: print },
    printf: { params: ['string'], variadic: 'any', fn: printf },
    println: { params: [], variadic: 'any', fn: println },
    eq: { params: ['value'], variadic: 'value', fn: eq },
    ne: { params: ['value', 'value'], fn: ne },
    lt: { params: ['value', 'value'], fn: lt },
    le: { params: ['value', 'value'], fn: le },
    gt: { params: ['value', 'value'], fn: gt },
    ge: { params: ['value', 'value'], fn: ge },
    html: { params: [], variadic: 'any', fn: html },
    js: { params: [], variadic: 'any', fn: js },
    urlquery: { params: [], variadic: 'any', fn: urlquery },
  } satisfies Record<string, TemplateFunction>;
  return cached;
}

function lazilyEvaluated(): never {
  throw new Error('and/or are evaluated by the executor');
}

function not(this: CallContext, v: unknown): boolean {
  return !isTrue(v, this.objectsAreMaps);
}

function length(this: CallContext, item: unknown): number {
  if (item === undefined) throw new Error('reflect: call of reflect.Value.Type on zero Value');
  if (item === null) throw new Error('len of nil pointer');
  switch (kindOf(item, this.objectsAreMaps)) {
    case 'string':
      return utf8Length(item as string);
    case 'slice':
      return (item as unknown[]).length;
    case 'map':
      return mapSize(item as object);
  }
  throw new Error(`len of type ${typeName(item, this.objectsAreMaps)}`);
}

/** An index argument: Go accepts only integers, and checks it against the bound. */
function indexArg(index: unknown, bound: number): number {
  if (index === undefined || index === null) throw new Error('cannot index slice/array with nil');
  if (typeof index === 'bigint') index = Number(index);
  if (typeof index !== 'number' || !Number.isInteger(index)) {
    throw new Error(`cannot index slice/array with type ${typeName(index)}`);
  }
  if (index < 0 || index > bound) throw new Error(`index out of range: ${index}`);
  return index;
}

function index(this: CallContext, item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined || item === null) throw new Error('index of untyped nil');
  for (const i of indexes) {
    if (item === null) throw new Error('index of nil pointer');
    const kind = kindOf(item, this.objectsAreMaps);
    if (kind === 'slice' || kind === 'string') {
      const len = kind === 'string' ? utf8Length(item as string) : (item as unknown[]).length;
      const x = indexArg(i, len);
      // Go checks x > len, then reflect panics for x == len.
      if (x === len) throw new Error(`reflect: ${kind === 'string' ? 'string' : 'slice'} index out of range`);
      item = kind === 'string' ? (utf8Bytes(item as string)[x] as number) : (item as unknown[])[x];
    } else if (kind === 'map') {
      if (i === undefined || i === null) throw new Error('value is nil; should be of type string');
      const { found, value } = mapGet(item as object, i);
      item = found ? value : mapZero(item as object);
    } else if (kind === 'invalid') {
      throw new Error('index of untyped nil');
    } else {
      throw new Error(`can't index item of type ${typeName(item, this.objectsAreMaps)}`);
    }
  }
  return item;
}

function slice(this: CallContext, item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined || item === null) throw new Error('slice of untyped nil');
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`);
  const kind = kindOf(item, this.objectsAreMaps);
  let len: number;
  if (kind === 'string') {
    if (indexes.length === 3) throw new Error('cannot 3-index slice a string');
    len = utf8Length(item as string);
  } else if (kind === 'slice') {
    len = (item as unknown[]).length;
  } else {
    throw new Error(`can't slice item of type ${typeName(item, this.objectsAreMaps)}`);
  }
  const idx = [0, len, len];
  indexes.forEach((v, i) => {
    idx[i] = indexArg(v, len);
  });
  const [from, to, max] = idx as [number, number, number];
  if (from > to) throw new Error(`invalid slice index: ${from} > ${to}`);
  if (indexes.length === 3 && to > max) throw new Error(`invalid slice index: ${to} > ${max}`);
  return kind === 'string' ? sliceBytes(item as string, from, to) : (item as unknown[]).slice(from, to);
}

function print(this: CallContext, ...args: unknown[]): string {
  return sprint(args, this);
}

function printf(this: CallContext, format: string, ...args: unknown[]): string {
  return sprintf(format, args, this);
}

function println(this: CallContext, ...args: unknown[]): string {
  return sprintln(args, this);
}

// -- comparison --
// JavaScript has one number type, so ints and floats compare with each other here,
// where Go would report "incompatible types for comparison".

type BasicKind = 'bool' | 'number' | 'string' | 'invalid' | 'other';

function basicKind(ctx: CallContext, v: unknown): BasicKind {
  switch (kindOf(v, ctx.objectsAreMaps)) {
    case 'bool':
      return 'bool';
    case 'int':
    case 'float':
      return 'number';
    case 'string':
      return 'string';
    case 'invalid':
    case 'nil':
      return 'invalid';
    default:
      return 'other';
  }
}

const isNil = (v: unknown): boolean => v === undefined || v === null;

function eq(this: CallContext, arg1: unknown, ...arg2: unknown[]): boolean {
  if (arg2.length === 0) throw new Error('missing argument for comparison');
  const k1 = basicKind(this, arg1);
  for (const arg of arg2) {
    const k2 = basicKind(this, arg);
    let truth = false;
    if (k1 !== k2) {
      if (!isNil(arg1) && !isNil(arg)) throw new Error('incompatible types for comparison');
    } else if (k1 === 'invalid') {
      truth = true;
    } else if (k1 === 'other') {
      const kind = kindOf(arg, this.objectsAreMaps);
      if (kind === 'slice' || kind === 'map' || kind === 'func') {
        throw new Error(`non-comparable type ${sprintf('%s', [arg], this)}: ${typeName(arg, this.objectsAreMaps)}`);
      }
      truth = arg1 === arg;
    } else {
      // Loose equality lets 1 and 1n match.
      truth = arg1 == arg;
    }
    if (truth) return true;
  }
  return false;
}

function ne(this: CallContext, a: unknown, b: unknown): boolean {
  return !eq.call(this, a, b);
}

function lt(this: CallContext, a: unknown, b: unknown): boolean {
  const k1 = basicKind(this, a);
  const k2 = basicKind(this, b);
  if (k1 === 'invalid' || k1 === 'other' || k2 === 'invalid' || k2 === 'other') throw new Error('invalid type for comparison');
  if (k1 !== k2) throw new Error('incompatible types for comparison');
  if (k1 === 'bool') throw new Error('invalid type for comparison');
  if (k1 === 'string') return compareUtf8(a as string, b as string) < 0;
  return (a as number | bigint) < (b as number | bigint);
}

function le(this: CallContext, a: unknown, b: unknown): boolean {
  return lt.call(this, a, b) || eq.call(this, a, b);
}

function gt(this: CallContext, a: unknown, b: unknown): boolean {
  return !le.call(this, a, b);
}

function ge(this: CallContext, a: unknown, b: unknown): boolean {
  return !lt.call(this, a, b);
}

// -- escapers --

/** The text the escapers work on: a lone string as it is, else the operands as print joins them. */
function evalArgs(ctx: CallContext, args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  // Go turns a nil operand into "<no value>" here, unlike print.
  return sprint(args.map((a) => (isNil(a) ? '<no value>' : a)), ctx);
}

function html(this: CallContext, ...args: unknown[]): string {
  return evalArgs(this, args).replace(/[\0"'&<>]/g, (c) => HTML_ESCAPES[c] as string);
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '\0': '\ufffd',
  '"': '&#34;',
  "'": '&#39;',
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
};

function js(this: CallContext, ...args: unknown[]): string {
  let out = '';
  for (const r of evalArgs(this, args)) {
    const cp = r.codePointAt(0) as number;
    switch (r) {
      case '\\':
        out += '\\\\';
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case '<':
        out += '\\u003C';
        continue;
      case '>':
        out += '\\u003E';
        continue;
      case '&':
        out += '\\u0026';
        continue;
      case '=':
        out += '\\u003D';
        continue;
    }
    if (cp < 0x20) out += `\\u00${cp.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (cp < 0x80 || isPrint(r)) out += r;
    else out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return out;
}

function urlquery(this: CallContext, ...args: unknown[]): string {
  let out = '';
  for (const b of utf8Bytes(evalArgs(this, args))) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
