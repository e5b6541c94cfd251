// `image prune` with docker's prune filters (until with docker's timestamp and duration forms,
// label and label!), against real stores on disk, through the engine and the CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadImages } from '../../src/engine/archive/load.ts';
import { filterArgs, parsePruneFilters, pruneImages, type PruneFilters } from '../../src/engine/images.ts';
import { serializeConfig } from '../../src/image/manifest.ts';
import { hostPlatform } from '../../src/image/platform.ts';
import { ImageStore } from '../../src/image/store/image-store.ts';
import { tarStream, type TarEntry } from '../../src/image/tar/writer.ts';

const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));

const dirs: string[] = [];
const stores: ImageStore[] = [];
after(() => {
  for (const s of stores) s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `hull-prune-${prefix}-`));
  dirs.push(d);
  return d;
}

const sha = (b: Uint8Array | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');

async function bytesOf(entries: TarEntry[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of tarStream(entries)) parts.push(c);
  return Buffer.concat(parts);
}

const file = (name: string, data: Buffer | string): TarEntry => ({ name, type: 'file', mode: 0o644, mtime: 0, data: Buffer.from(data) });

interface Made {
  name: string;
  created?: string;
  labels?: Record<string, string>;
}

/** Loads one single-layer image per entry (each layer its own file), tagged name:1; returns their IDs by name. */
async function makeImages(store: ImageStore, images: Made[]): Promise<Record<string, string>> {
  const files: TarEntry[] = [];
  const manifest = [];
  const ids: Record<string, string> = {};
  for (const img of images) {
    const layer = await bytesOf([file(`${img.name}.txt`, img.name)]);
    const p = hostPlatform();
    const config = Buffer.from(
      serializeConfig({
        architecture: p.architecture,
        os: p.os,
        ...(img.created ? { created: img.created } : {}),
        config: { Cmd: ['sh'], ...(img.labels ? { Labels: img.labels } : {}) },
        rootfs: { type: 'layers', diff_ids: [sha(layer) as `sha256:${string}`] },
      }),
    );
    files.push(file(`${img.name}.json`, config), file(`${img.name}.tar`, layer));
    manifest.push({ Config: `${img.name}.json`, RepoTags: [`${img.name}:1`], Layers: [`${img.name}.tar`] });
    ids[img.name] = sha(config);
  }
  files.push(file('manifest.json', JSON.stringify(manifest)));
  await loadImages(store, Readable.from([await bytesOf(files)]));
  return ids;
}

function newStore(): ImageStore {
  const s = ImageStore.open(tmp('store'));
  stores.push(s);
  return s;
}

const NOW = Date.parse('2024-06-01T12:00:00Z');
const IMAGES: Made[] = [
  { name: 'old', created: '2020-01-01T00:00:00Z', labels: { team: 'a', keep: 'no' } },
  { name: 'mid', created: '2022-06-01T10:30:00.123456789+02:00', labels: { team: 'b' } },
  { name: 'recent', created: '2024-06-01T11:00:00Z', labels: { team: 'a', keep: 'yes' } },
  { name: 'undated', labels: { team: 'a' } },
];

function prune(store: ImageStore, raw: string[], all: boolean): string[] {
  const args = filterArgs(raw);
  args.set('dangling', [String(!all)]);
  const filters: PruneFilters = parsePruneFilters(args, NOW);
  return pruneImages(store, filters).removed.deleted;
}

async function fixture(): Promise<{ store: ImageStore; ids: Record<string, string> }> {
  const store = newStore();
  return { store, ids: await makeImages(store, IMAGES) };
}

const names = (ids: Record<string, string>, deleted: string[]) => Object.keys(ids).filter((n) => deleted.includes(ids[n]!)).sort();

test('until: images created after the point in time, and those with no creation time, are kept', async () => {
  const cases: [string, string[]][] = [
    ['until=2021-01-01T00:00:00Z', ['old']],
    ['until=2022-06-01T08:30:00.123456789Z', ['mid', 'old']], // the same instant as mid's creation, in UTC: not after it
    ['until=2022-06-01T08:30:00.123456788Z', ['old']],
    ['until=2022-06-01T10:30:00.5+02:00', ['mid', 'old']],
    ['until=2022-06-01Z', ['old']],
    ['until=24h', ['mid', 'old']],
    ['until=30m', ['mid', 'old', 'recent']],
    ['until=1h30m', ['mid', 'old']],
    ['until=-1h', ['mid', 'old', 'recent']],
    [`until=${Date.parse('2023-01-01T00:00:00Z') / 1000}`, ['mid', 'old']],
    [`until=${Date.parse('2024-06-01T11:00:00Z') / 1000}.000000001`, ['mid', 'old', 'recent']],
    ['until=0', []],
  ];
  for (const [filter, want] of cases) {
    const { store, ids } = await fixture();
    assert.deepEqual(names(ids, prune(store, [filter], true)), want, filter);
    assert.equal(store.list().length, IMAGES.length - want.length, filter);
  }
});

test('until: a time without a zone is local time', async () => {
  // a local 2022-06-01T08:30:00.2 is that UTC time shifted by the zone's offset from UTC (as of now, as docker takes it)
  const offsetMinutes = -new Date(NOW).getTimezoneOffset();
  const local = new Date(Date.parse('2022-06-01T08:30:00.200Z') + offsetMinutes * 60_000).toISOString().replace(/Z$/, '');
  const { store, ids } = await fixture();
  assert.deepEqual(names(ids, prune(store, [`until=${local}`], true)), ['mid', 'old']);
});

test('label and label!: every label= must match, and an image with every label! is kept', async () => {
  const cases: [string[], string[]][] = [
    [['label=team=a'], ['old', 'recent', 'undated']],
    [['label=team'], ['mid', 'old', 'recent', 'undated']],
    [['label=team=a', 'label=keep'], ['old', 'recent']],
    [['label!=keep=yes'], ['mid', 'old', 'undated']],
    [['label!=keep'], ['mid', 'undated']],
    [['label!=team=a', 'label!=keep=no'], ['mid', 'recent', 'undated']],
    [['label=team=a', 'until=2024-01-01T00:00:00Z'], ['old']],
    [['label=nobody'], []],
  ];
  for (const [filters, want] of cases) {
    const { store, ids } = await fixture();
    assert.deepEqual(names(ids, prune(store, filters, true)), want, filters.join(' '));
  }
});

test('without -a only dangling images go, filters narrowing them; images a container holds stay', async () => {
  const { store, ids } = await fixture();
  store.untag('docker.io/library/old:1');
  store.untag('docker.io/library/recent:1');
  store.untag('docker.io/library/undated:1');
  store.hold('container:c1', ids['undated']!, store.get(ids['undated']!)!.topChain);
  assert.deepEqual(names(ids, prune(store, ['until=2023-01-01T00:00:00Z'], false)), ['old']);
  assert.deepEqual(names(ids, prune(store, [], false)), ['recent']);
  assert.deepEqual(store.list().map((i) => i.id).sort(), [ids['mid'], ids['undated']].sort());
  store.unhold('container:c1');
});

test('bad filters: each refused with docker\'s message, before anything is removed', async () => {
  const bad: [string[], RegExp][] = [
    [['until'], /^bad format of filter \(expected name=value\): until$/],
    [['since=1h'], /^invalid filter 'since'$/],
    [['reference=x'], /^invalid filter 'reference'$/],
    [['until=1h', 'until=2h'], /^more than one until filter specified$/],
    [['until=yesterday'], /^failed to parse value as time or duration: "yesterday"$/],
    [['until=10x'], /^failed to parse value as time or duration: "10x"$/],
    [['until=2024-13-01'], /^parsing time "2024-13-01": month out of range$/],
    [['until=2023-02-29T10:00:00Z'], /^parsing time "2023-02-29T10:00:00Z": day out of range$/],
    [['until=2024-01-01T24:00'], /^parsing time "2024-01-01T24:00": hour out of range$/],
    [['until=2024-1-01'], /^parsing time "2024-1-01" as "2006-01-02": /],
    [['dangling=maybe'], /^invalid filter 'dangling=maybe'$/],
  ];
  const { store } = await fixture();
  for (const [raw, re] of bad) {
    assert.throws(() => parsePruneFilters(filterArgs(raw), NOW), { message: re }, raw.join(' '));
  }
  assert.equal(store.list().length, IMAGES.length);
  // names are case-insensitive and values trimmed, as docker's filter flags
  assert.deepEqual(parsePruneFilters(filterArgs([' Label = team=a ', 'UNTIL=1h']), NOW), {
    danglingOnly: true,
    labels: ['team=a'],
    notLabels: [],
    until: BigInt(NOW - 3_600_000) * 1_000_000n,
  });
});

function hull(root: string, args: string[]) {
  return spawnSync(process.execPath, [BIN, '--root', root, ...args], { encoding: 'utf8', input: '' });
}

test('CLI: image prune -a --filter until= / label!=, the lines docker prints, and the refusals', async () => {
  const root = tmp('cli');
  const store = ImageStore.open(root);
  const ids = await makeImages(store, IMAGES);
  store.close();

  let r = hull(root, ['image', 'prune', '-a', '-f', '--filter', 'until=2023-01-01T00:00:00Z', '--filter', 'label!=keep=no']);
  assert.equal(r.status, 0, r.stderr);
  const [head, ...rest] = r.stdout.trimEnd().split('\n');
  assert.equal(head, 'Deleted Images:');
  assert.deepEqual(rest.slice(0, 2), ['untagged: mid:1', `deleted: ${ids['mid']}`]);
  assert.match(rest.at(-1)!, /^Total reclaimed space: \d+(\.\d+)?k?B$/);
  assert.equal(rest[2], '');

  r = hull(root, ['image', 'prune', '-f', '--filter', 'dangling=false']);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, "Error: invalid filter 'dangling=false,true'\n");
  r = hull(root, ['image', 'prune', '-a', '-f', '--filter', 'until=soon']);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'Error: failed to parse value as time or duration: "soon"\n');
  r = hull(root, ['image', 'prune', '-f', '--filter', 'bogus=1']);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, "Error: invalid filter 'bogus'\n");

  // -a with a filter that agrees, and nothing left to prune but the partial downloads (none)
  r = hull(root, ['image', 'prune', '-a', '-f', '--filter', 'dangling=false', '--filter', 'label=team=z']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Total reclaimed space: 0B\n');
  const left = ImageStore.open(root);
  try {
    assert.deepEqual(left.list().map((i) => i.id).sort(), [ids['old'], ids['recent'], ids['undated']].sort());
  } finally {
    left.close();
  }
  assert.deepEqual(readdirSync(join(root, 'tmp')), []);
});
