// The engine as a whole through the real `hull` CLI: version, info (and `system info`), system df
// with its container and volume rows and -v, and system prune with docker's prompt and report.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { engine, type Engine } from './helpers/engine.ts';

let e: Engine;
before(() => {
  e = engine();
});
after(() => e.destroy());

function inspect(ref: string): Record<string, any> {
  return JSON.parse(e.ok(['inspect', ref]))[0];
}

/** A tagless image: an imported tar with no name, as `docker import` makes one. */
function danglingImage(): string {
  const dir = mkdtempSync('/var/tmp/hull-system-test-');
  try {
    writeFileSync(join(dir, 'f'), 'hello\n');
    const tar = join(dir, 'layer.tar');
    const r = spawnSync('tar', ['-C', dir, '-cf', tar, 'f'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return e.ok(['import', tar]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('version', () => {
  it("prints docker's Client and Server sections with hull's version", () => {
    const out = e.ok(['version']);
    assert.match(out, /^Client:\n Version: {11}0\.1\.0\n API version: {7}1\.47\n/);
    assert.match(out, /\nServer:\n Engine:\n  Version: {10}0\.1\.0\n  API version: {6}1\.47 \(minimum version 1\.24\)\n/);
    assert.match(out, / OS\/Arch: {11}linux\/\w+\n/);
    assert.match(out, / hull-runtime:\n  Version: {10}0\.1\.0/);
  });

  it('--format renders the same data as docker names it', () => {
    assert.equal(e.ok(['version', '--format', '{{.Server.Version}} {{.Client.Version}} {{.Server.KernelVersion}}']), `0.1.0 0.1.0 ${release()}`);
    const json = JSON.parse(e.ok(['version', '--format', 'json']));
    assert.equal(json.Server.ApiVersion, '1.47');
    assert.equal(json.Server.Components[0].Name, 'Engine');
    assert.equal(json.Client.Context, 'default');
    const r = e.run(['version', '--format', '{{.Nope}}']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /template parsing error/);
  });
});

describe('info', () => {
  it('counts containers by state and reports the engine and host', () => {
    e.ok(['run', '-d', '--name', 'inf-run', 'busybox', 'sleep', '1000']);
    e.ok(['run', '-d', '--name', 'inf-paused', 'busybox', 'sleep', '1000']);
    e.ok(['pause', 'inf-paused']);
    e.ok(['create', '--name', 'inf-created', 'busybox', 'true']);
    const out = e.ok(['info']);
    assert.match(out, /^Client:\n Version: {4}0\.1\.0\n Context: {4}default\n Debug Mode: false\n\nServer:\n/);
    assert.match(out, /\n Containers: 3\n {2}Running: 1\n {2}Paused: 1\n {2}Stopped: 1\n Images: 1\n Server Version: 0\.1\.0\n Storage Driver: overlay2\n/);
    assert.match(out, /\n Logging Driver: json-file\n Cgroup Driver: cgroupfs\n Cgroup Version: [12]\n/);
    assert.ok(out.includes(`\n Kernel Version: ${release()}\n`));
    assert.ok(out.includes(`\n CPUs: ${availableParallelism()}\n`));
    assert.ok(out.includes(`\n Docker Root Dir: ${e.root}\n`));
    assert.match(out, /\n Total Memory: [\d.]+GiB\n/);
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
    assert.ok(out.includes(`\n Operating System: ${pretty}\n`), out);
    // `system info` is the same verb
    assert.equal(e.ok(['system', 'info', '--format', '{{.Containers}} {{.ContainersRunning}} {{.ContainersPaused}} {{.ContainersStopped}}']), '3 1 1 1');
    const json = JSON.parse(e.ok(['info', '--format', '{{json .}}']));
    assert.equal(json.DockerRootDir, e.root);
    assert.equal(json.Driver, 'overlay2');
    assert.equal(json.NCPU, availableParallelism());
    assert.equal(json.ClientInfo.Version, '0.1.0');
    e.ok(['rm', '-f', 'inf-run', 'inf-paused', 'inf-created']);
  });
});

describe('system df', () => {
  it('counts containers and volumes: sizes, active ones and what is reclaimable', () => {
    e.ok(['run', '--name', 'df-exited', '-v', 'df-vol:/data', 'busybox', 'sh', '-c', 'head -c 200000 /dev/zero > /data/x; head -c 100000 /dev/zero > /f']);
    e.ok(['run', '-d', '--name', 'df-run', 'busybox', 'sleep', '1000']);
    e.ok(['volume', 'create', 'df-unused']);
    const rows = e.ok(['system', 'df', '--format', '{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}']).split('\n').map((l) => l.split('|'));
    const byType = new Map(rows.map((r) => [r[0], r.slice(1)]));
    const [ctotal, cactive, csize, creclaim] = byType.get('Containers')!;
    assert.equal(ctotal, '2');
    assert.equal(cactive, '1');
    assert.match(csize!, /^\d[\d.]*kB$/);
    assert.ok(Number.parseFloat(csize!) >= 100);
    // only the exited one can be reclaimed: it holds all of the written data
    assert.match(creclaim!, /^\d[\d.]*kB \(\d+%\)$/);
    const [vtotal, vactive, vsize, vreclaim] = byType.get('Local Volumes')!;
    assert.equal(vtotal, '2');
    assert.equal(vactive, '1');
    assert.ok(Number.parseFloat(vsize!) >= 200);
    assert.match(vreclaim!, /^[\d.]+k?B \(\d+%\)$/);
    assert.deepEqual(byType.get('Build Cache'), ['0', '0', '0B', '0B']);
    const table = e.ok(['system', 'df']).split('\n');
    assert.match(table[0]!, /^TYPE {12}TOTAL {5}ACTIVE {4}SIZE {6}RECLAIMABLE$/);
    assert.deepEqual(table.map((l) => l.split(/\s{2,}/)[0]), ['TYPE', 'Images', 'Containers', 'Local Volumes', 'Build Cache']);
  });

  it('-v lists each image, container and volume, as docker lays them out', () => {
    const out = e.ok(['system', 'df', '-v']);
    assert.match(out, /^Images space usage:\n\nREPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\s+SHARED SIZE\s+UNIQUE SIZE\s+CONTAINERS\nbusybox\s+latest\s/);
    assert.match(out, /\n\nContainers space usage:\n\nCONTAINER ID\s+IMAGE\s+COMMAND\s+LOCAL VOLUMES\s+SIZE\s+CREATED\s+STATUS\s+NAMES\n/);
    assert.match(out, /\s"sleep 1000"\s+0\s+0B\s+.*Up .*df-run\n/);
    assert.match(out, /\s"sh -c head -c 20000…"\s+1\s+[\d.]+kB\s+.*Exited \(0\) .*df-exited\n/);
    assert.match(out, /\n\nLocal Volumes space usage:\n\nVOLUME NAME\s+LINKS\s+SIZE\ndf-unused\s+0\s+\S+\ndf-vol\s+1\s+[\d.]+kB\n/);
    assert.match(out, /\n\nBuild cache usage: 0B\n\nCACHE ID\s+CACHE TYPE\s+SIZE\s+CREATED\s+LAST USED\s+USAGE\s+SHARED$/);
    const json = JSON.parse(e.ok(['system', 'df', '-v', '--format', '{{json .}}']));
    assert.deepEqual(Object.keys(json), ['Images', 'Containers', 'Volumes', 'BuildCache']);
    assert.deepEqual(json.Containers.map((c: { Names: string }) => c.Names).sort(), ['df-exited', 'df-run']);
    assert.equal(json.Containers.find((c: { Names: string }) => c.Names === 'df-exited').ID, inspect('df-exited').Id);
    assert.deepEqual(json.Volumes.map((v: { Name: string }) => v.Name), ['df-unused', 'df-vol']);
    e.ok(['rm', '-f', 'df-exited', 'df-run']);
    e.ok(['volume', 'rm', 'df-vol', 'df-unused']);
  });
});

describe('system prune', () => {
  it('asks first, naming what it will remove and the filters', () => {
    e.ok(['create', '--name', 'sp-keep', 'busybox', 'true']);
    let r = e.run(['system', 'prune'], { input: 'n\n' });
    assert.equal(r.status, 0);
    assert.equal(r.stdout, 'WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all dangling images\n\nAre you sure you want to continue? [y/N] ');
    r = e.run(['system', 'prune', '-a', '--volumes', '--filter', 'label=a', '--filter', 'label!=b'], { input: '' });
    assert.equal(r.status, 0);
    assert.equal(r.stdout, 'WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all anonymous volumes not used by at least one container\n'
      + '  - all images without at least one container associated to them\n\n  Items to be pruned will be filtered with:\n  - label!=b\n  - label=a\n\n'
      + 'Are you sure you want to continue? [y/N] ');
    assert.equal(inspect('sp-keep').Name, '/sp-keep');
  });

  it('removes stopped containers and dangling images, then reports each and the total', () => {
    const image = danglingImage();
    e.ok(['run', '-d', '--name', 'sp-run', '-v', '/anon', 'busybox', 'sleep', '1000']);
    e.ok(['run', '--name', 'sp-exited', '-v', '/gone', 'busybox', 'true']);
    const keep = inspect('sp-keep').Id;
    const exited = inspect('sp-exited').Id;
    const r = e.run(['system', 'prune'], { input: 'y\n' });
    assert.equal(r.status, 0, r.stderr);
    const body = r.stdout.slice(r.stdout.indexOf('[y/N] ') + 6);
    const m = /^Deleted Containers:\n([0-9a-f]{64})\n([0-9a-f]{64})\n\nDeleted Images:\ndeleted: (sha256:[0-9a-f]{64})\n\nTotal reclaimed space: [\d.]+k?B\n$/.exec(body);
    assert.ok(m, body);
    assert.deepEqual([m[1], m[2]].sort(), [keep, exited].sort());
    assert.equal(m[3], image);
    assert.equal(inspect('sp-run').State.Running, true);
    // without --volumes, the stopped container's anonymous volume stays
    assert.equal(e.ok(['volume', 'ls', '-q']).split('\n').length, 2);
  });

  it('--volumes prunes unused anonymous volumes, not named ones; -a every unused image', () => {
    e.ok(['volume', 'create', 'sp-named']);
    e.ok(['tag', 'busybox', 'sp-extra:1']);
    const used = inspect('sp-run').Mounts[0].Name;
    const r = e.run(['system', 'prune', '-f', '-a', '--volumes']);
    assert.equal(r.status, 0, r.stderr);
    const m = /^Deleted Volumes:\n([0-9a-f]{64})\n\nTotal reclaimed space: [\d.]+k?B\n$/.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.notEqual(m[1], used);
    assert.deepEqual(e.ok(['volume', 'ls', '-q']).split('\n').sort(), [used, 'sp-named'].sort());
    // busybox (and its second tag) is held by the running container, so -a keeps it
    assert.equal(e.ok(['images', '--format', '{{.Repository}}:{{.Tag}}']).split('\n').sort().join(' '), 'busybox:latest sp-extra:1');
    e.ok(['rm', '-f', 'sp-run']);
    const all = e.run(['system', 'prune', '-f', '-a', '--volumes']);
    assert.equal(all.status, 0, all.stderr);
    const sections = all.stdout.split('\n\n');
    assert.deepEqual(sections.slice(0, 1), [`Deleted Volumes:\n${used}`]);
    const images = sections[1]!.split('\n');
    assert.equal(images[0], 'Deleted Images:');
    assert.deepEqual(images.slice(1, 3).sort(), ['untagged: busybox:latest', 'untagged: sp-extra:1']);
    assert.match(images[3]!, /^deleted: sha256:[0-9a-f]{64}$/);
    assert.match(sections[2]!, /^Total reclaimed space: [\d.]+[kM]B\n$/);
    assert.equal(e.ok(['images', '-q']), '');
    assert.deepEqual(e.ok(['volume', 'ls', '-q']).split('\n'), ['sp-named']);
    e.ok(['volume', 'rm', 'sp-named']);
    e.ok(['image', 'base', 'busybox:latest']);
  });

  it('refuses bad filters before asking, and removes nothing', () => {
    e.ok(['create', '--name', 'sp-left', 'busybox', 'true']);
    let r = e.run(['system', 'prune', '-f', '--filter', 'bogus=1']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "Error response from daemon: invalid filter 'bogus'\n");
    r = e.run(['system', 'prune', '--volumes', '--filter', 'until=1h'], { input: 'y\n' });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'ERROR: The "until" filter is not supported with "--volumes"\n');
    r = e.run(['system', 'prune', '--filter', 'until=soon'], { input: 'y\n' });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(inspect('sp-left').Name, '/sp-left');
    // until=1h: only what was made over an hour ago, so nothing here
    assert.equal(e.ok(['system', 'prune', '-f', '--filter', 'until=1h']), 'Total reclaimed space: 0B');
    e.ok(['rm', 'sp-left']);
  });
});
