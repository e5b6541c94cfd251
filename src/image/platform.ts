// Platforms (os/architecture/variant): what `--platform` parses, what the host is, and
// which entry of a multi-platform index to run. Names and the matching order follow
// containerd's platforms package, which docker uses, except that hull never falls back
// to another architecture (386 on amd64, 32-bit arm on arm64): os and architecture must
// match exactly, and only the variant may step down.

import type { Descriptor, ImageIndex } from './manifest.ts';

/** The platform object as OCI indexes and image configs write it. */
export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

export class PlatformError extends Error {
  override name = 'PlatformError';
}

// Component grammar of containerd's specifier parser.
const SPECIFIER_RE = /^[A-Za-z0-9_.-]+$/;
// os[(version[+feature]*)], e.g. windows(10.0.17763+win32k).
const OS_RE = /^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.%-]*)((?:\+[A-Za-z0-9_.%-]+)*)\))?$/;

const KNOWN_OS = new Set([
  'aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux',
  'nacl', 'netbsd', 'openbsd', 'plan9', 'solaris', 'windows', 'zos',
]);
const KNOWN_ARCH = new Set([
  '386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'ppc64', 'ppc64le', 'loong64',
  'mips', 'mipsle', 'mips64', 'mips64le', 'mips64p32', 'mips64p32le', 'ppc', 'riscv', 'riscv64',
  's390', 's390x', 'sparc', 'sparc64', 'wasm',
]);

function normalizeOs(os: string): string {
  const lower = os.toLowerCase();
  return lower === 'macos' ? 'darwin' : lower;
}

// The canonical spelling of an architecture and variant. Unlike containerd, which drops
// arm64's default variant, hull keeps `v8` (docker reports arm64 hosts as arm64/v8); the
// matcher compares canonical forms, so both spellings of an index entry match.
function normalizeArch(arch: string, variant: string): { architecture: string; variant: string } {
  let a = arch.toLowerCase();
  let v = variant.toLowerCase();
  switch (a) {
    case 'i386':
      a = '386';
      v = '';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      a = 'amd64';
      if (v === 'v1') v = '';
      break;
    case 'aarch64':
    case 'arm64':
      a = 'arm64';
      if (v === '' || v === '8' || v === 'v8' || v === 'v8.0') v = 'v8';
      else if (v === '9' || v === '9.0' || v === 'v9.0') v = 'v9';
      break;
    case 'armhf':
      a = 'arm';
      v = 'v7';
      break;
    case 'armel':
      a = 'arm';
      v = 'v6';
      break;
    case 'arm':
      if (v === '' || v === '7') v = 'v7';
      else if (v === '5' || v === '6' || v === '8') v = `v${v}`;
      break;
  }
  return { architecture: a, variant: v };
}

/** The canonical form of a platform: lowercase names, docker's aliases resolved, default variants filled in. */
export function normalizePlatform(p: Platform): Platform {
  const { architecture, variant } = normalizeArch(p.architecture, p.variant ?? '');
  const out: Platform = { architecture, os: normalizeOs(p.os) };
  if (p['os.version'] !== undefined && p['os.version'] !== '') out['os.version'] = p['os.version'];
  if (p['os.features'] !== undefined && p['os.features'].length > 0) out['os.features'] = [...p['os.features']].sort();
  if (variant !== '') out.variant = variant;
  return out;
}

/**
 * The platform hull runs on, from Node's view of the CPU. `arch` and `armVersion` default
 * to this process's, and are parameters so every mapping can be tested on one machine.
 */
export function hostPlatform(
  arch: string = process.arch,
  armVersion: string | undefined = String((process.config.variables as Record<string, unknown>)['arm_version'] ?? ''),
): Platform {
  const table: Record<string, [string, string]> = {
    x64: ['amd64', ''],
    ia32: ['386', ''],
    arm64: ['arm64', 'v8'],
    arm: ['arm', armVersion ? `v${armVersion.replace(/^v/, '')}` : 'v7'],
    ppc64: ['ppc64le', ''],
    s390x: ['s390x', ''],
    riscv64: ['riscv64', ''],
    loong64: ['loong64', ''],
    mips: ['mips', ''],
    mipsel: ['mipsle', ''],
    mips64el: ['mips64le', ''],
  };
  const entry = table[arch];
  if (!entry) throw new PlatformError(`unsupported host architecture "${arch}"`);
  return normalizePlatform({ os: 'linux', architecture: entry[0], variant: entry[1] });
}

function decodeOsOption(s: string, specifier: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new PlatformError(`invalid platform "${specifier}": bad %-escape in "${s}"`);
  }
}

/**
 * Parses a `--platform` value: `os`, `arch`, `os/arch` or `os/arch/variant`, with docker's
 * aliases (x86_64, aarch64, armhf, ...). A lone known OS gets the host's architecture; a
 * lone architecture gets linux.
 */
export function parsePlatform(specifier: string, host?: Platform): Platform {
  const bad = (why: string) => new PlatformError(`invalid platform "${specifier.slice(0, 200)}": ${why}`);
  if (specifier === '') throw bad('empty');
  if (specifier.length > 256) throw bad('longer than 256 characters');
  if (specifier.includes('*')) throw bad('wildcards are not supported');
  const parts = specifier.split('/');
  if (parts.length > 3) throw bad('expected os[/arch[/variant]]');
  const [osPart = '', archPart, variantPart] = parts;
  const m = OS_RE.exec(osPart);
  if (!m) throw bad(`"${osPart}" is not a valid OS component`);
  for (const part of parts.slice(1)) {
    if (!SPECIFIER_RE.test(part)) throw bad(`"${part}" is not a valid component (allowed: letters, digits, "_", ".", "-")`);
  }
  const os = normalizeOs(m[1] ?? '');
  const osVersion = decodeOsOption(m[2] ?? '', specifier);
  const features = (m[3] ?? '').split('+').filter((f) => f !== '').map((f) => decodeOsOption(f, specifier));
  const extra: Partial<Platform> = {};
  if (osVersion !== '') extra['os.version'] = osVersion;
  if (features.length > 0) extra['os.features'] = features;

  if (archPart === undefined) {
    if (KNOWN_OS.has(os)) {
      const h = host ?? hostPlatform();
      return normalizePlatform({ ...extra, os, architecture: h.architecture, ...(h.variant ? { variant: h.variant } : {}) });
    }
    const { architecture } = normalizeArch(osPart, '');
    if (KNOWN_ARCH.has(architecture)) return normalizePlatform({ os: 'linux', architecture: osPart });
    throw bad('unknown operating system or architecture');
  }
  return normalizePlatform({ ...extra, os, architecture: archPart, variant: variantPart ?? '' });
}

/** `linux/arm64/v8`, `linux/amd64`. */
export function formatPlatform(p: Platform): string {
  if (p.os === '') return 'unknown';
  return [p.os, p.architecture, p.variant].filter((s) => s !== undefined && s !== '').join('/');
}

// containerd's table of which arm64 variants a CPU of a given variant also runs, best
// first: v9.x implies v8.(x+5).
const ARM64_VERSIONS: Record<string, Array<[number, number]>> = {};
for (let minor = 0; minor <= 9; minor++) ARM64_VERSIONS[minor === 0 ? 'v8' : `v8.${minor}`] = [[8, minor]];
for (let minor = 0; minor <= 7; minor++) {
  ARM64_VERSIONS[minor === 0 ? 'v9' : `v9.${minor}`] = [[9, minor], [8, Math.min(minor + 5, 9)]];
}

// The variants `wanted` runs, in order of preference (containerd's platformVector,
// restricted to the same architecture).
function acceptedVariants(wanted: Platform): string[] {
  const variant = wanted.variant ?? '';
  const number = /^v([0-9]+)$/.exec(variant);
  switch (wanted.architecture) {
    case 'amd64': {
      const out = [variant];
      if (number) for (let v = Number(number[1]) - 1; v >= 2; v--) out.push(`v${v}`);
      if (variant !== '') out.push('');
      return out;
    }
    case 'arm': {
      const out = [variant];
      if (number) for (let v = Number(number[1]) - 1; v >= 5; v--) out.push(`v${v}`);
      return out;
    }
    case 'arm64': {
      const versions = ARM64_VERSIONS[variant];
      if (!versions) return [variant];
      const out: string[] = [];
      for (const [major, top] of versions) {
        for (let minor = top; minor >= 0; minor--) out.push(minor === 0 ? `v${major}` : `v${major}.${minor}`);
      }
      return out;
    }
    default:
      return [variant];
  }
}

function featuresSubset(candidate: string[] | undefined, wanted: string[] | undefined): boolean {
  if (!candidate || candidate.length === 0) return true;
  const have = new Set(wanted ?? []);
  return candidate.every((f) => have.has(f));
}

// Windows images must match the host's build (major.minor.build); other systems have no
// such constraint.
function osVersionMatches(candidate: Platform, wanted: Platform): boolean {
  if (wanted.os !== 'windows') return true;
  const build = (v: string | undefined) => (v ?? '').split('.').slice(0, 3).join('.');
  return wanted['os.version'] === undefined || build(candidate['os.version']) === build(wanted['os.version']);
}

/**
 * How well `candidate` suits a host of platform `wanted`: 0 is an exact match, higher is a
 * fallback variant, -1 means it cannot run.
 */
export function platformRank(candidate: Platform, wanted: Platform): number {
  const c = normalizePlatform(candidate);
  const w = normalizePlatform(wanted);
  if (c.os !== w.os || c.architecture !== w.architecture) return -1;
  if (!osVersionMatches(c, w) || !featuresSubset(c['os.features'], w['os.features'])) return -1;
  return acceptedVariants(w).indexOf(c.variant ?? '');
}

export function matchPlatform(candidate: Platform, wanted: Platform): boolean {
  return platformRank(candidate, wanted) >= 0;
}

function isAttestation(d: Descriptor): boolean {
  return d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest';
}

/**
 * The entries of an index worth trying for `wanted`, best first: those whose platform
 * matches (by rank, then index order), then those with no platform at all, whose image
 * config must be read to decide. Attestations are never candidates.
 */
export function manifestCandidates(index: ImageIndex, wanted: Platform): Descriptor[] {
  const ranked: Array<{ rank: number; order: number; d: Descriptor }> = [];
  const unplatformed: Descriptor[] = [];
  index.manifests.forEach((d, order) => {
    if (isAttestation(d)) return;
    if (d.platform === undefined) {
      unplatformed.push(d);
      return;
    }
    const rank = platformRank(d.platform, wanted);
    if (rank >= 0) ranked.push({ rank, order, d });
  });
  ranked.sort((a, b) => a.rank - b.rank || a.order - b.order);
  return [...ranked.map((r) => r.d), ...unplatformed];
}

/** The best entry of an index whose declared platform runs on `wanted`, if any. */
export function selectManifest(index: ImageIndex, wanted: Platform): Descriptor | undefined {
  return manifestCandidates(index, wanted).find((d) => d.platform !== undefined);
}
