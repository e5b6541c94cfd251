// How JavaScript values stand in for Go values inside templates.
//
// Go templates see typed values; JavaScript has fewer types, so the mapping is:
//   undefined             -> an invalid value (a missing map key): prints "<no value>"
//   null                  -> nil: prints "<nil>"
//   boolean, string       -> bool, string
//   integral number/bigint-> int (JavaScript cannot tell 2 from 2.0)
//   other number          -> float64
//   Array                 -> slice
//   Map, or goMap(obj)    -> map: a missing key is not an error
//   any other object      -> struct: a missing field is an error, as in docker
//   function property     -> method: called with the template's arguments
// A struct's type name in messages comes from Symbol.toStringTag or its class name.

export type Kind = 'invalid' | 'nil' | 'bool' | 'int' | 'float' | 'string' | 'slice' | 'map' | 'struct' | 'func' | 'time';

interface MapInfo {
  readonly zero: unknown;
}

const declaredMaps = new WeakMap<object, MapInfo>();

/**
 * Declares a plain object to be a Go map (e.g. a map[string]string of labels), so that a
 * missing key prints "<no value>" instead of failing. `zero` is the map's element zero
 * value, which `index` returns for a missing key (Go returns "" for map[string]string).
 */
export function goMap<T extends object>(obj: T, zero?: unknown): T {
  declaredMaps.set(obj, { zero });
  return obj;
}

export function isDeclaredMap(v: object): boolean {
  return v instanceof Map || declaredMaps.has(v);
}

/** The zero value of a map's elements: what `index` yields for a missing key. */
export function mapZero(m: object): unknown {
  return declaredMaps.get(m)?.zero;
}

export function kindOf(v: unknown, objectsAreMaps = false): Kind {
  switch (typeof v) {
    case 'undefined':
      return 'invalid';
    case 'boolean':
      return 'bool';
    case 'string':
      return 'string';
    case 'bigint':
      return 'int';
    case 'number':
      // Integral values beyond int64 can only have been floats.
      return Number.isInteger(v) && Math.abs(v) < 2 ** 63 ? 'int' : 'float';
    case 'function':
      return 'func';
    case 'symbol':
      return 'struct';
    case 'object':
      if (v === null) return 'nil';
      if (Array.isArray(v)) return 'slice';
      if (v instanceof Date) return 'time';
      if (objectsAreMaps || isDeclaredMap(v)) return 'map';
      return 'struct';
  }
  return 'struct';
}

/** Entries of a map-kind value, in Go's printing and ranging order (sorted keys). */
export function mapEntries(m: object): Array<[unknown, unknown]> {
  const entries: Array<[unknown, unknown]> =
    m instanceof Map ? [...m.entries()] : Object.keys(m).map((k) => [k, (m as Record<string, unknown>)[k]]);
  return entries.sort((a, b) => compareKeys(a[0], b[0]));
}

export function mapSize(m: object): number {
  return m instanceof Map ? m.size : Object.keys(m).length;
}

export function mapGet(m: object, key: unknown): { found: boolean; value: unknown } {
  if (m instanceof Map) {
    if (m.has(key)) return { found: true, value: m.get(key) };
    // Numbers from templates are JS numbers while a Map may be keyed by bigint, or the reverse.
    if (typeof key === 'number' && Number.isInteger(key) && m.has(BigInt(key))) return { found: true, value: m.get(BigInt(key)) };
    if (typeof key === 'bigint' && m.has(Number(key))) return { found: true, value: m.get(Number(key)) };
    return { found: false, value: undefined };
  }
  if (typeof key !== 'string') return { found: false, value: undefined };
  if (Object.hasOwn(m, key)) return { found: true, value: (m as Record<string, unknown>)[key] };
  return { found: false, value: undefined };
}

/** Orders map keys as Go's fmtsort does: numbers numerically, strings by UTF-8 bytes. */
export function compareKeys(a: unknown, b: unknown): number {
  const ka = keyRank(a);
  const kb = keyRank(b);
  if (ka !== kb) return ka - kb;
  if (typeof a === 'string' && typeof b === 'string') return compareUtf8(a, b);
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function keyRank(k: unknown): number {
  switch (typeof k) {
    case 'boolean':
      return 0;
    case 'number':
    case 'bigint':
      return 1;
    case 'string':
      return 2;
    default:
      return 3;
  }
}

/** Compares by code point, which is the UTF-8 byte order Go uses (UTF-16 units are not). */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    const sa = ca >= 0xd800 && ca <= 0xdfff;
    const sb = cb >= 0xd800 && cb <= 0xdfff;
    if (sa !== sb) return sa ? 1 : -1;
    return ca - cb;
  }
  return a.length - b.length;
}

/** Go's truth: false, 0, nil, the empty string, slice or map, and a missing value are false. */
export function isTrue(v: unknown, objectsAreMaps = false): boolean {
  switch (kindOf(v, objectsAreMaps)) {
    case 'invalid':
    case 'nil':
      return false;
    case 'bool':
      return v as boolean;
    case 'int':
    case 'float':
      // Loose equality so that 0n is false too; NaN is true, as NaN != 0 in Go.
      return v != 0;
    case 'string':
      return (v as string).length > 0;
    case 'slice':
      return (v as unknown[]).length > 0;
    case 'map':
      return mapSize(v as object) > 0;
    default:
      return true;
  }
}

/** Own and inherited members of a struct-like object, except those every object has. */
export function hasMember(obj: object, name: string): boolean {
  if (name === 'constructor') return false;
  for (let o: object | null = obj; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    if (Object.hasOwn(o, name)) return true;
  }
  return false;
}

/** Go-like type names for error messages: "string", "int", "[]string", "map[string]string". */
export function typeName(v: unknown, objectsAreMaps = false): string {
  switch (kindOf(v, objectsAreMaps)) {
    case 'invalid':
    case 'nil':
      return '<nil>';
    case 'bool':
      return 'bool';
    case 'int':
      return 'int';
    case 'float':
      return 'float64';
    case 'string':
      return 'string';
    case 'func':
      return 'func';
    case 'time':
      return 'time.Time';
    case 'slice':
      return `[]${elementTypeName(v as unknown[], objectsAreMaps)}`;
    case 'map': {
      const entries = mapEntries(v as object);
      const keyType = entries.length > 0 ? commonTypeName(entries.map((e) => e[0]), objectsAreMaps) : 'string';
      return `map[${keyType}]${elementTypeName(entries.map((e) => e[1]), objectsAreMaps)}`;
    }
    case 'struct':
      return structTypeName(v as object);
  }
}

function elementTypeName(values: readonly unknown[], objectsAreMaps: boolean): string {
  return values.length > 0 ? commonTypeName(values, objectsAreMaps) : 'interface {}';
}

function commonTypeName(values: readonly unknown[], objectsAreMaps: boolean): string {
  const first = typeName(values[0], objectsAreMaps);
  if (first === '<nil>') return 'interface {}';
  return values.every((x) => typeName(x, objectsAreMaps) === first) ? first : 'interface {}';
}

function structTypeName(v: object): string {
  const tag = (v as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];
  if (typeof tag === 'string' && tag !== '') return tag;
  const ctor = (Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null)?.constructor;
  if (ctor && typeof ctor.name === 'string' && ctor.name !== '' && ctor.name !== 'Object') return ctor.name;
  return 'struct';
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

/** Go strings are bytes: len, index, slice and truncate count UTF-8 bytes. */
export function utf8Bytes(s: string): Uint8Array {
  return utf8.encode(s);
}

export function utf8Length(s: string): number {
  // Fast path: ASCII strings have as many bytes as UTF-16 units.
  return /^[\x00-\x7f]*$/.test(s) ? s.length : utf8.encode(s).length;
}

/** Decodes bytes; a cut through a multi-byte character becomes U+FFFD, as a terminal shows it. */
export function utf8Decode(b: Uint8Array): string {
  return utf8Decoder.decode(b);
}

/** The byte slice s[from:to] of a Go string. */
export function sliceBytes(s: string, from: number, to: number): string {
  if (/^[\x00-\x7f]*$/.test(s)) return s.slice(from, to);
  return utf8Decode(utf8.encode(s).subarray(from, to));
}
