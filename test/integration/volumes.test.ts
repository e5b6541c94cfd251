// Volumes through the real `hull` CLI bundle (create, ls, inspect, rm, prune: docker's flags,
// output and messages), and the engine's side of them through VolumeStore on the same state
// root: in-use refusal, a tmpfs options volume mounted and unmounted, a bind volume whose host
// data survives rm, copy-up keeping owners, modes, xattrs, times and links, and no leftovers
// (rows, directories, mounts) after every failure.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { humanSize } from '../../src/cli/units.ts';
import { diskUsage } from '../../src/image/store/disk-usage.ts';
import { ImageStore } from '../../src/image/store/image-store.ts';
import { transaction } from '../../src/image/store/metadata.ts';
import { VolumeStore } from '../../src/engine/volumes.ts';
import { lgetxattr, llistxattr, lsetxattr, lutimens, mknod, S_IFCHR, S_IFIFO, umount2, MNT_DETACH } from '../../src/sys/index.ts';

const HULL = fileURLToPath(new URL('../../dist/hull', import.meta.url));

interface Env {
  dir: string;
  root: string;
  hull(args: string[], input?: string): SpawnSyncReturns<string>;
  ok(args: string[], input?: string): string;
  /** The engine's view of the same root, opened once per test. */
  volumes(): VolumeStore;
  db(): DatabaseSync;
  /** A container row, as the engine's schema has it, that uses the given volumes. */
  container(id: string, volumes: string[]): void;
}

/** Runs body with a fresh --root/--runroot; afterwards nothing may be left mounted or half-made. */
async function withEnv(body: (e: Env) => void | Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hull-volumes-'));
  const root = join(dir, 'root');
  const runroot = join(dir, 'run');
  let store: ImageStore | undefined;
  let volumes: VolumeStore | undefined;
  const open = () => {
    store ??= ImageStore.open(root);
    volumes ??= new VolumeStore(store.db, root);
    return { store, volumes };
  };
  const e: Env = {
    dir,
    root,
    hull: (args, input = '') => spawnSync(HULL, ['--root', root, '--runroot', runroot, ...args], { encoding: 'utf8', input, timeout: 60_000 }),
    ok(args, input) {
      const r = e.hull(args, input);
      assert.equal(r.status, 0, `hull ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
      return r.stdout;
    },
    volumes: () => open().volumes,
    db: () => open().store.db,
    container(id, names) {
      const { store: s, volumes: v } = open();
      transaction(s.db, () => {
        s.db
          .prepare('INSERT INTO containers (id, name, image, created, config, host_config, state, mounts, path, args) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(id, `name-${id.slice(0, 8)}`, 'sha256:' + '0'.repeat(64), new Date().toISOString(), '{}', '{}', '{}', '[]', 'sh', '[]');
        for (const n of names) v.attach(id, n);
      });
    },
  };
  try {
    await body(e);
    assertClean(e);
  } finally {
    store?.close();
    for (const m of mountsUnder(dir).reverse()) umount2(m, MNT_DETACH);
    rmSync(dir, { recursive: true, force: true });
  }
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(dir + '/')));
}

/** Every row has its directory and every directory its row; nothing mounted; no trash or copy-up left. */
function assertClean(e: Env): void {
  assert.deepEqual(mountsUnder(e.dir), [], 'a mount was left');
  const dir = join(e.root, 'volumes');
  const entries = existsSync(dir) ? readdirSync(dir).sort() : [];
  const db = new DatabaseSync(join(e.root, 'images.db'), { readOnly: true });
  try {
    const rows = (db.prepare('SELECT name FROM volumes ORDER BY name').all() as { name: string }[]).map((r) => r.name).sort();
    assert.deepEqual(entries, rows, 'volume rows and directories differ');
  } finally {
    db.close();
  }
  for (const name of entries) {
    const data = join(dir, name, '_data');
    assert.ok(existsSync(data), `${name} has no _data`);
    assert.deepEqual(readdirSync(data).filter((n) => n.startsWith('.hull-copyup-')), [], `a copy-up was left in ${name}`);
  }
}

const names = (out: string) => out.split('\n').filter(Boolean);
const mode = (p: string) => lstatSync(p).mode & 0o7777;

test('create, inspect, ls and rm a named volume, as docker prints them', async () => {
  await withEnv((e) => {
    assert.equal(e.ok(['volume', 'create', 'data1']), 'data1\n');
    const dir = join(e.root, 'volumes', 'data1');
    assert.equal(mode(dir), 0o701);
    assert.equal(mode(join(dir, '_data')), 0o755);
    const [first] = JSON.parse(e.ok(['volume', 'inspect', 'data1'])) as Record<string, unknown>[];
    assert.deepEqual(Object.keys(first!), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
    assert.match(first!.CreatedAt as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    assert.deepEqual({ ...first, CreatedAt: '' }, {
      CreatedAt: '', Driver: 'local', Labels: {}, Mountpoint: join(dir, '_data'), Name: 'data1', Options: {}, Scope: 'local',
    });
    // docker's indented JSON, exactly
    assert.equal(
      e.ok(['volume', 'inspect', 'data1']),
      `[\n    {\n        "CreatedAt": "${first!.CreatedAt}",\n        "Driver": "local",\n        "Labels": {},\n        "Mountpoint": "${join(dir, '_data')}",\n        "Name": "data1",\n        "Options": {},\n        "Scope": "local"\n    }\n]\n`,
    );
    // creating an existing name gives the same volume back
    assert.equal(e.ok(['volume', 'create', '--label', 'ignored=1', 'data1']), 'data1\n');
    assert.deepEqual(JSON.parse(e.ok(['volume', 'inspect', 'data1']))[0], first);

    assert.equal(e.ok(['volume', 'inspect', '-f', '{{.Name}} {{.Driver}} {{.Scope}} {{json .Labels}}', 'data1']), 'data1 local local {}\n');
    assert.equal(e.ok(['volume', 'inspect', '--format', 'json', 'data1']), JSON.stringify([first]) + '\n');
    assert.equal(e.ok(['volume', 'ls']), 'DRIVER    VOLUME NAME\nlocal     data1\n');
    assert.equal(e.ok(['volume', 'list', '-q']), 'data1\n');

    const missing = e.hull(['volume', 'inspect', 'data1', 'nosuch']);
    assert.equal(missing.status, 1);
    assert.equal(JSON.parse(missing.stdout).length, 1);
    assert.equal(missing.stderr, 'Error response from daemon: get nosuch: no such volume\n');
    const none = e.hull(['volume', 'inspect', 'nosuch']);
    assert.equal(none.stdout, '[]\n');
    assert.equal(none.status, 1);
    const badTemplate = e.hull(['volume', 'inspect', '-f', '{{.Name', 'data1']);
    assert.equal(badTemplate.status, 64);
    assert.equal(badTemplate.stdout, '');
    assert.match(badTemplate.stderr, /^template parsing error: /);
    const badField = e.hull(['volume', 'inspect', '-f', '{{.Anonymous}}', 'data1']);
    assert.equal(badField.status, 1, 'Anonymous is hull\'s, not a field docker shows');

    assert.equal(e.ok(['volume', 'rm', 'data1']), 'data1\n');
    assert.ok(!existsSync(dir));
    assert.equal(e.ok(['volume', 'ls']), 'DRIVER    VOLUME NAME\n');
  });
});

test('anonymous volumes, labels, options, ls formats and natural order', async () => {
  await withEnv((e) => {
    const anon = e.ok(['volume', 'create']).trim();
    assert.match(anon, /^[0-9a-f]{64}$/);
    assert.deepEqual(JSON.parse(e.ok(['volume', 'inspect', anon]))[0].Labels, { 'com.docker.volume.anonymous': '' });
    e.ok(['volume', 'create', '--label', 'b=2', '--label', 'a', '--label', 'b=3', 'vol10']);
    e.ok(['volume', 'create', 'vol2']);
    e.ok(['volume', 'create', '--name', 'vol1']);
    e.ok(['volume', 'create', '-d', 'local', '-o', 'type=tmpfs', '--opt', 'device=tmpfs', '-o', 'o=size=1m,uid=1000', 'opts1']);
    assert.deepEqual(JSON.parse(e.ok(['volume', 'inspect', 'vol10']))[0].Labels, { a: '', b: '3' });
    assert.deepEqual(JSON.parse(e.ok(['volume', 'inspect', 'opts1']))[0].Options, { device: 'tmpfs', o: 'size=1m,uid=1000', type: 'tmpfs' });

    assert.deepEqual(names(e.ok(['volume', 'ls', '-q'])), [anon, 'opts1', 'vol1', 'vol2', 'vol10']);
    const table = e.ok(['volume', 'ls', '--format', 'table {{.Name}}\t{{.Labels}}\t{{.Links}}']).split('\n');
    assert.match(table[0]!, /^VOLUME NAME\s+LABELS\s+LINKS$/);
    assert.match(table[5]!, /^vol10\s+a=,b=3\s+N\/A$/);
    assert.equal(e.ok(['volume', 'ls', '-f', 'name=vol1', '--format', '{{.Name}}: {{.Label "b"}}|{{.Label "zz"}}|{{.Mountpoint}}']), `vol1: ||${join(e.root, 'volumes/vol1/_data')}\nvol10: 3||${join(e.root, 'volumes/vol10/_data')}\n`);
    assert.equal(e.ok(['volume', 'ls', '-f', 'name=vol2', '--format', 'raw']), 'name: vol2\ndriver: local\n\n');
    assert.equal(e.ok(['volume', 'ls', '-q', '-f', 'name=vol2', '--format', 'raw']), 'name: vol2\n');
    // a custom format wins over -q, as in docker
    assert.equal(e.ok(['volume', 'ls', '-q', '-f', 'name=vol2', '--format', '{{.Driver}}/{{.Scope}}']), 'local/local\n');
    const json = JSON.parse(e.ok(['volume', 'ls', '-f', 'name=vol10', '--format', 'json']));
    assert.deepEqual(json, {
      Availability: 'N/A', Driver: 'local', Group: 'N/A', Labels: 'a=,b=3', Links: 'N/A',
      Mountpoint: join(e.root, 'volumes/vol10/_data'), Name: 'vol10', Scope: 'local', Size: 'N/A', Status: 'N/A',
    });
    assert.equal(Object.keys(json).join(), Object.keys(json).sort().join(), 'docker sorts the row\'s keys');
    assert.equal(e.hull(['volume', 'ls', '--format', '{{.Nope}}']).status, 1);

    // two names for one volume is an error
    const both = e.hull(['volume', 'create', '--name', 'x1', 'x2']);
    assert.equal(both.status, 1);
    assert.match(both.stderr, /conflicting options: cannot specify a volume-name through both --name and as a positional arg/);
    const badLabel = e.hull(['volume', 'create', '--label', '=v', 'x3']);
    assert.equal(badLabel.status, 125);
    assert.match(badLabel.stderr, /invalid label '=v': empty name/);
    assert.equal(e.hull(['volume', 'create', 'x4', 'x5']).status, 1, 'docker: "volume create" requires at most 1 argument');
    assert.deepEqual(names(e.ok(['volume', 'ls', '-q'])), [anon, 'opts1', 'vol1', 'vol2', 'vol10']);
  });
});

test('ls filters: dangling, name, label, driver, and bad filters', async () => {
  await withEnv((e) => {
    e.ok(['volume', 'create', '--label', 'x=1', 'alpha1']);
    e.ok(['volume', 'create', '--label', 'x=2', '--label', 'y', 'beta22']);
    e.ok(['volume', 'create', 'gamma3']);
    e.container('c'.repeat(64), ['beta22']);
    const ls = (...filters: string[]) => names(e.ok(['volume', 'ls', '-q', ...filters.flatMap((f) => ['-f', f])]));
    assert.deepEqual(ls('name=alpha'), ['alpha1']);
    assert.deepEqual(ls('name=^.e'), ['beta22']);
    assert.deepEqual(ls('name=a1', 'name=3$'), ['alpha1', 'gamma3']);
    assert.deepEqual(ls('label=x'), ['alpha1', 'beta22']);
    assert.deepEqual(ls('label=x=1'), ['alpha1']);
    assert.deepEqual(ls('label=x', 'label=y'), ['beta22']);
    assert.deepEqual(ls('label=y=1'), []);
    assert.deepEqual(ls('driver=local'), ['alpha1', 'beta22', 'gamma3']);
    assert.deepEqual(ls('driver=nfs'), []);
    assert.deepEqual(ls('dangling=true'), ['alpha1', 'gamma3']);
    assert.deepEqual(ls('dangling=1', 'label=x'), ['alpha1']);
    assert.deepEqual(ls('dangling=false'), ['beta22']);
    assert.deepEqual(ls(' Dangling = 0 '), ['beta22'], 'keys are trimmed and lower-cased, values trimmed');

    const bad = (filters: string[], status: number, message: string | RegExp) => {
      const r = e.hull(['volume', 'ls', ...filters.flatMap((f) => ['--filter', f])]);
      assert.equal(r.status, status, r.stderr);
      assert.equal(r.stdout, '');
      if (typeof message === 'string') assert.equal(r.stderr, message);
      else assert.match(r.stderr, message);
    };
    bad(['dangling=maybe'], 1, "Error response from daemon: invalid filter 'dangling=[maybe]'\n");
    bad(['dangling=true', 'dangling=false'], 1, "Error response from daemon: invalid filter 'dangling=[true false]'\n");
    bad(['until=1h'], 1, "Error response from daemon: invalid filter 'until'\n");
    bad(['label!=x'], 1, "Error response from daemon: invalid filter 'label!'\n");
    bad(['nonsense'], 125, /bad format of filter \(expected name=value\)/);
  });
});

test('bad names, drivers and options are refused with docker\'s messages and leave nothing', async () => {
  await withEnv((e) => {
    const chars = 'includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path';
    const cases: [string[], string][] = [
      [['a'], 'create a: volume name is too short, names should be at least two alphanumeric characters'],
      [['foo/bar'], `create foo/bar: "foo/bar" ${chars}`],
      [['../escape'], `create ../escape: "../escape" ${chars}`],
      [['/abs/path'], `create /abs/path: "/abs/path" ${chars}`],
      [['.hidden'], `create .hidden: ".hidden" ${chars}`],
      [['_under'], `create _under: "_under" ${chars}`],
      [['sp ace'], `create sp ace: "sp ace" ${chars}`],
      [['-d', 'nfsplugin', 'v1'], 'create v1: error looking up volume plugin nfsplugin: plugin "nfsplugin" not found'],
      [['-o', 'bogus=1', 'v2'], 'create v2: invalid option: "bogus"'],
      [['-o', 'type=tmpfs', 'v3'], 'create v3: missing required option: "device"'],
      [['-o', 'device=/dev/sda1', 'v4'], 'create v4: missing required option: "type"'],
      [['-o', 'o=ro', 'v5'], 'create v5: missing required option: "device"'],
      [['-o', 'size=10m', 'v6'], 'create v6: quota size requested but no quota support'],
      [['-o', 'size=lots', 'v7'], "create v7: invalid size: 'lots'"],
    ];
    for (const [args, message] of cases) {
      const r = e.hull(['volume', 'create', ...args]);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `Error response from daemon: ${message}\n`);
    }
    const anon = e.hull(['volume', 'create', '-d', 'weird']);
    assert.match(anon.stderr, /^Error response from daemon: create [0-9a-f]{64}: error looking up volume plugin weird: plugin "weird" not found\n$/);
    // a zero size is no quota, and is accepted (as docker's)
    e.ok(['volume', 'create', '-o', 'size=0', 'zero']);
    assert.deepEqual(names(e.ok(['volume', 'ls', '-q'])), ['zero']);
    assert.deepEqual(readdirSync(join(e.root, 'volumes')), ['zero']);
    e.ok(['volume', 'rm', 'zero']);
  });
});

test('rm: missing volumes, -f, several at once, and a volume in use is refused even with -f', async () => {
  await withEnv((e) => {
    const missing = e.hull(['volume', 'rm', 'nosuch']);
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr, 'Error response from daemon: get nosuch: no such volume\n');
    assert.equal(e.ok(['volume', 'rm', '-f', 'nosuch', 'x']), 'nosuch\nx\n');

    e.ok(['volume', 'create', 'v1']);
    e.ok(['volume', 'create', 'v2']);
    const mixed = e.hull(['volume', 'rm', 'v1', 'nosuch', 'v2']);
    assert.equal(mixed.status, 1);
    assert.equal(mixed.stdout, 'v1\nv2\n');
    assert.equal(mixed.stderr, 'Error response from daemon: get nosuch: no such volume\n');

    e.ok(['volume', 'create', 'busy']);
    writeFileSync(join(e.root, 'volumes/busy/_data/keep'), 'data');
    const c1 = '1'.repeat(64);
    const c2 = '2'.repeat(64);
    e.container(c1, ['busy']);
    assert.deepEqual(e.volumes().usedBy('busy'), [c1]);
    for (const force of [[], ['-f']]) {
      const r = e.hull(['volume', 'rm', ...force, 'busy']);
      assert.equal(r.status, 1);
      assert.equal(r.stderr, `Error response from daemon: remove busy: volume is in use - [${c1}]\n`);
    }
    e.container(c2, ['busy']);
    assert.equal(e.hull(['volume', 'rm', 'busy']).stderr, `Error response from daemon: remove busy: volume is in use - [${c1}, ${c2}]\n`);
    assert.throws(() => e.volumes().remove('busy', true), { name: 'VolumeInUseError' });
    // system df's view: local volumes without options, with their size and users
    e.ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'notlocal']);
    const usage = e.volumes().usage();
    assert.deepEqual(usage.map((u) => [u.volume.Name, u.links]), [['busy', 2]]);
    assert.equal(usage[0]!.size, diskUsage(join(e.root, 'volumes/busy/_data')));
    e.ok(['volume', 'rm', 'notlocal']);
    assert.throws(() => e.volumes().attach(c1, 'nosuch'), /get nosuch: no such volume/);
    // a used volume is neither pruned nor dangling
    assert.equal(e.ok(['volume', 'prune', '-a', '-f']), 'Total reclaimed space: 0B\n');
    assert.deepEqual(names(e.ok(['volume', 'ls', '-q', '-f', 'dangling=false'])), ['busy']);
    assert.equal(readFileSync(join(e.root, 'volumes/busy/_data/keep'), 'utf8'), 'data');

    // the containers go (their rows cascade to container_volumes), and then it can go too
    e.db().prepare('DELETE FROM containers').run();
    assert.deepEqual(e.volumes().usedBy('busy'), []);
    assert.equal(e.ok(['volume', 'rm', 'busy']), 'busy\n');
    assert.deepEqual(readdirSync(join(e.root, 'volumes')), []);
  });
});

test('prune: anonymous volumes only unless --all, filters, and the question', async () => {
  await withEnv((e) => {
    const anon = e.ok(['volume', 'create']).trim();
    writeFileSync(join(e.root, 'volumes', anon, '_data/blob'), Buffer.alloc(10_000, 1));
    e.ok(['volume', 'create', '--label', 'keep=1', 'named1']);
    e.ok(['volume', 'create', 'named2']);
    e.ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'opts1']);
    const question = 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ';
    const all = ['named1', 'named2', 'opts1'];

    for (const answer of ['', 'n\n', 'yes\n']) {
      const r = e.hull(['volume', 'prune'], answer);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, question, 'a "no" ends quietly');
      assert.deepEqual(names(e.ok(['volume', 'ls', '-q'])), [anon, ...all]);
    }
    const size = diskUsage(join(e.root, 'volumes', anon, '_data'));
    assert.equal(e.ok(['volume', 'prune'], ' Y \n'), `${question}Deleted Volumes:\n${anon}\n\nTotal reclaimed space: ${humanSize(size, 4)}\n`);
    assert.deepEqual(names(e.ok(['volume', 'ls', '-q'])), all);
    assert.equal(e.ok(['volume', 'prune', '-f']), 'Total reclaimed space: 0B\n');

    const allQuestion = e.hull(['volume', 'prune', '-a']);
    assert.equal(allQuestion.stdout, 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ');
    const conflict = e.hull(['volume', 'prune', '-a', '--filter', 'all=1']);
    assert.equal(conflict.status, 1);
    assert.match(conflict.stderr, /conflicting options: cannot specify both --all and --filter all=1/);
    const until = e.hull(['volume', 'prune', '-f', '--filter', 'until=1h']);
    assert.equal(until.status, 1);
    assert.equal(until.stderr, "Error response from daemon: invalid filter 'until'\n");
    const badAll = e.hull(['volume', 'prune', '-f', '--filter', 'all=maybe']);
    assert.equal(badAll.stderr, 'Error response from daemon: invalid filter \'all\': strconv.ParseBool: parsing "maybe": invalid syntax\n');

    const named2 = humanSize(diskUsage(join(e.root, 'volumes/named2/_data')), 4);
    assert.equal(e.ok(['volume', 'prune', '-a', '-f', '--filter', 'label!=keep']), `Deleted Volumes:\nnamed2\n\nTotal reclaimed space: ${named2}\n`);
    assert.match(e.ok(['volume', 'prune', '-f', '--filter', 'all=true', '--filter', 'label=keep=1']), /^Deleted Volumes:\nnamed1\n\nTotal reclaimed space: /);
    // a volume with driver options is never pruned (it may be a bind of host data)
    assert.equal(e.ok(['volume', 'prune', '-a', '-f']), 'Total reclaimed space: 0B\n');
    assert.deepEqual(names(e.ok(['volume', 'ls', '-q'])), ['opts1']);
    e.ok(['volume', 'rm', 'opts1']);
  });
});

test('a tmpfs options volume is mounted by activate, unmounted by deactivate, and rm takes it down', async () => {
  await withEnv((e) => {
    e.ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1m,mode=0750,uid=1234,nodev', 'tmpv']);
    const data = join(e.root, 'volumes/tmpv/_data');
    assert.deepEqual(mountsUnder(e.dir), [], 'create mounts nothing');
    const v = e.volumes();
    assert.equal(v.activate('tmpv'), data);
    const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === data);
    assert.equal(line.length, 1);
    assert.match(line[0]!, / - tmpfs tmpfs \S*size=1024k/);
    assert.match(line[0]!.split(' ')[5]!, /nodev/);
    assert.equal(statSync(data).uid, 1234);
    assert.equal(mode(data), 0o750);
    writeFileSync(join(data, 'f'), 'x'.repeat(5000));
    assert.equal(v.activate('tmpv'), data);
    assert.equal(mountsUnder(data).length, 1, 'a second activate finds it mounted');
    assert.ok(v.size('tmpv') >= 4096);
    assert.equal(readFileSync(join(data, 'f'), 'utf8').length, 5000);

    v.deactivate('tmpv');
    assert.deepEqual(mountsUnder(e.dir), []);
    assert.deepEqual(readdirSync(data), [], 'the file lived in the tmpfs');
    v.deactivate('tmpv');
    v.deactivate('nosuch');

    // a plain volume is its directory: nothing to mount, nothing to unmount
    e.ok(['volume', 'create', 'plain']);
    assert.equal(v.activate('plain'), join(e.root, 'volumes/plain/_data'));
    v.deactivate('plain');
    assert.deepEqual(mountsUnder(e.dir), []);

    v.activate('tmpv');
    assert.equal(e.ok(['volume', 'rm', 'tmpv', 'plain']), 'tmpv\nplain\n');
    assert.deepEqual(mountsUnder(e.dir), []);
    assert.throws(() => v.activate('tmpv'), { name: 'VolumeNotFoundError', message: 'get tmpv: no such volume' });
  });
});

test('a read-only bind volume: the host data is seen read-only and survives rm while mounted', async () => {
  await withEnv((e) => {
    const host = join(e.dir, 'hostdata');
    mkdirSync(host);
    writeFileSync(join(host, 'precious'), 'keep me');
    e.ok(['volume', 'create', '-o', 'type=none', '-o', 'o=bind,ro', '-o', `device=${host}`, 'bindv']);
    const data = e.volumes().activate('bindv');
    assert.equal(readFileSync(join(data, 'precious'), 'utf8'), 'keep me');
    assert.throws(() => writeFileSync(join(data, 'new'), 'x'), { code: 'EROFS' });
    assert.equal(e.ok(['volume', 'rm', 'bindv']), 'bindv\n');
    assert.deepEqual(mountsUnder(e.dir), []);
    assert.equal(readFileSync(join(host, 'precious'), 'utf8'), 'keep me');
  });
});

test('a failed mount leaves nothing mounted and the volume as it was', async () => {
  await withEnv((e) => {
    const v = e.volumes();
    const root = join(e.root, 'volumes');
    e.ok(['volume', 'create', '-o', 'type=nosuchfs', '-o', 'device=none', 'badfs']);
    assert.throws(
      () => v.activate('badfs'),
      (err: Error) => err.message === `error while mounting volume '${root}/badfs/_data': failed to mount local volume: mount none:${root}/badfs/_data: no such device`,
    );
    e.ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=huge,password=secret', 'baddata']);
    assert.throws(() => v.activate('baddata'), (err: Error) => err.message.endsWith(`mount tmpfs:${root}/baddata/_data, data: size=huge,password=********: invalid argument`));
    e.ok(['volume', 'create', '-o', 'type=none', '-o', 'o=bind,ro', '-o', `device=${join(e.dir, 'missing')}`, 'nobind']);
    assert.throws(() => v.activate('nobind'), /flags: 0x1001: no such file or directory$/);
    assert.deepEqual(mountsUnder(e.dir), []);
    for (const name of ['badfs', 'baddata', 'nobind']) assert.deepEqual(readdirSync(join(root, name, '_data')), []);
    assert.equal(e.ok(['volume', 'rm', 'badfs', 'baddata', 'nobind']), 'badfs\nbaddata\nnobind\n');
  });
});

interface Entry {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  content?: string;
  target?: string;
  rdev?: bigint;
  xattrs: Record<string, string>;
}

/** Everything copy-up must keep, by path (the root's own times excepted). */
function describeTree(dir: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const walk = (p: string) => {
    const st = lstatSync(p, { bigint: true });
    const rel = relative(dir, p) || '.';
    const xattrs: Record<string, string> = {};
    for (const n of llistxattr(p)) xattrs[n] = lgetxattr(p, n)!.toString('hex');
    const e: Entry = {
      type: st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : st.isFile() ? 'file' : st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'chr' : 'other',
      mode: Number(st.mode & 0o7777n),
      uid: Number(st.uid),
      gid: Number(st.gid),
      mtimeNs: rel === '.' ? 0n : st.mtimeNs,
      xattrs,
    };
    if (st.isFile()) e.content = readFileSync(p, 'utf8');
    if (st.isSymbolicLink()) e.target = readlinkSync(p);
    if (st.isCharacterDevice()) e.rdev = st.rdev;
    out.set(rel, e);
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
  };
  walk(dir);
  return out;
}

function imageDir(at: string): string {
  mkdirSync(at, { mode: 0o750 });
  writeFileSync(join(at, 'file'), 'hello');
  chmodSync(join(at, 'file'), 0o640);
  lchownSync(join(at, 'file'), 1001, 1002);
  lsetxattr(join(at, 'file'), 'user.origin', 'image');
  writeFileSync(join(at, 'setuid'), '#!/bin/sh\n');
  lchownSync(join(at, 'setuid'), 0, 50);
  chmodSync(join(at, 'setuid'), 0o4755);
  mkdirSync(join(at, 'sub'));
  chmodSync(join(at, 'sub'), 0o1777);
  lsetxattr(join(at, 'sub'), 'trusted.layer', Buffer.from([0, 1, 2]));
  writeFileSync(join(at, 'sub/deep'), 'deep');
  mkdirSync(join(at, 'sub/empty'));
  writeFileSync(join(at, 'hard1'), 'shared');
  linkSync(join(at, 'hard1'), join(at, 'sub/hard2'));
  symlinkSync('file', join(at, 'link'));
  lchownSync(join(at, 'link'), 1003, 1003);
  symlinkSync('/nonexistent/target', join(at, 'dangling'));
  mknod(join(at, 'fifo'), S_IFIFO | 0o620);
  mknod(join(at, 'null'), S_IFCHR | 0o666, 1, 3);
  // times last, children first: making an entry changes its directory's mtime
  for (const [p, sec] of [['file', 1_000_000_000], ['setuid', 1_000_000_001], ['link', 1_000_000_002], ['sub/deep', 1_000_000_003], ['sub', 1_000_000_004]] as const) {
    lutimens(join(at, p), { sec, nsec: 123456789 }, { sec, nsec: 987654321 });
  }
  lchownSync(at, 999, 998);
  return at;
}

test('populate copies an image directory into an empty volume, keeping owners, modes, xattrs, times and links', async () => {
  await withEnv((e) => {
    const src = imageDir(join(e.dir, 'image-dir'));
    e.ok(['volume', 'create', 'pop']);
    const v = e.volumes();
    v.populate('pop', src);
    const data = join(e.root, 'volumes/pop/_data');
    const want = describeTree(src);
    const got = describeTree(data);
    assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
    for (const [rel, entry] of want) assert.deepEqual(got.get(rel), entry, rel);
    assert.equal(statSync(data).uid, 999, 'the volume root takes the directory\'s owner');
    assert.equal(mode(data), 0o750);
    const h1 = statSync(join(data, 'hard1'));
    const h2 = statSync(join(data, 'sub/hard2'));
    assert.equal(h1.ino, h2.ino, 'hard links stay one file');
    assert.equal(h1.nlink, 2);

    // a volume with content is never overwritten; a missing or non-directory source is no copy
    const other = join(e.dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'intruder'), 'x');
    v.populate('pop', other);
    v.populate('pop', join(e.dir, 'missing'));
    assert.ok(!existsSync(join(data, 'intruder')));
    e.ok(['volume', 'create', 'pop2']);
    v.populate('pop2', join(src, 'file'));
    assert.deepEqual(readdirSync(join(e.root, 'volumes/pop2/_data')), []);
    // an empty image directory still gives the volume its owner and mode
    const empty = join(e.dir, 'empty');
    mkdirSync(empty, { mode: 0o700 });
    lchownSync(empty, 70, 70);
    v.populate('pop2', empty);
    assert.equal(statSync(join(e.root, 'volumes/pop2/_data')).uid, 70);
    assert.equal(mode(join(e.root, 'volumes/pop2/_data')), 0o700);

    // into an options volume: the copy goes into the mounted filesystem
    e.ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'poptmp']);
    v.populate('poptmp', src);
    const tmpData = join(e.root, 'volumes/poptmp/_data');
    assert.equal(mountsUnder(tmpData).length, 1);
    assert.equal(readFileSync(join(tmpData, 'sub/deep'), 'utf8'), 'deep');
    assert.equal(lgetxattr(join(tmpData, 'file'), 'user.origin')?.toString(), 'image');
    v.deactivate('poptmp');
    e.ok(['volume', 'rm', 'pop', 'pop2', 'poptmp']);
  });
});

test('a copy-up that fails (a full tmpfs) leaves the volume empty', async () => {
  await withEnv((e) => {
    const src = join(e.dir, 'big');
    mkdirSync(src);
    writeFileSync(join(src, 'small'), 'x');
    writeFileSync(join(src, 'large'), Buffer.alloc(1 << 20, 7));
    e.ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=64k', 'tiny']);
    const v = e.volumes();
    assert.throws(() => v.populate('tiny', src), { code: 'ENOSPC' });
    const data = join(e.root, 'volumes/tiny/_data');
    assert.deepEqual(readdirSync(data), []);
    v.deactivate('tiny');
    e.ok(['volume', 'rm', 'tiny']);
  });
});

test('two processes creating one volume at once make one volume', async () => {
  await withEnv(async (e) => {
    const runs = Array.from({ length: 6 }, () =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(HULL, ['--root', e.root, 'volume', 'create', 'shared'], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d));
        child.on('close', (code) => resolve({ code, out }));
      }),
    );
    for (const r of await Promise.all(runs)) assert.deepEqual(r, { code: 0, out: 'shared\n' });
    assert.deepEqual(names(e.ok(['volume', 'ls', '-q'])), ['shared']);
  });
});

test('a directory left by a killed create is swept by the next create', async () => {
  await withEnv((e) => {
    e.ok(['volume', 'create', 'first']);
    // what a create killed between mkdir and commit leaves: a directory with no row
    mkdirSync(join(e.root, 'volumes/orphan/_data'), { recursive: true });
    writeFileSync(join(e.root, 'volumes/orphan/_data/f'), 'x');
    mkdirSync(join(e.root, 'volumes/.removing-999999999-0-abcd/_data'), { recursive: true });
    e.ok(['volume', 'create', 'second']);
    assert.deepEqual(readdirSync(join(e.root, 'volumes')).sort(), ['first', 'second']);
    // the orphan's name is free again, and comes back empty
    e.ok(['volume', 'create', 'orphan']);
    assert.deepEqual(readdirSync(join(e.root, 'volumes/orphan/_data')), []);
    e.ok(['volume', 'rm', 'first', 'second', 'orphan']);
  });
});

test('a create that fails after making its directories leaves no row and no directory', async () => {
  await withEnv((e) => {
    e.ok(['volume', 'create', 'before']);
    // the database refuses the row (as a full disk would) after the directories were made
    e.db().exec("CREATE TRIGGER refuse_boom BEFORE INSERT ON volumes WHEN NEW.name = 'boom' BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
    const r = e.hull(['volume', 'create', 'boom']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'Error response from daemon: create boom: database or disk is full\n');
    e.db().exec('DROP TRIGGER refuse_boom');
    assert.deepEqual(readdirSync(join(e.root, 'volumes')), ['before']);

    // the directory cannot be made at all (an immutable parent stops even root)
    const volumes = join(e.root, 'volumes');
    assert.equal(spawnSync('chattr', ['+i', volumes]).status, 0);
    try {
      const made = e.hull(['volume', 'create', 'frozen']);
      assert.equal(made.status, 1);
      assert.match(made.stderr, /^Error response from daemon: create frozen: error while creating volume root path '.*\/volumes\/frozen': EPERM: operation not permitted/);
    } finally {
      spawnSync('chattr', ['-i', volumes]);
    }
    assert.deepEqual(names(e.ok(['volume', 'ls', '-q'])), ['before']);

    // something mounted where a new volume would go is never adopted nor deleted
    const stuck = join(volumes, 'stuck/_data');
    mkdirSync(stuck, { recursive: true });
    const mounted = spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', stuck]);
    assert.equal(mounted.status, 0, String(mounted.stderr));
    writeFileSync(join(stuck, 'theirs'), 'x');
    const taken = e.hull(['volume', 'create', 'stuck']);
    assert.equal(taken.stderr, `Error response from daemon: create stuck: volume already exists under ${join(volumes, 'stuck')}\n`);
    assert.equal(readFileSync(join(stuck, 'theirs'), 'utf8'), 'x');
    umount2(stuck, 0);
    // unmounted, it is an orphan like any other: swept, and the name is free
    e.ok(['volume', 'create', 'stuck']);
    assert.deepEqual(readdirSync(stuck), []);
    e.ok(['volume', 'rm', 'before', 'stuck']);
  });
});
