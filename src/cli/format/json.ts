// Go's encoding/json output for template values: what docker's `json` template function
// and `docker inspect` print. Maps (see value.ts) get sorted keys as Go sorts them;
// struct-like objects keep their own key order, as Go keeps struct field order.

import { compareUtf8, kindOf, mapEntries } from './value.ts';

export class JsonEncodeError extends Error {
  override name = 'JsonEncodeError';
}

export interface JsonOptions {
  /** Escape <, > and & as \u003c etc. Go's Marshal does; docker's `json` template function does not. */
  readonly escapeHTML?: boolean;
  /** Indent each level by this (json.MarshalIndent); compact when absent. */
  readonly indent?: string;
  /** Encode every plain object as a map, with sorted keys. */
  readonly objectsAreMaps?: boolean;
  /** Sort the keys of the top-level object only: docker marshals its row contexts as maps. */
  readonly sortTopLevelKeys?: boolean;
}

export function encodeJson(v: unknown, options: JsonOptions = {}): string {
  return new Encoder(options).encode(v, '', options.sortTopLevelKeys ?? false);
}

class Encoder {
  private readonly options: JsonOptions;
  private readonly seen = new Set<object>();

  constructor(options: JsonOptions) {
    this.options = options;
  }

  encode(v: unknown, prefix: string, sortKeys: boolean): string {
    if (v === undefined || v === null) return 'null';
    if (typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      return this.encode((v as { toJSON: () => unknown }).toJSON(), prefix, false);
    }
    const kind = kindOf(v, this.options.objectsAreMaps ?? false);
    switch (kind) {
      case 'bool':
        return v ? 'true' : 'false';
      case 'int':
        return String(v);
      case 'float':
        return encodeFloat(v as number);
      case 'string':
        return this.encodeString(v as string);
      case 'slice':
        return this.guard(v as object, () =>
          this.encodeList((v as unknown[]).map((el) => (el === undefined ? null : el)), prefix, (el, p) => this.encode(el, p, false)),
        );
      case 'map': {
        const entries = mapEntries(v as object)
          .filter(([, val]) => val !== undefined || v instanceof Map)
          .map(([k, val]): [string, unknown] => [String(k), val])
          .sort((a, b) => compareUtf8(a[0], b[0]));
        return this.guard(v as object, () => this.encodeObject(entries, prefix));
      }
      case 'struct': {
        let entries = Object.entries(v as object).filter(([, val]) => val !== undefined && typeof val !== 'function');
        if (sortKeys) entries = entries.sort((a, b) => compareUtf8(a[0], b[0]));
        return this.guard(v as object, () => this.encodeObject(entries, prefix));
      }
      case 'func':
        throw new JsonEncodeError('json: unsupported type: func()');
      default:
        throw new JsonEncodeError(`json: unsupported value: ${String(v)}`);
    }
  }

  private guard(o: object, body: () => string): string {
    if (this.seen.has(o)) throw new JsonEncodeError('json: unsupported value: encountered a cycle');
    this.seen.add(o);
    try {
      return body();
    } finally {
      this.seen.delete(o);
    }
  }

  private encodeList<T>(items: readonly T[], prefix: string, one: (item: T, prefix: string) => string): string {
    if (items.length === 0) return '[]';
    const indent = this.options.indent;
    if (indent === undefined) return `[${items.map((i) => one(i, prefix)).join(',')}]`;
    const inner = prefix + indent;
    return `[\n${items.map((i) => inner + one(i, inner)).join(',\n')}\n${prefix}]`;
  }

  private encodeObject(entries: ReadonlyArray<readonly [string, unknown]>, prefix: string): string {
    if (entries.length === 0) return '{}';
    const indent = this.options.indent;
    if (indent === undefined) {
      return `{${entries.map(([k, val]) => `${this.encodeString(k)}:${this.encode(val, prefix, false)}`).join(',')}}`;
    }
    const inner = prefix + indent;
    const body = entries.map(([k, val]) => `${inner}${this.encodeString(k)}: ${this.encode(val, inner, false)}`);
    return `{\n${body.join(',\n')}\n${prefix}}`;
  }

  private encodeString(s: string): string {
    const html = this.options.escapeHTML ?? false;
    let out = '"';
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          out += s[i] + (s[i + 1] as string);
          i++;
        } else {
          out += '\\ufffd';
        }
        continue;
      }
      if (c >= 0xdc00 && c <= 0xdfff) {
        out += '\\ufffd';
        continue;
      }
      switch (c) {
        case 0x22:
          out += '\\"';
          continue;
        case 0x5c:
          out += '\\\\';
          continue;
        case 0x0a:
          out += '\\n';
          continue;
        case 0x0d:
          out += '\\r';
          continue;
        case 0x09:
          out += '\\t';
          continue;
        case 0x08:
          out += '\\b';
          continue;
        case 0x0c:
          out += '\\f';
          continue;
        case 0x2028:
        case 0x2029:
          out += `\\u${c.toString(16)}`;
          continue;
      }
      if (c < 0x20 || (html && (c === 0x3c || c === 0x3e || c === 0x26))) {
        out += `\\u${c.toString(16).padStart(4, '0')}`;
        continue;
      }
      out += s[i];
    }
    return `${out}"`;
  }
}

/** Go's float64 encoding: shortest digits, exponent form below 1e-6 and from 1e21. */
function encodeFloat(v: number): string {
  if (!Number.isFinite(v)) throw new JsonEncodeError(`json: unsupported value: ${Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf'}`);
  if (Object.is(v, -0)) return '-0';
  // JavaScript switches to exponent form at the same bounds and writes e-7 as Go's cleanup does.
  return String(v);
}
