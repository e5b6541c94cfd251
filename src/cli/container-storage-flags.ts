// The storage values of `run`/`create`: -v/--volume, --mount, --tmpfs, --volumes-from,
// --device and --device-cgroup-rule. Each is read with docker's CLI grammar and then checked
// as docker's daemon checks it, so a bad one fails before anything is made, with docker's words.
import { statSync } from 'node:fs';
import { posix } from 'node:path';
import type { DeviceMapping, MountSpec } from '../engine/containers/model.ts';
import { goQuote, parseBool, parseUint, ramInBytes, readCsvRecord } from './go-strconv.ts';

const PROPAGATIONS = new Set(['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared']);
const LABEL_MODES = new Set(['z', 'Z']);
const CONSISTENCY_MODES = new Set(['consistent', 'cached', 'delegated']);
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

// ---- -v / --volume ----

/** The volumes of -v: binds and named volumes go to HostConfig.Binds, anonymous ones to Config.Volumes. */
export interface VolumeFlags {
  binds: string[];
  anonymous: string[];
}

interface VolumeSpec {
  source: string;
  target: string;
}

/**
 * docker's CLI reading of one -v value (the compose volume grammar): it only splits the value
 * to tell an anonymous volume from a bind or named volume; the daemon's rules come after.
 */
function splitVolumeSpec(spec: string): VolumeSpec {
  const bytes = Buffer.byteLength(spec);
  if (bytes === 0) throw new Error('invalid empty volume spec');
  if (bytes <= 2) return { source: '', target: spec };
  const volume: VolumeSpec = { source: '', target: '' };
  let buffer = '';
  const chars = [...spec, ''];
  for (const ch of chars) {
    // a one-letter section before ":" is a Windows drive ("c:\\data"), not a separator
    if (ch === ':' && [...buffer].length === 1 && /^\p{L}$/u.test(buffer)) {
      buffer += ch;
    } else if (ch === ':' || ch === '') {
      let problem = '';
      if (buffer === '') problem = 'empty section between colons';
      else if (volume.source === '' && ch === '') volume.target = buffer;
      else if (volume.source === '') volume.source = buffer;
      else if (volume.target === '') volume.target = buffer;
      else if (ch === ':') problem = 'too many colons';
      if (problem) throw new Error(`invalid spec: ${spec}: ${problem}`);
      buffer = '';
    } else {
      buffer += ch;
    }
  }
  return volume;
}

function looksLikeFilePath(source: string): boolean {
  if ('./~'.includes(source[0]!)) return true;
  if ([...source].length === 1) return false;
  if (source.startsWith('\\\\')) return true;
  return /^\p{L}:/u.test(source);
}

/** A mount option list as the daemon accepts it: at most one of each kind. */
function validMountMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = { rw: 0, label: 0, propagation: 0, copy: 0, consistency: 0 };
  for (const o of mode.split(',')) {
    if (o === 'rw' || o === 'ro') counts.rw++;
    else if (LABEL_MODES.has(o)) counts.label++;
    else if (PROPAGATIONS.has(o)) counts.propagation++;
    else if (o === 'nocopy') counts.copy++;
    else if (CONSISTENCY_MODES.has(o)) counts.consistency++;
    else return false;
  }
  return Object.values(counts).every((n) => n <= 1);
}

function mountPathProblem(target: string): string {
  const p = target.replaceAll('\\', '/');
  if (posix.normalize(p) === '/') return "invalid specification: destination can't be '/'";
  if (!p.startsWith('/')) return `invalid mount path: '${p}' mount path must be absolute`;
  return '';
}

/** The daemon's check of a volume name, worded as its volume-create error. */
export function checkVolumeName(name: string): void {
  if ([...name].length === 1) throw new Error(`create ${name}: volume name is too short, names should be at least two alphanumeric characters`);
  if (!VOLUME_NAME.test(name)) {
    throw new Error(`create ${name}: ${goQuote(name)} includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
}

/** The daemon's reading of a raw volume spec ("/src:/dst:ro", "name:/dst", "/dst"): its errors only. */
function checkRawVolume(raw: string): void {
  const invalid = `invalid volume specification: '${raw}'`;
  const parts = raw.split(':');
  const arr = parts.length > 4 ? [...parts.slice(0, 3), parts.slice(3).join(':')] : parts;
  if (arr[0] === '') throw new Error(invalid);
  let source = '';
  let target: string;
  let mode = '';
  if (arr.length === 1) target = arr[0]!;
  else if (arr.length === 2) {
    // "/dst:ro" is not a volume: a volume with a mode needs a source
    if (validMountMode(arr[1]!)) throw new Error(invalid);
    [source, target] = arr as [string, string];
  } else if (arr.length === 3) [source, target, mode] = arr as [string, string, string];
  else throw new Error(invalid);
  if (!validMountMode(mode)) throw new Error(`invalid mode: ${mode}`);
  const type = source.startsWith('/') ? 'bind' : 'volume';
  const options = mode.split(',');
  const readOnly = options.includes('ro');
  let problem = '';
  if (target === '') problem = 'field Target must not be empty';
  else problem = mountPathProblem(target);
  if (!problem && type === 'bind' && options.includes('nocopy')) problem = 'field VolumeOptions must not be specified';
  if (!problem && type === 'volume' && options.some((o) => PROPAGATIONS.has(o))) problem = 'field BindOptions must not be specified';
  if (!problem && type === 'volume' && source === '' && readOnly) problem = 'must not set ReadOnly mode when using anonymous volumes';
  if (problem) throw new Error(`${invalid}: invalid mount config for type "${type}": ${problem}`);
  if (type === 'volume' && source !== '') checkVolumeName(source);
}

/** All -v values as docker's CLI sorts them, "./rel" sources made absolute from `cwd`. */
export function parseVolumeFlags(values: string[], cwd: string): VolumeFlags {
  const binds: string[] = [];
  const anonymous: string[] = [];
  for (const spec of new Set(values)) {
    const parsed = splitVolumeSpec(spec);
    if (parsed.source === '') {
      if (!anonymous.includes(spec)) anonymous.push(spec);
      continue;
    }
    let bind = spec;
    if (looksLikeFilePath(parsed.source)) {
      const colon = spec.indexOf(':');
      const host = spec.slice(0, colon);
      if (!host.startsWith('/') && host.startsWith('.')) bind = `${posix.resolve(cwd, host)}${spec.slice(colon)}`;
    }
    if (!binds.includes(bind)) binds.push(bind);
  }
  return { binds, anonymous };
}

/** The daemon's checks of HostConfig.Binds and Config.Volumes. */
export function checkVolumes(binds: string[], anonymous: string[]): void {
  for (const b of binds) checkRawVolume(b);
  for (const a of anonymous) {
    // docker takes an anonymous volume's path as it is, colons and all; a relative one only
    // fails when the runtime mounts it, so refuse it here with the mount parser's words
    const problem = mountPathProblem(a);
    if (problem) throw new Error(`invalid volume specification: '${a}': invalid mount config for type "volume": ${problem}`);
  }
}

// ---- --mount ----

/** One --mount value (docker's csv key=value form) into the API's Mount, with the CLI's errors. */
export function parseMountFlag(value: string, cwd: string): MountSpec {
  const fields = readCsvRecord(value);
  const mount: MountSpec = { Type: 'volume', Target: '' };
  let type = 'volume';
  let bind: NonNullable<MountSpec['BindOptions']> | undefined;
  let volume: NonNullable<MountSpec['VolumeOptions']> | undefined;
  let tmpfs: NonNullable<MountSpec['TmpfsOptions']> | undefined;
  let image = false;
  // bind-recursive=writable|readonly: docker's read-only variants, which the model cannot hold
  let unsupportedRecursive = '';
  const volumeOptions = () => (volume ??= { Labels: {}, DriverConfig: {} });
  const setOnMap = (target: Record<string, string>, kv: string) => {
    const eq = kv.indexOf('=');
    const k = eq < 0 ? kv : kv.slice(0, eq);
    if (k !== '') target[k] = eq < 0 ? '' : kv.slice(eq + 1);
  };
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? '' : field.slice(eq + 1);
    const invalidValue = () => new Error(`invalid value for ${key}: ${val}`);
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro') mount.ReadOnly = true;
      else if (key === 'volume-nocopy') volumeOptions().NoCopy = true;
      else if (key === 'bind-nonrecursive') (bind ??= {}).NonRecursive = true;
      else throw new Error(`invalid field '${field}' must be a key=value pair`);
      continue;
    }
    switch (key) {
      case 'type':
        type = val.toLowerCase();
        break;
      case 'source':
      case 'src':
        mount.Source = !val.startsWith('/') && val.startsWith('.') ? posix.resolve(cwd, val) : val;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        mount.Target = val;
        break;
      case 'readonly':
      case 'ro':
        try {
          mount.ReadOnly = parseBool(val);
        } catch {
          throw invalidValue();
        }
        break;
      case 'consistency':
        // docker records it, and Linux ignores it
        break;
      case 'bind-propagation':
        (bind ??= {}).Propagation = val.toLowerCase();
        break;
      case 'bind-nonrecursive':
        try {
          (bind ??= {}).NonRecursive = parseBool(val);
        } catch {
          throw invalidValue();
        }
        break;
      case 'bind-recursive':
        if (val === 'enabled') bind ??= {};
        else if (val === 'disabled') (bind ??= {}).NonRecursive = true;
        else if (val === 'writable' || val === 'readonly') {
          bind ??= {};
          unsupportedRecursive = val;
        } else throw new Error(`invalid value for ${key}: ${val} (must be "enabled", "disabled", "writable", or "readonly")`);
        break;
      case 'volume-subpath':
        volumeOptions().Subpath = val;
        break;
      case 'volume-nocopy':
        try {
          volumeOptions().NoCopy = parseBool(val);
        } catch {
          throw new Error(`invalid value for volume-nocopy: ${val}`);
        }
        break;
      case 'volume-label':
        setOnMap(volumeOptions().Labels!, val);
        break;
      case 'volume-driver':
        volumeOptions().DriverConfig!.Name = val;
        break;
      case 'volume-opt':
        setOnMap((volumeOptions().DriverConfig!.Options ??= {}), val);
        break;
      case 'image-subpath':
        image = true;
        break;
      case 'tmpfs-size':
        try {
          (tmpfs ??= {}).SizeBytes = ramInBytes(val);
        } catch {
          throw invalidValue();
        }
        break;
      case 'tmpfs-mode':
        try {
          (tmpfs ??= {}).Mode = Number(parseUint(val, 8, 32));
        } catch {
          throw invalidValue();
        }
        break;
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (type === '') throw new Error('type is required');
  if (mount.Target === '') throw new Error('target is required');
  if (volume && type !== 'volume') throw new Error(`cannot mix 'volume-*' options with mount type '${type}'`);
  if (image && type !== 'image') throw new Error(`cannot mix 'image-*' options with mount type '${type}'`);
  if (bind && type !== 'bind') throw new Error(`cannot mix 'bind-*' options with mount type '${type}'`);
  if (tmpfs && type !== 'tmpfs') throw new Error(`cannot mix 'tmpfs-*' options with mount type '${type}'`);
  if (unsupportedRecursive) {
    if (!mount.ReadOnly) throw new Error(`option 'bind-recursive=${unsupportedRecursive}' requires 'readonly' to be specified in conjunction`);
    if (unsupportedRecursive === 'readonly' && bind?.Propagation !== 'rprivate') {
      throw new Error("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction");
    }
    throw new Error(`bind-recursive=${unsupportedRecursive} is not supported by hull yet; use bind-recursive=enabled or disabled`);
  }
  mount.Type = type as MountSpec['Type'];
  if (bind) mount.BindOptions = bind;
  if (volume) mount.VolumeOptions = volume;
  if (tmpfs) mount.TmpfsOptions = tmpfs;
  return mount;
}

/** filepath.IsLocal: a relative path that stays inside its directory. */
function isLocalPath(p: string): boolean {
  if (p === '' || p.startsWith('/')) return false;
  const clean = posix.normalize(p);
  return clean !== '..' && !clean.startsWith('../');
}

/** The daemon's check of one --mount, including that a bind's source exists. */
export function checkMount(m: MountSpec): void {
  const fail = (why: string) => new Error(`invalid mount config for type ${goQuote(m.Type)}: ${why}`);
  if (!m.Target) throw fail('field Target must not be empty');
  const targetProblem = mountPathProblem(m.Target);
  if (targetProblem) throw fail(targetProblem);
  const source = m.Source ?? '';
  switch (m.Type) {
    case 'bind': {
      if (source === '') throw fail('field Source must not be empty');
      const prop = m.BindOptions?.Propagation;
      if (prop && !PROPAGATIONS.has(prop)) throw fail(`invalid propagation mode: ${prop}`);
      if (m.VolumeOptions) throw fail('field VolumeOptions must not be specified');
      if (!source.replaceAll('\\', '/').startsWith('/')) throw fail(`invalid mount path: '${source.replaceAll('\\', '/')}' mount path must be absolute`);
      let exists = true;
      try {
        statSync(source);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fail(`stat ${source}: ${(err as Error).message}`);
        exists = false;
      }
      if (!exists && !m.BindOptions?.CreateMountpoint) throw fail(`bind source path does not exist: ${source}`);
      return;
    }
    case 'volume': {
      if (m.BindOptions) throw fail('field BindOptions must not be specified');
      const anonymous = source === '';
      const subpath = m.VolumeOptions?.Subpath ?? '';
      if (subpath !== '') {
        if (anonymous) throw fail('must not set Subpath when using anonymous volumes');
        if (!isLocalPath(subpath)) throw fail('subpath must be a relative path within the volume');
      }
      if (m.ReadOnly && anonymous) throw fail('must not set ReadOnly mode when using anonymous volumes');
      const driver = m.VolumeOptions?.DriverConfig?.Name;
      if (driver && driver !== 'local') throw new Error(`hull has only the "local" volume driver, not ${goQuote(driver)}`);
      if (!anonymous) checkVolumeName(source);
      return;
    }
    case 'tmpfs':
      if (m.BindOptions) throw fail('field BindOptions must not be specified');
      if (source !== '') throw fail('field Source must not be specified');
      return;
    default:
      if ((m.Type as string) === 'image') throw fail('image mounts are not supported by hull');
      throw fail('mount type unknown');
  }
}

// ---- --tmpfs ----

// Mount flags the daemon's tmpfs option merge knows; anything else must be a key=value it knows.
const TMPFS_FLAGS = new Set([
  'ro', 'rw', 'suid', 'nosuid', 'dev', 'nodev', 'exec', 'noexec', 'sync', 'async', 'dirsync', 'remount', 'mand',
  'nomand', 'atime', 'noatime', 'diratime', 'nodiratime', 'bind', 'rbind', 'unbindable', 'runbindable', 'private',
  'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'relatime', 'norelatime', 'strictatime', 'nostrictatime',
]);
const TMPFS_DATA = new Set(['', 'size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol']);

/** --tmpfs /path[:options] into HostConfig.Tmpfs (a later value for the same path wins). */
export function parseTmpfsFlags(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of values) {
    const colon = t.indexOf(':');
    const path = colon < 0 ? t : t.slice(0, colon);
    out[path] = colon < 0 ? '' : t.slice(colon + 1);
  }
  return out;
}

/** The daemon's checks of HostConfig.Tmpfs: absolute paths other than "/", options it can mount. */
export function checkTmpfs(tmpfs: Record<string, string>): void {
  for (const [path, options] of Object.entries(tmpfs)) {
    const problem = mountPathProblem(path);
    if (problem) throw new Error(problem);
    if (options === '') continue;
    for (const o of options.split(',')) {
      if (o === 'defaults' || TMPFS_FLAGS.has(o)) continue;
      const eq = o.indexOf('=');
      const parts = eq < 0 ? [o] : [o.slice(0, eq), o.slice(eq + 1)];
      if (eq < 0 || !TMPFS_DATA.has(parts[0]!)) throw new Error(`invalid tmpfs option [${parts.map(goQuote).join(' ')}]`);
    }
  }
}

// ---- --volumes-from ----

/** --volumes-from container[:ro|rw], checked as the daemon does. */
export function checkVolumesFrom(spec: string): void {
  if (spec === '') throw new Error('volumes-from specification cannot be an empty string');
  const colon = spec.indexOf(':');
  const mode = colon < 0 ? '' : spec.slice(colon + 1);
  if (mode === '') return;
  const options = mode.split(',');
  if (!validMountMode(mode) || options.some((o) => PROPAGATIONS.has(o) || o === 'nocopy')) throw new Error(`invalid mode: ${mode}`);
}

// ---- --device / --device-cgroup-rule ----

function validDeviceMode(mode: string): boolean {
  if (mode === '') return false;
  const seen = new Set<string>();
  for (const c of mode) {
    if (!'rwm'.includes(c) || seen.has(c)) return false;
    seen.add(c);
  }
  return true;
}

// A CDI name, vendor.com/class=name: docker sends it as a device request, which hull does not have.
const CDI_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*(\/[a-zA-Z0-9][a-zA-Z0-9_.-]*)*\/[a-zA-Z0-9][a-zA-Z0-9_.-]*=[a-zA-Z0-9_.:-]+$/;

/** --device host[:container][:rwm] into a DeviceMapping, with docker's CLI checks. */
export function parseDevice(device: string): DeviceMapping {
  if (CDI_NAME.test(device)) throw new Error(`CDI device ${device} is not supported by hull`);
  if ((device.match(/:/g) ?? []).length > 2) throw new Error(`bad format for path: ${device}`);
  const split = device.split(':');
  if (split[0] === '') throw new Error(`bad format for path: ${device}`);
  let containerPath: string;
  let validated: string;
  if (split.length === 1) {
    containerPath = split[0]!;
    validated = posix.normalize(containerPath);
  } else if (split.length === 2) {
    if (validDeviceMode(split[1]!)) {
      containerPath = split[0]!;
      validated = `${posix.normalize(containerPath)}:${split[1]}`;
    } else {
      containerPath = split[1]!;
      validated = `${split[0]}:${containerPath === '' ? '.' : posix.normalize(containerPath)}`;
    }
  } else {
    containerPath = split[1]!;
    if (!validDeviceMode(split[2]!)) throw new Error(`bad mode specified: ${split[2]}`);
    validated = device;
  }
  if (!containerPath.startsWith('/')) throw new Error(`${containerPath} is not an absolute path`);
  const arr = validated.split(':');
  let permissions = 'rwm';
  let dst = '';
  if (arr.length === 3) permissions = arr[2]!;
  if (arr.length >= 2) {
    if (validDeviceMode(arr[1]!)) permissions = arr[1]!;
    else dst = arr[1]!;
  }
  const src = arr[0]!;
  return { PathOnHost: src, PathInContainer: dst || src, CgroupPermissions: permissions };
}

const CGROUP_RULE = /^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$/;

/** --device-cgroup-rule "c 1:3 rwm". */
export function checkDeviceCgroupRule(rule: string): void {
  if (!CGROUP_RULE.test(rule)) throw new Error(`invalid device cgroup format '${rule}'`);
}
