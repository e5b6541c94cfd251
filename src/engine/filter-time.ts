// Points in time as docker's `until` and `since` filters take them: a Go duration counted back
// from now ("24h", "1h30m", "-10m"), an RFC 3339 date or time (in the local zone when it names
// none), or unix seconds with an optional fraction ("1700000000.5"). The rules and the order in
// which they are tried are docker's, so a value means the same thing to hull as to docker.
// Times are nanoseconds since the epoch, as bigint, because image configs record nanoseconds.

export class FilterTimeError extends Error {
  override name = 'FilterTimeError';
}

const NS_PER_MS = 1_000_000n;
const MAX_INT64 = (1n << 63n) - 1n;

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const DURATION_PART = /(\d*)(?:\.(\d*))?(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/y;

/** A Go duration (time.ParseDuration) in nanoseconds, or undefined when the text is not one. */
export function parseGoDuration(text: string): bigint | undefined {
  let s = text;
  let sign = 1n;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1n;
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return undefined;
  let total = 0;
  let at = 0;
  while (at < s.length) {
    DURATION_PART.lastIndex = at;
    const m = DURATION_PART.exec(s);
    if (!m) return undefined;
    const [whole, int = '', frac] = m;
    // Go needs digits on one side of the point at least: "5h", "5.h", ".5h", not ".h"
    if (int === '' && (frac === undefined || frac === '')) return undefined;
    total += Number(`${int || '0'}.${frac || '0'}`) * UNIT_NS[m[3]!]!;
    at += whole.length;
  }
  if (!Number.isFinite(total) || total > Number(MAX_INT64)) return undefined;
  return sign * BigInt(Math.round(total));
}

interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  /** Offset east of UTC in minutes; undefined for local time. */
  offset: number | undefined;
}

// The layouts docker picks between (Go reference-time notation, for messages), as patterns.
const DATE = '(\\d{4})-(\\d{2})-(\\d{2})';
const ZONE = '(Z|[+-]\\d{2}:\\d{2})';
const LAYOUTS = {
  nanoLocal: { go: '2006-01-02T15:04:05.999999999', re: new RegExp(`^${DATE}T(\\d{1,2}):(\\d{2}):(\\d{2})(?:\\.(\\d+))?$`) },
  nanoZoned: { go: '2006-01-02T15:04:05.999999999Z07:00', re: new RegExp(`^${DATE}T(\\d{1,2}):(\\d{2}):(\\d{2})(?:\\.(\\d+))?${ZONE}$`) },
  hourLocal: { go: '2006-01-02T15', re: new RegExp(`^${DATE}T(\\d{1,2})()()()$`) },
  minuteLocal: { go: '2006-01-02T15:04', re: new RegExp(`^${DATE}T(\\d{1,2}):(\\d{2})()()$`) },
  secondLocal: { go: '2006-01-02T15:04:05', re: new RegExp(`^${DATE}T(\\d{1,2}):(\\d{2}):(\\d{2})()$`) },
  hourZoned: { go: '2006-01-02T15Z07:00', re: new RegExp(`^${DATE}T(\\d{1,2})()()()${ZONE}$`) },
  minuteZoned: { go: '2006-01-02T15:04Z07:00', re: new RegExp(`^${DATE}T(\\d{1,2}):(\\d{2})()()${ZONE}$`) },
  secondZoned: { go: '2006-01-02T15:04:05Z07:00', re: new RegExp(`^${DATE}T(\\d{1,2}):(\\d{2}):(\\d{2})()${ZONE}$`) },
  dateLocal: { go: '2006-01-02', re: new RegExp(`^${DATE}()()()()$`) },
  dateZoned: { go: '2006-01-02Z07:00', re: new RegExp(`^${DATE}()()()()${ZONE}$`) },
} as const;

type Layout = (typeof LAYOUTS)[keyof typeof LAYOUTS];

/** The layout docker's timestamp parser tries for a value, by the characters it holds. */
function layoutFor(value: string): Layout {
  const zoned = /[zZ+]/.test(value) || value.split('-').length - 1 === 3;
  if (value.includes('.')) return zoned ? LAYOUTS.nanoZoned : LAYOUTS.nanoLocal;
  if (value.includes('T')) {
    let colons = value.split(':').length - 1;
    // a numeric zone offset brings a colon of its own
    if (zoned && !/[zZ]/.test(value) && colons > 0) colons--;
    if (colons === 0) return zoned ? LAYOUTS.hourZoned : LAYOUTS.hourLocal;
    if (colons === 1) return zoned ? LAYOUTS.minuteZoned : LAYOUTS.minuteLocal;
    return zoned ? LAYOUTS.secondZoned : LAYOUTS.secondLocal;
  }
  return zoned ? LAYOUTS.dateZoned : LAYOUTS.dateLocal;
}

function daysIn(year: number, month: number): number {
  return [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Fields of a value in a layout, or a Go-style parse error message. */
function fieldsOf(value: string, layout: Layout): Fields | string {
  const m = layout.re.exec(value);
  if (!m) return `parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout.go)}: it does not have that form`;
  const num = (i: number) => (m[i] ? Number(m[i]) : 0);
  const f: Fields = {
    year: num(1),
    month: num(2),
    day: num(3),
    hour: num(4),
    minute: num(5),
    second: num(6),
    // nanoseconds: Go reads at most nine digits of the fraction
    nanos: m[7] ? Number(m[7].slice(0, 9).padEnd(9, '0')) : 0,
    offset: undefined,
  };
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z') {
    const [h, mi] = zone.slice(1).split(':').map(Number) as [number, number];
    if (h > 23 || mi > 59) return `parsing time ${JSON.stringify(value)}: time zone offset out of range`;
    f.offset = (zone[0] === '-' ? -1 : 1) * (h * 60 + mi);
  } else if (zone === 'Z') f.offset = 0;
  const range = (what: string) => `parsing time ${JSON.stringify(value)}: ${what} out of range`;
  if (f.month < 1 || f.month > 12) return range('month');
  if (f.day < 1 || f.day > daysIn(f.year, f.month)) return range('day');
  if (f.hour > 23) return range('hour');
  if (f.minute > 59) return range('minute');
  if (f.second > 59) return range('second');
  return f;
}

function toNanos(f: Fields, localOffsetMinutes: number): bigint {
  const d = new Date(0);
  d.setUTCFullYear(f.year, f.month - 1, f.day);
  d.setUTCHours(f.hour, f.minute, f.second, 0);
  const offset = f.offset ?? localOffsetMinutes;
  return BigInt(d.getTime() - offset * 60_000) * NS_PER_MS + BigInt(f.nanos);
}

/** Unix seconds with an optional fraction ("1700000000", "1700000000.25"), as docker's parseTimestamp reads them. */
function unixNanos(value: string): bigint | undefined {
  const m = /^([+-]?\d+)(?:\.(\d+))?$/.exec(value);
  if (!m) return undefined;
  const seconds = BigInt(m[1]!);
  if (seconds > MAX_INT64 || seconds < -MAX_INT64) return undefined;
  const frac = m[2] ?? '';
  // docker scales the fraction by 10^(9 - digits): ".5" is half a second, not 5 ns
  const nanos = frac === '' ? 0n : BigInt(Math.floor(Number(frac) * 10 ** (9 - frac.length)));
  return seconds * 1_000_000_000n + nanos;
}

/**
 * The point in time a filter value names, in nanoseconds since the epoch. `now` is the reference
 * for durations (ms since the epoch), and its zone offset is the local zone's, as docker uses.
 */
export function parseFilterTime(value: string, now: number = Date.now()): bigint {
  const duration = value !== '0' ? parseGoDuration(value) : undefined;
  if (duration !== undefined) {
    // docker counts back from now in whole seconds
    const at = BigInt(now) * NS_PER_MS - duration;
    return (at / 1_000_000_000n - (at % 1_000_000_000n < 0n ? 1n : 0n)) * 1_000_000_000n;
  }
  const localOffset = -new Date(now).getTimezoneOffset();
  const fields = fieldsOf(value, layoutFor(value));
  if (typeof fields !== 'string') return toNanos(fields, localOffset);
  // with a dash it was meant as a date: its parse error says what is wrong
  if (value.includes('-')) throw new FilterTimeError(fields);
  const unix = unixNanos(value);
  if (unix === undefined) throw new FilterTimeError(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
  return unix;
}

/** An RFC 3339 time as image configs record it ("2024-05-01T10:00:00.123456789Z"), in nanoseconds; undefined when it is not one. */
export function rfc3339Nanos(text: string): bigint | undefined {
  const fields = fieldsOf(text, LAYOUTS.nanoZoned);
  return typeof fields === 'string' ? undefined : toNanos(fields, 0);
}
