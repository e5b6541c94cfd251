// Docker's filter semantics for volumes (ls and prune): which keys each accepts, and how a value
// matches. The messages are the daemon's ("invalid filter 'dangling=[maybe]'").
import { InvalidVolumeError } from './local-driver.ts';

export type Filters = Record<string, string[]>;

export const LIST_FILTERS = ['dangling', 'name', 'driver', 'label'] as const;
export const PRUNE_FILTERS = ['label', 'label!', 'all'] as const;

/** Go's fmt of a []string: "[a b]". */
function goList(values: readonly string[]): string {
  return `[${values.join(' ')}]`;
}

export function checkKeys(filters: Filters, accepted: readonly string[]): void {
  for (const key of Object.keys(filters)) {
    if (!accepted.includes(key)) throw new InvalidVolumeError(`invalid filter '${key}'`);
  }
}

/** A true/false filter ("1"/"0" too); both or neither is an error, as docker's GetBoolOrDefault. */
export function boolFilter(filters: Filters, key: string): boolean | undefined {
  const values = filters[key];
  if (!values) return undefined;
  const isTrue = values.includes('true') || values.includes('1');
  const isFalse = values.includes('false') || values.includes('0');
  if (isTrue === isFalse) throw new InvalidVolumeError(`invalid filter '${key}=${goList(values)}'`);
  return isTrue;
}

/** Every "k" or "k=v" in values is among labels (an empty list matches anything). */
export function matchLabels(values: readonly string[] | undefined, labels: Record<string, string>): boolean {
  if (!values || values.length === 0) return true;
  if (Object.keys(labels).length === 0) return false;
  return values.every((value) => {
    const eq = value.indexOf('=');
    const key = eq < 0 ? value : value.slice(0, eq);
    if (!Object.hasOwn(labels, key)) return false;
    return eq < 0 || labels[key] === value.slice(eq + 1);
  });
}

/** A name filter matches exactly or as an unanchored regular expression; a bad pattern matches nothing. */
export function matchName(values: readonly string[] | undefined, name: string): boolean {
  if (!values || values.length === 0) return true;
  if (values.includes(name)) return true;
  return values.some((pattern) => {
    try {
      return new RegExp(pattern).test(name);
    } catch {
      return false;
    }
  });
}

/** prune's "all" filter: one Go-style boolean. */
export function allFilter(filters: Filters): boolean {
  const values = filters.all;
  if (!values) return false;
  if (values.length > 1) throw new InvalidVolumeError(`invalid filter 'all=${goList(values)}': only one value is expected`);
  const v = values[0]!;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new InvalidVolumeError(`invalid filter 'all': strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
}
