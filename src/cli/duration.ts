// Go's time.ParseDuration ("1m30s", "500ms", "1.5h", "-2s"), which docker's duration flags
// (--health-interval and friends) use, with Go's error texts.

const NS_PER: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX = 1n << 63n;

/** Go's time-package quoting: like %q, but every byte outside printable ASCII becomes \xNN. */
function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x80 || c < 0x20) {
      for (const byte of Buffer.from(ch, 'utf8')) out += `\\x${byte.toString(16).padStart(2, '0')}`;
    } else {
      if (ch === '"' || ch === '\\') out += '\\';
      out += ch;
    }
  }
  return `${out}"`;
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/** Parses a Go duration into nanoseconds. Throws Go's "time: invalid duration ..." errors. */
export function parseDuration(text: string): bigint {
  const invalid = () => new Error(`time: invalid duration ${quote(text)}`);
  let s = text;
  let negative = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();
  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || isDigit(s[0]))) throw invalid();
    let i = 0;
    let whole = 0n;
    while (isDigit(s[i])) {
      whole = whole * 10n + BigInt(s.charCodeAt(i) - 48);
      if (whole >= MAX) throw invalid();
      i++;
    }
    const sawWhole = i > 0;
    s = s.slice(i);
    let fraction = 0n;
    let scale = 1;
    let sawFraction = false;
    if (s[0] === '.') {
      s = s.slice(1);
      let j = 0;
      let overflow = false;
      while (isDigit(s[j])) {
        // like Go, digits past what an int64 holds are read but no longer counted
        if (!overflow) {
          const next = fraction * 10n + BigInt(s.charCodeAt(j) - 48);
          if (next >= MAX) overflow = true;
          else {
            fraction = next;
            scale *= 10;
          }
        }
        j++;
      }
      sawFraction = j > 0;
      s = s.slice(j);
    }
    if (!sawWhole && !sawFraction) throw invalid();
    let u = 0;
    while (u < s.length && !(s[u] === '.' || isDigit(s[u]))) u++;
    if (u === 0) throw new Error(`time: missing unit in duration ${quote(text)}`);
    const unitName = s.slice(0, u);
    s = s.slice(u);
    const unit = NS_PER[unitName];
    if (unit === undefined) throw new Error(`time: unknown unit ${quote(unitName)} in duration ${quote(text)}`);
    if (whole > MAX / unit) throw invalid();
    let value = whole * unit;
    if (fraction > 0n) {
      value += BigInt(Math.trunc(Number(fraction) * (Number(unit) / scale)));
      if (value > MAX) throw invalid();
    }
    total += value;
    if (total > MAX) throw invalid();
  }
  if (negative) return -total;
  if (total > MAX - 1n) throw invalid();
  return total;
}
