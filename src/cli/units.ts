// Sizes and durations as docker prints them (go-units: HumanSizeWithPrecision and HumanDuration).

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** 4261000 → "4.26MB": decimal units, `precision` significant digits, as `docker images` shows sizes. */
export function humanSize(bytes: number, precision = 3): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < DECIMAL.length - 1) {
    size /= 1000;
    i++;
  }
  return `${goG(size, precision)}${DECIMAL[i]}`;
}

/** Go's %.<p>g: significant digits, trailing zeros dropped. */
function goG(value: number, precision: number): string {
  if (value === 0) return '0';
  const s = value.toPrecision(precision);
  if (s.includes('e')) {
    const [m, e] = s.split('e');
    const exp = Number(e);
    return `${trimZeros(m!)}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return trimZeros(s);
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** go-units HumanDuration: "Less than a second", "3 seconds", "About a minute", "2 weeks", ... */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

/** "2 weeks ago", or "N/A" for an unknown time, as docker's CREATED column. */
export function since(iso: string | null | undefined, now = Date.now()): string {
  const t = iso ? Date.parse(iso) : NaN;
  if (!Number.isFinite(t) || t <= 0) return 'N/A';
  return `${humanDuration(now - t)} ago`;
}

export { parseBytes } from '../engine/units.ts';
