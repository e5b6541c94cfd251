// -v, --mount and --tmpfs, as the engine resolves them: at create, into inspect's MountPoints
// (creating named and anonymous volumes); at start, into the OCI mounts of the spec.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { isAbsolute, normalize } from 'node:path';
import type { VolumeStore } from '../volumes.ts';
import type { Container, MountPoint } from './model.ts';
import type { ResolvedMount } from './spec.ts';

const PROPAGATIONS = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

interface Parsed extends MountPoint {
  nonRecursive: boolean;
  /** --mount type=bind refuses a missing source; -v makes it, as docker does. */
  mustExist: boolean;
}

function invalid(spec: string): Error {
  return new Error(`invalid volume specification: '${spec}'`);
}

/** One -v/Binds entry: "name:/dst[:opts]", "/src:/dst[:opts]". */
export function parseBind(spec: string): Parsed {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3) throw invalid(spec);
  const [source, destination, mode = ''] = parts as [string, string, string?];
  if (!source || !isAbsolute(destination)) throw invalid(spec);
  if (normalize(destination) === '/') throw new Error(`invalid volume specification: '${spec}': invalid mount config: destination can't be '/'`);
  let rw = true;
  let propagation = '';
  for (const opt of mode ? mode.split(',') : []) {
    if (opt === 'ro') rw = false;
    else if (opt === 'rw') rw = true;
    else if (opt === 'nocopy') continue; // the engine's copy-up reads it from Binds
    else if (PROPAGATIONS.has(opt)) propagation = opt;
    else if (!['z', 'Z', 'consistent', 'cached', 'delegated'].includes(opt)) throw new Error(`invalid mode: ${opt}`);
  }
  const bind = isAbsolute(source);
  if (!bind && !VOLUME_NAME.test(source)) {
    throw new Error(`create ${source}: "${source}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
  return {
    Type: bind ? 'bind' : 'volume',
    ...(bind ? {} : { Name: source, Driver: 'local' }),
    Source: bind ? normalize(source) : '',
    Destination: normalize(destination),
    Mode: mode,
    RW: rw,
    Propagation: bind ? propagation || 'rprivate' : '',
    nonRecursive: false,
    mustExist: false,
  };
}

/**
 * Resolves a new container's mounts, creating the volumes it names that do not exist yet.
 * Returns the mount points and the names of volumes created here (removed again if create fails).
 */
export function resolveMounts(c: Container, volumes: VolumeStore, imageVolumes: string[]): { points: MountPoint[]; created: string[] } {
  const parsed: Parsed[] = [];
  for (const b of c.HostConfig.Binds ?? []) parsed.push(parseBind(b));
  for (const m of c.HostConfig.Mounts ?? []) {
    if (m.Type === 'tmpfs') continue;
    if (!isAbsolute(m.Target)) throw new Error(`invalid mount config for type "${m.Type}": invalid mount path: '${m.Target}' mount path must be absolute`);
    parsed.push({
      Type: m.Type,
      ...(m.Type === 'volume' ? { Name: m.Source ?? '', Driver: 'local' } : {}),
      Source: m.Type === 'bind' ? normalize(m.Source ?? '') : '',
      Destination: normalize(m.Target),
      Mode: m.Type === 'volume' ? 'z' : '',
      RW: !m.ReadOnly,
      Propagation: m.Type === 'bind' ? m.BindOptions?.Propagation || 'rprivate' : '',
      nonRecursive: !!m.BindOptions?.NonRecursive,
      mustExist: m.Type === 'bind' && !m.BindOptions?.CreateMountpoint,
    });
  }
  const taken = new Set(parsed.map((p) => p.Destination));
  const tmpfs = new Set([...Object.keys(c.HostConfig.Tmpfs ?? {}), ...(c.HostConfig.Mounts ?? []).filter((m) => m.Type === 'tmpfs').map((m) => m.Target)].map((t) => normalize(t)));
  for (const dst of new Set([...Object.keys(c.Config.Volumes ?? {}), ...imageVolumes])) {
    const d = normalize(dst);
    if (taken.has(d) || tmpfs.has(d)) continue;
    taken.add(d);
    parsed.push({ Type: 'volume', Name: '', Driver: 'local', Source: '', Destination: d, Mode: '', RW: true, Propagation: '', nonRecursive: false, mustExist: false });
  }
  const seen = new Set<string>();
  for (const p of parsed) {
    if (seen.has(p.Destination)) throw new Error(`Duplicate mount point: ${p.Destination}`);
    seen.add(p.Destination);
  }
  const created: string[] = [];
  const points: MountPoint[] = [];
  try {
    for (const p of parsed) {
      if (p.Type === 'bind') {
        if (!existsSync(p.Source)) {
          if (p.mustExist) throw new Error(`invalid mount config for type "bind": bind source path does not exist: ${p.Source}`);
          mkdirSync(p.Source, { recursive: true, mode: 0o755 });
        }
      } else {
        let name = p.Name ?? '';
        const existed = name !== '' && volumeExists(volumes, name);
        const v = volumes.create(name ? { name } : { anonymous: true });
        name = v.Name;
        if (!existed) created.push(name);
        p.Name = name;
        p.Source = v.Mountpoint;
      }
      const { nonRecursive: _r, mustExist: _m, ...point } = p;
      points.push(point);
    }
  } catch (e) {
    for (const name of created) volumes.remove(name, true);
    throw e;
  }
  return { points, created };
}

function tmpfsOptions(opts: string): string[] {
  return opts ? opts.split(',') : [];
}

/** The OCI mounts for a start: volumes made usable (and their host paths), binds and tmpfs. */
export function specMounts(c: Container, volumePath: (name: string) => string): ResolvedMount[] {
  const out: ResolvedMount[] = [];
  const recursive = new Map((c.HostConfig.Mounts ?? []).filter((m) => m.Type === 'bind').map((m) => [normalize(m.Target), !m.BindOptions?.NonRecursive]));
  for (const p of c.Mounts) {
    const source = p.Type === 'volume' ? volumePath(p.Name!) : p.Source;
    if (p.Type === 'bind' && !existsSync(source)) throw new Error(`error while creating mount source path '${source}': no such file or directory`);
    const options = [recursive.get(p.Destination) === false ? 'bind' : 'rbind', p.RW ? 'rw' : 'ro'];
    options.push(p.Propagation || 'rprivate');
    out.push({ destination: p.Destination, type: p.Type === 'volume' ? 'volume' : 'bind', source, options });
  }
  for (const [target, opts] of Object.entries(c.HostConfig.Tmpfs ?? {})) {
    out.push({ destination: normalize(target), type: 'tmpfs', source: 'tmpfs', options: tmpfsOptions(opts) });
  }
  for (const m of c.HostConfig.Mounts ?? []) {
    if (m.Type !== 'tmpfs') continue;
    const opts: string[] = [];
    if (m.TmpfsOptions?.SizeBytes) opts.push(`size=${m.TmpfsOptions.SizeBytes}`);
    if (m.TmpfsOptions?.Mode) opts.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
    if (m.ReadOnly) opts.push('ro');
    out.push({ destination: normalize(m.Target), type: 'tmpfs', source: 'tmpfs', options: tmpfsOptions(opts.join(',')) });
  }
  return out;
}

/** True when a bind source is a directory (a volume's copy-up needs one). */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function volumeExists(volumes: VolumeStore, name: string): boolean {
  try {
    volumes.get(name);
    return true;
  } catch {
    return false;
  }
}
