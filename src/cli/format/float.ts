// strconv.FormatFloat for float64 with the 'e', 'f' and 'g' formats.
// JavaScript's toFixed rounds exact halves up; Go rounds them to even, so
// fixed-precision digits come from the value's exact decimal expansion.

/** A decimal: the value is 0.digits × 10^dp; digits has no leading or trailing zeros. */
interface Decimal {
  digits: string;
  dp: number;
}

/** Formats like strconv.FormatFloat(v, fmt, prec, 64); prec -1 means the shortest exact form. */
export function formatFloat(v: number, fmt: 'e' | 'f' | 'g', prec: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const neg = v < 0 || Object.is(v, -0);
  const a = Math.abs(v);
  const shortest = prec < 0;
  let d: Decimal;
  if (shortest) {
    d = shortestDecimal(a);
    switch (fmt) {
      case 'e':
        prec = Math.max(d.digits.length - 1, 0);
        break;
      case 'f':
        prec = Math.max(d.digits.length - d.dp, 0);
        break;
      case 'g':
        prec = d.digits.length;
        break;
    }
  } else {
    d = exactDecimal(a);
    switch (fmt) {
      case 'e':
        d = roundTo(d, prec + 1);
        break;
      case 'f':
        d = roundTo(d, d.dp + prec);
        break;
      case 'g':
        if (prec === 0) prec = 1;
        d = roundTo(d, prec);
        break;
    }
  }
  const sign = neg ? '-' : '';
  switch (fmt) {
    case 'e':
      return sign + fmtE(d, prec);
    case 'f':
      return sign + fmtF(d, prec);
    case 'g': {
      let eprec = prec;
      if (eprec > d.digits.length && d.digits.length >= d.dp) eprec = d.digits.length;
      if (shortest) eprec = 6;
      const exp = d.dp - 1;
      if (d.digits.length > 0 && (exp < -4 || exp >= eprec)) {
        return sign + fmtE(d, Math.min(prec, d.digits.length) - 1);
      }
      const p = prec > d.dp ? d.digits.length : prec;
      return sign + fmtF(d, Math.max(p - d.dp, 0));
    }
  }
}

function fmtE(d: Decimal, prec: number): string {
  let out = d.digits.length > 0 ? (d.digits[0] as string) : '0';
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) out += i < d.digits.length ? (d.digits[i] as string) : '0';
  }
  const exp = d.digits.length === 0 ? 0 : d.dp - 1;
  const abs = Math.abs(exp);
  return `${out}e${exp < 0 ? '-' : '+'}${abs < 10 ? `0${abs}` : String(abs)}`;
}

function fmtF(d: Decimal, prec: number): string {
  let out = '';
  if (d.dp > 0) {
    out = d.digits.slice(0, d.dp).padEnd(d.dp, '0');
  } else {
    out = '0';
  }
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) {
      const j = d.dp + i - 1;
      out += j >= 0 && j < d.digits.length ? (d.digits[j] as string) : '0';
    }
  }
  return out;
}

function shortestDecimal(a: number): Decimal {
  if (a === 0) return { digits: '', dp: 0 };
  // toExponential() without an argument gives the fewest digits that round-trip.
  const [mant, exp] = a.toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '').replace(/0+$/, '');
  return { digits, dp: Number(exp) + 1 };
}

function exactDecimal(a: number): Decimal {
  if (a === 0) return { digits: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, a);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let exp: number;
  if (biased === 0) {
    exp = -1074;
  } else {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  let digits: string;
  let dp: number;
  if (exp >= 0) {
    digits = (mant << BigInt(exp)).toString();
    dp = digits.length;
  } else {
    // mant / 2^k == mant * 5^k / 10^k
    const k = -exp;
    digits = (mant * 5n ** BigInt(k)).toString();
    dp = digits.length - k;
  }
  const trimmed = digits.replace(/0+$/, '');
  return { digits: trimmed, dp };
}

/** Keeps n significant digits, rounding an exact half to even as Go does. */
function roundTo(d: Decimal, n: number): Decimal {
  if (n < 0 || d.digits.length === 0) return { digits: '', dp: 0 };
  if (n >= d.digits.length) return d;
  const next = d.digits.charCodeAt(n) - 48;
  let up: boolean;
  if (next > 5) up = true;
  else if (next < 5) up = false;
  else if (n + 1 < d.digits.length) up = true;
  else up = n > 0 && (d.digits.charCodeAt(n - 1) - 48) % 2 === 1;
  if (!up) {
    const digits = d.digits.slice(0, n).replace(/0+$/, '');
    return digits === '' ? { digits: '', dp: 0 } : { digits, dp: d.dp };
  }
  // Round up: increment the kept digits, carrying through nines.
  let i = n - 1;
  while (i >= 0 && d.digits[i] === '9') i--;
  if (i < 0) return { digits: '1', dp: d.dp + 1 };
  const digits = d.digits.slice(0, i) + String.fromCharCode(d.digits.charCodeAt(i) + 1);
  return { digits, dp: d.dp };
}
