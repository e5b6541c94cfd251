// The local volume driver's options (docker's `-o type=... -o device=... -o o=...`): which are
// accepted, and how a volume that has them is mounted on its _data directory and taken down.
// The messages are docker's, so that scripts matching them keep working.
import { readFileSync } from 'node:fs';
import { parseMountOptions, MS } from '../../runtime/spec/mount-options.ts';
import { mount, umount2, MNT_DETACH } from '../../sys/index.ts';
import { parseBytes } from '../units.ts';

/** A bad request: docker answers these with 400 (InvalidParameter). */
export class InvalidVolumeError extends Error {
  override name = 'InvalidVolumeError';
}

const VALID_OPTIONS = new Set(['type', 'o', 'device', 'size']);
// Each option that needs others, checked in this order so the message is stable.
const REQUIRED_WITH: readonly [string, readonly string[]][] = [
  ['device', ['type']],
  ['type', ['device']],
  ['o', ['device', 'type']],
];

/** docker's validateOpts for the local driver. Throws InvalidVolumeError. */
export function validateLocalOptions(options: Record<string, string>): void {
  const keys = Object.keys(options);
  if (keys.length === 0) return;
  for (const key of keys) {
    if (!VALID_OPTIONS.has(key)) throw new InvalidVolumeError(`invalid option: ${JSON.stringify(key)}`);
  }
  if (Object.hasOwn(options, 'size')) {
    // A size is a quota, which needs project quotas on the backing filesystem; hull has none.
    let size: number;
    try {
      size = parseBytes(options.size!);
    } catch (err) {
      throw new InvalidVolumeError((err as Error).message);
    }
    if (size > 0) throw new InvalidVolumeError('quota size requested but no quota support');
  }
  for (const [key, needs] of REQUIRED_WITH) {
    if (!Object.hasOwn(options, key)) continue;
    for (const need of needs) {
      if (!Object.hasOwn(options, need)) throw new InvalidVolumeError(`missing required option: ${JSON.stringify(need)}`);
    }
  }
}

/** Whether a volume with these options is a mount (tmpfs, nfs, a bind, a device), not a plain directory. */
export function needsMount(options: Record<string, string>): boolean {
  return Boolean(options.type || options.device);
}

/**
 * Mounts the volume's filesystem on target as docker's local driver does: the options in `o`
 * that are mount flags become flags, the rest is the filesystem's data; a propagation option is
 * its own call, and a read-only bind is remounted read-only (a bind ignores MS_RDONLY).
 * Nothing stays mounted when it fails.
 */
export function mountLocal(options: Record<string, string>, target: string): void {
  const device = options.device ?? '';
  if (!device) throw new Error('failed to mount local volume: missing device in volume options');
  const fstype = options.type ?? '';
  const parsed = splitMountOptions(options.o ?? '');
  const shown = (data: string) => data.replace(/password=[^,]*/, 'password=********');
  try {
    call('mount', device, target, parsed.flags, parsed.data, () => mount(device, target, fstype || null, parsed.flags, parsed.data || null), shown);
  } catch (err) {
    throw new Error(`failed to mount local volume: ${(err as Error).message}`, { cause: err });
  }
  try {
    for (const p of parsed.propagation) call('remount', '', target, p, '', () => mount(null, target, null, p, null), shown);
    if ((parsed.flags & (MS.BIND | MS.RDONLY)) === (MS.BIND | MS.RDONLY)) {
      const flags = parsed.flags | MS.REMOUNT;
      call('remount-ro', '', target, flags, '', () => mount(null, target, null, flags, null), shown);
    }
  } catch (err) {
    unmountAll(target);
    throw new Error(`failed to mount local volume: ${(err as Error).message}`, { cause: err });
  }
}

interface SplitOptions {
  flags: number;
  propagation: number[];
  data: string;
}

// The options that mount(2) takes as flags, as moby/sys/mount's parser knows them; anything else
// (size=10m, uid=1000, addr=..., and runc-only names like rro) goes to the filesystem as data.
function splitMountOptions(o: string): SplitOptions {
  const names = o === '' ? [] : o.split(',');
  const flagNames: string[] = [];
  const data: string[] = [];
  for (const name of names) {
    const one = parseMountOptions([name]);
    const runcOnly = one.attrSet !== 0 || one.attrClear !== 0 || one.idmap || one.tmpcopyup;
    if (one.data.length > 0 || runcOnly) data.push(name);
    else flagNames.push(name);
  }
  const parsed = parseMountOptions(flagNames);
  return { flags: parsed.flags, propagation: parsed.propagation, data: data.join(',') };
}

// moby/sys/mount's error text: "mount tmpfs:/path, flags: 0x1, data: size=x: invalid argument".
function call(op: string, source: string, target: string, flags: number, data: string, fn: () => void, shown: (d: string) => string): void {
  try {
    fn();
  } catch (err) {
    let text = `${op} ${source ? `${source}:${target}` : target}`;
    if (flags) text += `, flags: 0x${flags.toString(16)}`;
    if (data) text += `, data: ${shown(data)}`;
    throw new Error(`${text}: ${errnoText(err)}`, { cause: err });
  }
}

// Go's texts for the errors mount(2) gives most (libuv's differ for some, e.g. EBUSY).
const ERRNO_TEXT: Record<number, string> = {
  1: 'operation not permitted',
  2: 'no such file or directory',
  5: 'input/output error',
  6: 'no such device or address',
  12: 'cannot allocate memory',
  13: 'permission denied',
  15: 'block device required',
  16: 'device or resource busy',
  19: 'no such device',
  20: 'not a directory',
  22: 'invalid argument',
  28: 'no space left on device',
  30: 'read-only file system',
  36: 'file name too long',
  38: 'function not implemented',
  40: 'too many levels of symbolic links',
  95: 'operation not supported',
  110: 'connection timed out',
  111: 'connection refused',
  113: 'no route to host',
};

/** The system error's text as Go prints it ("invalid argument"). */
export function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const known = typeof e.errno === 'number' ? ERRNO_TEXT[Math.abs(e.errno)] : undefined;
  if (known) return known;
  // "EINVAL: invalid argument, mount '/x'" -> "invalid argument"
  const m = /^[^:]+: (.*?), \w+ '/.exec(e.message ?? '');
  return m ? m[1]! : String(e.message ?? err);
}

/** Mount points in this process's mount namespace, unescaped (mountinfo writes " " as \040). */
export function mountPoints(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const points: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const field = line.split(' ')[4];
    if (field) points.push(field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))));
  }
  return points;
}

/** How many mounts are stacked on exactly this path. */
export function mountCount(path: string): number {
  return mountPoints().filter((p) => p === path).length;
}

/** Mount points at dir or below it. */
export function mountsUnder(dir: string): string[] {
  return mountPoints().filter((p) => p === dir || p.startsWith(dir + '/'));
}

/** Unmounts every mount stacked on path (a lazy detach, as docker does); throws if one stays. */
export function unmountAll(path: string): void {
  for (let n = mountCount(path); n > 0; n = mountCount(path)) {
    try {
      umount2(path, MNT_DETACH);
    } catch (err) {
      // EINVAL: it went away between reading mountinfo and the call
      if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
    }
    if (mountCount(path) >= n) throw new Error(`unmount ${path}: still mounted`);
  }
}
