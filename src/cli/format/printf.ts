// Go's fmt, as templates use it: Sprint, Sprintln, Sprintf and the printing of {{.}}.
// Values follow the mapping in value.ts. JavaScript has one number type, so the float
// verbs (%e %f %g) also accept integral numbers, where Go would insist on a float64.

import { kindOf, mapEntries, typeName, utf8Bytes } from './value.ts';
import { formatFloat } from './float.ts';

interface Spec {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid: number;
  widPresent: boolean;
  prec: number;
  precPresent: boolean;
}

function cleanSpec(): Spec {
  return {
    plus: false, minus: false, sharp: false, space: false, zero: false, plusV: false, sharpV: false,
    wid: 0, widPresent: false, prec: 0, precPresent: false,
  };
}

export interface PrintOptions {
  /** Print plain objects as maps (docker's fallback pass over decoded JSON). */
  readonly objectsAreMaps?: boolean;
}

/** fmt.Sprint: operands separated by a space when neither side is a string. */
export function sprint(args: readonly unknown[], options: PrintOptions = {}): string {
  const p = new Printer(options);
  args.forEach((arg, i) => {
    if (i > 0 && typeof arg !== 'string' && typeof args[i - 1] !== 'string') p.out += ' ';
    p.printArg(arg, 'v', cleanSpec());
  });
  return p.out;
}

/** fmt.Sprintln: operands always separated by spaces, and a newline at the end. */
export function sprintln(args: readonly unknown[], options: PrintOptions = {}): string {
  const p = new Printer(options);
  args.forEach((arg, i) => {
    if (i > 0) p.out += ' ';
    p.printArg(arg, 'v', cleanSpec());
  });
  return `${p.out}\n`;
}

/** fmt.Sprintf, including Go's in-band error reports such as %!d(string=x). */
export function sprintf(format: string, args: readonly unknown[], options: PrintOptions = {}): string {
  const p = new Printer(options);
  p.doPrintf(format, args);
  return p.out;
}

/** The %v form of one value, as {{.}} prints it. */
export function formatValue(v: unknown, options: PrintOptions = {}): string {
  const p = new Printer(options);
  p.printArg(v, 'v', cleanSpec());
  return p.out;
}

const MAX_WIDTH = 1e6;

class Printer {
  out = '';
  private readonly maps: boolean;

  constructor(options: PrintOptions) {
    this.maps = options.objectsAreMaps ?? false;
  }

  doPrintf(format: string, args: readonly unknown[]): void {
    const end = format.length;
    let argNum = 0;
    let afterIndex = false;
    let reordered = false;
    let i = 0;
    while (i < end) {
      let goodArgNum = true;
      const lasti = i;
      while (i < end && format[i] !== '%') i++;
      if (i > lasti) this.out += format.slice(lasti, i);
      if (i >= end) break;
      i++;
      const f = cleanSpec();
      let simple = false;
      flags: for (; i < end; i++) {
        const c = format[i] as string;
        switch (c) {
          case '#':
            f.sharp = true;
            break;
          case '0':
            f.zero = !f.minus;
            break;
          case '+':
            f.plus = true;
            break;
          case '-':
            f.minus = true;
            f.zero = false;
            break;
          case ' ':
            f.space = true;
            break;
          default:
            if (c >= 'a' && c <= 'z' && argNum < args.length) {
              this.printVerb(args[argNum], c, f);
              argNum++;
              i++;
              simple = true;
            }
            break flags;
        }
      }
      if (simple) continue;

      const argIndex = (at: number): { at: number; found: boolean } => {
        if (at >= end || format[at] !== '[') return { at, found: false };
        reordered = true;
        const close = format.indexOf(']', at + 1);
        if (close < 0) {
          goodArgNum = false;
          return { at: at + 1, found: false };
        }
        const text = format.slice(at + 1, close);
        const n = /^[0-9]+$/.test(text) ? Number(text) - 1 : -1;
        if (n >= 0 && n < args.length) {
          argNum = n;
          return { at: close + 1, found: true };
        }
        goodArgNum = false;
        return { at: close + 1, found: /^[0-9]+$/.test(text) };
      };

      ({ at: i, found: afterIndex } = argIndex(i));
      if (i < end && format[i] === '*') {
        i++;
        const w = intFromArg(args, argNum);
        argNum = w.argNum;
        f.wid = w.value;
        f.widPresent = w.ok;
        if (!w.ok) this.out += '%!(BADWIDTH)';
        if (f.wid < 0) {
          f.wid = -f.wid;
          f.minus = true;
          f.zero = false;
        }
        afterIndex = false;
      } else {
        const n = parseNum(format, i, end);
        f.wid = n.value;
        f.widPresent = n.ok;
        i = n.at;
        if (afterIndex && f.widPresent) goodArgNum = false;
      }
      if (i + 1 < end && format[i] === '.') {
        i++;
        if (afterIndex) goodArgNum = false;
        ({ at: i, found: afterIndex } = argIndex(i));
        if (i < end && format[i] === '*') {
          i++;
          const pr = intFromArg(args, argNum);
          argNum = pr.argNum;
          f.prec = pr.value;
          f.precPresent = pr.ok;
          if (f.prec < 0) {
            f.prec = 0;
            f.precPresent = false;
          }
          if (!pr.ok) this.out += '%!(BADPREC)';
          afterIndex = false;
        } else {
          const n = parseNum(format, i, end);
          f.prec = n.ok ? n.value : 0;
          f.precPresent = true;
          i = n.at;
        }
      }
      if (!afterIndex) ({ at: i, found: afterIndex } = argIndex(i));
      if (i >= end) {
        this.out += '%!(NOVERB)';
        break;
      }
      const verb = String.fromCodePoint(format.codePointAt(i) as number);
      i += verb.length;
      if (verb === '%') {
        this.out += '%';
      } else if (!goodArgNum) {
        this.out += `%!${verb}(BADINDEX)`;
      } else if (argNum >= args.length) {
        this.out += `%!${verb}(MISSING)`;
      } else {
        this.printVerb(args[argNum], verb, f);
        argNum++;
      }
    }
    if (!reordered && argNum < args.length) {
      this.out += '%!(EXTRA ';
      args.slice(argNum).forEach((arg, k) => {
        if (k > 0) this.out += ', ';
        if (arg === null || arg === undefined) {
          this.out += '<nil>';
        } else {
          this.out += `${typeName(arg, this.maps)}=`;
          this.printArg(arg, 'v', cleanSpec());
        }
      });
      this.out += ')';
    }
  }

  private printVerb(arg: unknown, verb: string, f: Spec): void {
    if (verb === 'v') {
      f.sharpV = f.sharp;
      f.sharp = false;
      f.plusV = f.plus;
      f.plus = false;
    }
    this.printArg(arg, verb, f);
  }

  printArg(arg: unknown, verb: string, f: Spec): void {
    if (arg === undefined || arg === null) {
      if (verb === 'T' || verb === 'v') this.pad('<nil>', f);
      else this.badVerb(arg, verb);
      return;
    }
    if (verb === 'T') {
      this.fmtS(typeName(arg, this.maps), f);
      return;
    }
    if (verb === 'p') {
      this.badVerb(arg, verb, f);
      return;
    }
    switch (kindOf(arg, this.maps)) {
      case 'bool':
        if (verb === 't' || verb === 'v') this.pad(arg ? 'true' : 'false', f);
        else this.badVerb(arg, verb, f);
        return;
      case 'int':
        this.fmtNumber(arg as number | bigint, true, verb, f);
        return;
      case 'float':
        this.fmtNumber(arg as number, false, verb, f);
        return;
      case 'string':
        this.fmtString(arg as string, verb, f);
        return;
      case 'time':
        this.fmtString(goTimeString(arg as Date), verb, f);
        return;
      case 'slice': {
        this.out += '[';
        (arg as unknown[]).forEach((el, i) => {
          if (i > 0) this.out += ' ';
          this.printArg(el, verb, f);
        });
        this.out += ']';
        return;
      }
      case 'map': {
        this.out += 'map[';
        mapEntries(arg as object).forEach(([k, v], i) => {
          if (i > 0) this.out += ' ';
          this.printArg(k, verb, f);
          this.out += ':';
          this.printArg(v, verb, f);
        });
        this.out += ']';
        return;
      }
      case 'func':
        this.pad('func', f);
        return;
      case 'struct': {
        const stringer = stringerOf(arg as object);
        if (stringer !== undefined && (verb === 'v' || verb === 's' || verb === 'q' || verb === 'x' || verb === 'X')) {
          this.fmtString(stringer, verb, f);
          return;
        }
        this.out += '{';
        // Function properties are methods, which Go does not print.
        const fields = Object.entries(arg as object).filter(([, v]) => typeof v !== 'function');
        fields.forEach(([k, v], i) => {
          if (i > 0) this.out += ' ';
          if (f.plusV) this.out += `${k}:`;
          this.printArg(v, verb, f);
        });
        this.out += '}';
        return;
      }
      default:
        this.badVerb(arg, verb, f);
    }
  }

  /** Go's in-band report of a verb that does not fit the value; the value keeps the verb's flags. */
  private badVerb(arg: unknown, verb: string, f: Spec = cleanSpec()): void {
    this.out += `%!${verb}(`;
    if (arg === undefined || arg === null) {
      this.out += '<nil>';
    } else {
      this.out += `${typeName(arg, this.maps)}=`;
      this.printArg(arg, 'v', f);
    }
    this.out += ')';
  }

  private fmtString(s: string, verb: string, f: Spec): void {
    switch (verb) {
      case 'v':
        if (f.sharpV) this.pad(quote(s, false), f);
        else this.fmtS(s, f);
        return;
      case 's':
        this.fmtS(s, f);
        return;
      case 'x':
      case 'X':
        this.fmtHex(truncateRunes(s, f), verb === 'X', f);
        return;
      case 'q': {
        const t = truncateRunes(s, f);
        if (f.sharp && canBackquote(t)) this.pad(`\`${t}\``, f);
        else this.pad(quote(t, f.plus), f);
        return;
      }
      default:
        this.badVerb(s, verb, f);
    }
  }

  private fmtS(s: string, f: Spec): void {
    this.pad(truncateRunes(s, f), f);
  }

  private fmtHex(s: string, upper: boolean, f: Spec): void {
    const bytes = utf8Bytes(s);
    const digits = upper ? '0123456789ABCDEF' : '0123456789abcdef';
    if (bytes.length === 0) {
      if (f.widPresent) this.out += padding(f.wid, f);
      return;
    }
    let out = '';
    if (f.sharp) out += upper ? '0X' : '0x';
    bytes.forEach((b, i) => {
      if (f.space && i > 0) {
        out += ' ';
        if (f.sharp) out += upper ? '0X' : '0x';
      }
      out += (digits[b >> 4] as string) + (digits[b & 15] as string);
    });
    this.pad(out, f);
  }

  private fmtNumber(n: number | bigint, integral: boolean, verb: string, f: Spec): void {
    switch (verb) {
      case 'v':
        if (integral) this.fmtInteger(BigInt(n), 10, verb, f);
        else this.fmtFloat(Number(n), 'g', -1, f);
        return;
      case 'd':
      case 'b':
      case 'o':
      case 'O':
      case 'x':
      case 'X':
      case 'c':
      case 'q':
      case 'U':
        if (!integral) {
          this.badVerb(n, verb, f);
          return;
        }
        this.fmtIntegerVerb(BigInt(n), verb, f);
        return;
      case 'e':
      case 'E':
      case 'f':
      case 'F':
        this.fmtFloat(Number(n), verb === 'F' ? 'f' : verb, 6, f);
        return;
      case 'g':
      case 'G':
        this.fmtFloat(Number(n), verb, -1, f);
        return;
      default:
        this.badVerb(n, verb, f);
    }
  }

  private fmtIntegerVerb(n: bigint, verb: string, f: Spec): void {
    switch (verb) {
      case 'd':
        this.fmtInteger(n, 10, verb, f);
        return;
      case 'b':
        this.fmtInteger(n, 2, verb, f);
        return;
      case 'o':
      case 'O':
        this.fmtInteger(n, 8, verb, f);
        return;
      case 'x':
      case 'X':
        this.fmtInteger(n, 16, verb, f);
        return;
      case 'c':
        this.pad(runeString(n), f);
        return;
      case 'q':
        this.pad(quoteRune(n, f.plus), f);
        return;
      case 'U': {
        let s = `U+${n.toString(16).toUpperCase().padStart(4, '0')}`;
        const r = runeString(n);
        if (f.sharp && n <= 0x10ffffn && isPrint(r)) s += ` '${r}'`;
        this.pad(s, f);
        return;
      }
    }
  }

  private fmtInteger(n: bigint, base: number, verb: string, f: Spec): void {
    const negative = n < 0n;
    const u = negative ? -n : n;
    let prec = 0;
    if (f.precPresent) {
      prec = f.prec;
      if (prec === 0 && u === 0n) {
        this.out += padding(f.wid, { ...f, zero: false });
        return;
      }
    } else if (f.zero && f.widPresent) {
      prec = f.wid;
      if (negative || f.plus || f.space) prec--;
    }
    let digits = u.toString(base);
    if (verb === 'X') digits = digits.toUpperCase();
    if (digits.length < prec) digits = digits.padStart(prec, '0');
    if (f.sharp) {
      if (base === 2) digits = `0b${digits}`;
      else if (base === 8 && !digits.startsWith('0')) digits = `0${digits}`;
      else if (base === 16) digits = (verb === 'X' ? '0X' : '0x') + digits;
    }
    if (verb === 'O') digits = `0o${digits}`;
    if (negative) digits = `-${digits}`;
    else if (f.plus) digits = `+${digits}`;
    else if (f.space) digits = ` ${digits}`;
    this.pad(digits, { ...f, zero: false });
  }

  private fmtFloat(v: number, verb: string, defaultPrec: number, f: Spec): void {
    const prec = f.precPresent ? f.prec : defaultPrec;
    const lower = verb.toLowerCase() as 'e' | 'f' | 'g';
    let num = formatFloat(v, lower, prec);
    if (verb === 'E' || verb === 'G') num = num.toUpperCase();
    if (num[0] !== '-' && num[0] !== '+') num = `+${num}`;
    if (f.space && num[0] === '+' && !f.plus) num = ` ${num.slice(1)}`;
    if (num[1] === 'I' || num[1] === 'N') {
      if (num[1] === 'N' && !f.space && !f.plus) num = num.slice(1);
      this.pad(num, { ...f, zero: false });
      return;
    }
    if (f.sharp) num = keepTrailingZeros(num, lower, prec);
    if (f.plus || num[0] !== '+') {
      if (f.zero && f.widPresent && f.wid > num.length) {
        this.out += (num[0] as string) + '0'.repeat(f.wid - num.length) + num.slice(1);
        return;
      }
      this.pad(num, f);
      return;
    }
    this.pad(num.slice(1), f);
  }

  private pad(s: string, f: Spec): void {
    if (!f.widPresent || f.wid === 0) {
      this.out += s;
      return;
    }
    const fill = padding(f.wid - runeCount(s), f);
    this.out += f.minus ? s + fill : fill + s;
  }
}

/**
 * The # flag on floats: always a decimal point, and %g/%v keep their trailing zeros
 * up to the precision (6 by default). num starts with its sign.
 */
function keepTrailingZeros(num: string, fmt: 'e' | 'f' | 'g', prec: number): string {
  let digits = fmt === 'g' ? (prec === -1 ? 6 : prec) : 0;
  let tail = '';
  const e = num.search(/[eE]/);
  let body = num;
  if (e >= 0) {
    tail = num.slice(e);
    body = num.slice(0, e);
  }
  let sawNonzero = false;
  for (const c of body.slice(1)) {
    if (c === '.') continue;
    if (c !== '0') sawNonzero = true;
    if (sawNonzero) digits--;
  }
  if (!body.includes('.')) {
    if (body.length === 2 && body[1] === '0') digits--;
    body += '.';
  }
  if (digits > 0) body += '0'.repeat(digits);
  return body + tail;
}

function padding(n: number, f: Spec): string {
  if (n <= 0) return '';
  return (f.zero ? '0' : ' ').repeat(n);
}

function parseNum(s: string, start: number, end: number): { value: number; ok: boolean; at: number } {
  let i = start;
  let value = 0;
  while (i < end && (s[i] as string) >= '0' && (s[i] as string) <= '9') {
    if (value > MAX_WIDTH) return { value: 0, ok: false, at: end };
    value = value * 10 + Number(s[i]);
    i++;
  }
  return { value, ok: i > start, at: i };
}

function intFromArg(args: readonly unknown[], argNum: number): { value: number; ok: boolean; argNum: number } {
  if (argNum >= args.length) return { value: 0, ok: false, argNum };
  const a = args[argNum];
  const n = typeof a === 'bigint' ? Number(a) : a;
  if (typeof n === 'number' && Number.isInteger(n) && Math.abs(n) <= MAX_WIDTH) return { value: n, ok: true, argNum: argNum + 1 };
  return { value: 0, ok: false, argNum: argNum + 1 };
}

function truncateRunes(s: string, f: Spec): string {
  if (!f.precPresent) return s;
  const runes = Array.from(s);
  return runes.length > f.prec ? runes.slice(0, f.prec).join('') : s;
}

function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function runeString(n: bigint): string {
  if (n < 0n || n > 0x10ffffn || (n >= 0xd800n && n <= 0xdfffn)) return '\ufffd';
  return String.fromCodePoint(Number(n));
}

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrint(r: string): boolean {
  return r === ' ' || printable.test(r);
}

/** strconv.Quote (or QuoteToASCII): a double-quoted Go string literal. */
export function quote(s: string, asciiOnly = false): string {
  let out = '"';
  for (const r of s) out += quoteChar(r, '"', asciiOnly);
  return `${out}"`;
}

/** strconv.QuoteRune: a single-quoted Go rune literal. */
export function quoteRune(n: bigint, asciiOnly = false): string {
  return `'${quoteChar(runeString(n), "'", asciiOnly)}'`;
}

function quoteChar(r: string, q: string, asciiOnly: boolean): string {
  const cp = r.codePointAt(0) as number;
  if (r === q || r === '\\') return `\\${r}`;
  if (cp >= 0xd800 && cp <= 0xdfff) return '\\ufffd';
  if (asciiOnly ? cp < 0x80 && isPrint(r) : isPrint(r)) return r;
  switch (r) {
    case '\x07':
      return '\\a';
    case '\b':
      return '\\b';
    case '\f':
      return '\\f';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    case '\v':
      return '\\v';
  }
  if (cp < 0x20 || cp === 0x7f) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return `\\U${cp.toString(16).padStart(8, '0')}`;
}

function canBackquote(s: string): boolean {
  for (const r of s) {
    const cp = r.codePointAt(0) as number;
    if (r === '`' || cp === 0xfeff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    if ((cp < 0x20 && r !== '\t') || cp === 0x7f) return false;
  }
  return true;
}

/** What fmt prints for values with a String() or Error() method. */
function stringerOf(v: object): string | undefined {
  if (v instanceof Error) return v.message;
  const toString = (v as { toString?: unknown }).toString;
  if (typeof toString === 'function' && toString !== Object.prototype.toString) {
    const s: unknown = toString.call(v);
    return typeof s === 'string' ? s : undefined;
  }
  return undefined;
}

/** time.Time's String form, in UTC: "2006-01-02 15:04:05.999999999 +0000 UTC". */
function goTimeString(d: Date): string {
  if (Number.isNaN(d.getTime())) return '<invalid time>';
  const iso = d.toISOString(); // 2006-01-02T15:04:05.123Z
  const ms = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms ? `.${ms}` : ''} +0000 UTC`;
}
