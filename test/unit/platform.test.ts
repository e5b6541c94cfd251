import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PlatformError,
  formatPlatform,
  hostPlatform,
  manifestCandidates,
  matchPlatform,
  normalizePlatform,
  parsePlatform,
  platformRank,
  selectManifest,
} from '../../src/image/platform.ts';
import type { Platform } from '../../src/image/platform.ts';
import type { Descriptor, ImageIndex } from '../../src/image/manifest.ts';

const AMD64: Platform = { os: 'linux', architecture: 'amd64' };

test('hostPlatform maps Node architectures to OCI names', () => {
  assert.deepEqual(hostPlatform('x64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(hostPlatform('arm64'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.deepEqual(hostPlatform('arm', '7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(hostPlatform('arm', '6'), { os: 'linux', architecture: 'arm', variant: 'v6' });
  assert.deepEqual(hostPlatform('arm', ''), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(hostPlatform('ia32'), { os: 'linux', architecture: '386' });
  assert.deepEqual(hostPlatform('ppc64'), { os: 'linux', architecture: 'ppc64le' });
  assert.deepEqual(hostPlatform('s390x'), { os: 'linux', architecture: 's390x' });
  assert.deepEqual(hostPlatform('riscv64'), { os: 'linux', architecture: 'riscv64' });
  assert.deepEqual(hostPlatform('mips64el'), { os: 'linux', architecture: 'mips64le' });
  assert.throws(() => hostPlatform('vax'), (e: unknown) => e instanceof PlatformError && /unsupported host architecture "vax"/.test(e.message));
  // This machine's own platform is one of those.
  const here = hostPlatform();
  assert.equal(here.os, 'linux');
  assert.deepEqual(here, hostPlatform(process.arch));
});

test('parsePlatform normalizes docker\'s spellings', () => {
  const cases: Array<[string, Platform]> = [
    ['linux/amd64', AMD64],
    ['linux/x86_64', AMD64],
    ['linux/x86-64', AMD64],
    ['Linux/AMD64', AMD64],
    ['linux/amd64/v1', AMD64],
    ['linux/amd64/v3', { os: 'linux', architecture: 'amd64', variant: 'v3' }],
    ['linux/arm64', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['linux/aarch64', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['linux/arm64/v8', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['linux/arm64/8', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['linux/arm64/v8.0', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['linux/arm64/v8.2', { os: 'linux', architecture: 'arm64', variant: 'v8.2' }],
    ['linux/arm64/9', { os: 'linux', architecture: 'arm64', variant: 'v9' }],
    ['linux/arm', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['linux/armhf', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['linux/armel', { os: 'linux', architecture: 'arm', variant: 'v6' }],
    ['linux/arm/v6', { os: 'linux', architecture: 'arm', variant: 'v6' }],
    ['linux/arm/5', { os: 'linux', architecture: 'arm', variant: 'v5' }],
    ['linux/arm/7', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['linux/i386', { os: 'linux', architecture: '386' }],
    ['linux/386', { os: 'linux', architecture: '386' }],
    ['linux/ppc64le', { os: 'linux', architecture: 'ppc64le' }],
    ['linux/s390x', { os: 'linux', architecture: 's390x' }],
    ['linux/riscv64', { os: 'linux', architecture: 'riscv64' }],
    ['macos/arm64', { os: 'darwin', architecture: 'arm64', variant: 'v8' }],
    ['windows/amd64', { os: 'windows', architecture: 'amd64' }],
    ['windows(10.0.17763)/amd64', { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763' }],
    ['windows(10.0.17763+win32k)/amd64', { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763', 'os.features': ['win32k'] }],
    // One component: a known OS takes the host's architecture; an architecture takes linux.
    ['linux', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['arm64', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['amd64', AMD64],
    ['aarch64', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['armhf', { os: 'linux', architecture: 'arm', variant: 'v7' }],
  ];
  const host = hostPlatform('arm64');
  for (const [input, want] of cases) assert.deepEqual(parsePlatform(input, host), want, input);
  assert.deepEqual(parsePlatform('linux', hostPlatform('x64')), AMD64);
});

test('parsePlatform refuses malformed specifiers', () => {
  const bad: Array<[string, RegExp]> = [
    ['', /empty/],
    ['linux/*', /wildcards/],
    ['linux/amd64/v2/extra', /expected os\[\/arch\[\/variant\]\]/],
    ['linux/', /not a valid component/],
    ['linux//v7', /not a valid component/],
    ['/amd64', /not a valid OS component/],
    ['linux/am d64', /not a valid component/],
    ['lin ux/amd64', /not a valid OS component/],
    ['linux/amd64/v7\n', /not a valid component/],
    ['notanos', /unknown operating system or architecture/],
    ['windows(%zz)/amd64', /bad %-escape/],
    ['x'.repeat(300), /longer than 256/],
  ];
  for (const [input, why] of bad) {
    assert.throws(() => parsePlatform(input, AMD64), (e: unknown) => e instanceof PlatformError && why.test(e.message) && e.message.startsWith('invalid platform'), JSON.stringify(input));
  }
});

test('formatPlatform writes os/arch[/variant] and round-trips through parsePlatform', () => {
  assert.equal(formatPlatform(AMD64), 'linux/amd64');
  assert.equal(formatPlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' }), 'linux/arm64/v8');
  assert.equal(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' }), 'linux/arm/v7');
  assert.equal(formatPlatform({ os: 'linux', architecture: 'amd64', variant: '' }), 'linux/amd64');
  assert.equal(formatPlatform({ os: '', architecture: '' }), 'unknown');
  for (const s of ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v6', 'linux/amd64/v3', 'linux/s390x']) {
    assert.equal(formatPlatform(parsePlatform(s, AMD64)), s);
  }
});

test('normalizePlatform sorts os.features and drops empty fields', () => {
  assert.deepEqual(normalizePlatform({ os: 'Windows', architecture: 'AMD64', 'os.version': '', 'os.features': ['b', 'a'] }), {
    os: 'windows',
    architecture: 'amd64',
    'os.features': ['a', 'b'],
  });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'arm64', variant: '' }), { os: 'linux', architecture: 'arm64', variant: 'v8' });
});

test('matchPlatform: exact os and architecture, variants as containerd orders them', () => {
  const p = (s: string) => parsePlatform(s, AMD64);
  // [candidate, wanted, rank or -1]
  const cases: Array<[Platform, Platform, number]> = [
    [p('linux/amd64'), p('linux/amd64'), 0],
    [{ os: 'linux', architecture: 'x86_64' }, p('linux/amd64'), 0],
    [p('linux/amd64/v2'), p('linux/amd64'), -1],
    [p('linux/amd64'), p('linux/amd64/v3'), 2],
    [p('linux/amd64/v2'), p('linux/amd64/v3'), 1],
    [p('linux/386'), p('linux/amd64'), -1],
    [p('windows/amd64'), p('linux/amd64'), -1],
    [p('linux/amd64'), p('windows/amd64'), -1],
    [p('linux/arm64'), p('linux/amd64'), -1],
    // arm64 hosts take entries with no variant and with v8 alike.
    [{ os: 'linux', architecture: 'arm64' }, p('linux/arm64'), 0],
    [{ os: 'linux', architecture: 'arm64', variant: 'v8' }, p('linux/arm64'), 0],
    [{ os: 'linux', architecture: 'arm64', variant: 'v8' }, { os: 'linux', architecture: 'arm64' }, 0],
    [p('linux/arm64/v8.2'), p('linux/arm64'), -1],
    [p('linux/arm64/v8.1'), p('linux/arm64/v8.2'), 1],
    [p('linux/arm64'), p('linux/arm64/v8.2'), 2],
    [p('linux/arm64/v8.5'), p('linux/arm64/v9'), 1],
    [p('linux/arm64/v8.6'), p('linux/arm64/v9'), -1],
    [p('linux/arm64/v8.6'), p('linux/arm64/v9.1'), 2],
    [p('linux/arm64'), p('linux/arm64/v9'), 6],
    // No 32-bit fallback on arm64: os/arch must match.
    [p('linux/arm/v7'), p('linux/arm64'), -1],
    // arm/v7 hosts take v7, then v6, then v5, never v8.
    [p('linux/arm/v7'), p('linux/arm/v7'), 0],
    [{ os: 'linux', architecture: 'arm' }, p('linux/arm/v7'), 0],
    [p('linux/arm/v6'), p('linux/arm/v7'), 1],
    [p('linux/arm/v5'), p('linux/arm/v7'), 2],
    [p('linux/arm/v8'), p('linux/arm/v7'), -1],
    [{ os: 'linux', architecture: 'arm', variant: 'v4' }, p('linux/arm/v7'), -1],
    [p('linux/arm/v7'), p('linux/arm/v6'), -1],
    [p('linux/arm/v5'), p('linux/arm/v8'), 3],
    [p('linux/riscv64'), p('linux/riscv64'), 0],
    [{ os: 'linux', architecture: 'riscv64', variant: 'rva22' }, p('linux/riscv64'), -1],
    // Required OS features must all be present on the host.
    [{ os: 'linux', architecture: 'amd64', 'os.features': ['x'] }, p('linux/amd64'), -1],
    [{ os: 'linux', architecture: 'amd64', 'os.features': ['x'] }, { os: 'linux', architecture: 'amd64', 'os.features': ['y', 'x'] }, 0],
    // Windows images must match the host's build, on Windows.
    [{ os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1234' }, { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.99' }, 0],
    [{ os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.1' }, { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.99' }, -1],
    // os.version means nothing on linux.
    [{ os: 'linux', architecture: 'amd64', 'os.version': '5.10' }, p('linux/amd64'), 0],
  ];
  for (const [candidate, wanted, rank] of cases) {
    const label = `${formatPlatform(candidate)} on ${formatPlatform(wanted)}`;
    assert.equal(platformRank(candidate, wanted), rank, label);
    assert.equal(matchPlatform(candidate, wanted), rank >= 0, label);
  }
});

function entry(n: number, platform?: Platform, annotations?: Record<string, string>): Descriptor {
  const d: Descriptor = {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: `sha256:${n.toString(16).padStart(64, '0')}`,
    size: 100 + n,
  };
  if (platform) d.platform = platform;
  if (annotations) d.annotations = annotations;
  return d;
}

test('selectManifest picks the best entry of a multi-platform index', () => {
  // The shape of docker.io/library/busybox's index, plus an attestation and a Windows entry.
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      entry(1, { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1' }),
      entry(2, { os: 'linux', architecture: 'amd64' }),
      entry(3, { os: 'linux', architecture: 'arm', variant: 'v5' }),
      entry(4, { os: 'linux', architecture: 'arm', variant: 'v6' }),
      entry(5, { os: 'linux', architecture: 'arm', variant: 'v7' }),
      entry(6, { os: 'linux', architecture: 'arm64', variant: 'v8' }),
      entry(7, { os: 'linux', architecture: '386' }),
      entry(8, { os: 'unknown', architecture: 'unknown' }, { 'vnd.docker.reference.type': 'attestation-manifest' }),
      entry(9, { os: 'linux', architecture: 'amd64' }),
    ],
  };
  const pick = (wanted: string) => selectManifest(index, parsePlatform(wanted, AMD64))?.size;
  assert.equal(pick('linux/amd64'), 102, 'first of two equal matches wins');
  assert.equal(pick('linux/arm64'), 106);
  assert.equal(pick('linux/arm64/v8'), 106);
  assert.equal(pick('linux/arm/v7'), 105);
  assert.equal(pick('linux/arm/v6'), 104);
  assert.equal(pick('linux/arm/v8'), 105, 'arm/v8 prefers v7 over v6 and v5');
  assert.equal(pick('linux/386'), 107);
  assert.equal(pick('linux/ppc64le'), undefined);
  assert.equal(pick('windows/amd64'), 101);

  // An arm/v7 host with only v5 and v6 available takes v6.
  const older: ImageIndex = { ...index, manifests: [index.manifests[2]!, index.manifests[3]!] };
  assert.equal(selectManifest(older, parsePlatform('linux/arm/v7', AMD64))?.size, 104);
  // Order of entries in the index does not beat rank.
  const reversed: ImageIndex = { ...index, manifests: [...index.manifests].reverse() };
  assert.equal(selectManifest(reversed, parsePlatform('linux/arm/v8', AMD64))?.size, 105);
});

test('manifestCandidates lists platform matches by rank, then entries with no platform', () => {
  const index: ImageIndex = {
    schemaVersion: 2,
    manifests: [
      entry(1),
      entry(2, { os: 'linux', architecture: 'arm', variant: 'v5' }),
      entry(3, { os: 'linux', architecture: 'arm', variant: 'v7' }),
      entry(4, undefined, { 'vnd.docker.reference.type': 'attestation-manifest' }),
      entry(5, { os: 'linux', architecture: 'arm', variant: 'v6' }),
      entry(6),
    ],
  };
  const sizes = manifestCandidates(index, parsePlatform('linux/arm/v7', AMD64)).map((d) => d.size);
  assert.deepEqual(sizes, [103, 105, 102, 101, 106]);
  // With no platformed match, selectManifest has nothing, but the candidates remain.
  assert.equal(selectManifest(index, AMD64), undefined);
  assert.deepEqual(manifestCandidates(index, AMD64).map((d) => d.size), [101, 106]);
});
