// commit through the real `hull` CLI: the new image's layer (deletions, opaque directories, hard
// links, devices, xattrs), its config and history as docker makes them, a running container
// paused and resumed, bad input refused before anything is made, and a full disk (an 8 MB
// tmpfs as the state root) that leaves no blob, snapshot, row or scratch file behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { engine, HULL, type Engine } from './helpers/engine.ts';

function inspect(e: Engine, ref: string): Record<string, any> {
  return JSON.parse(e.ok(['inspect', ref]))[0];
}

function imageInspect(e: Engine, ref: string): Record<string, any> {
  return JSON.parse(e.ok(['image', 'inspect', ref]))[0];
}

/** The image's config blob, as the store holds it. */
function configBlob(e: Engine, id: string): Record<string, any> {
  return JSON.parse(readFileSync(join(e.root, 'blobs', 'sha256', id.slice('sha256:'.length)), 'utf8'));
}

describe('commit', () => {
  let e: Engine;
  before(() => {
    e = engine();
  });
  after(() => e.destroy());

  it("makes an image of the container's changes, with docker's config and history", () => {
    const script = [
      'echo hi > /x', 'mkdir /y', 'ln /x /y/hard', 'mknod /dev2 c 1 3', 'rm /etc/group',
      'rm -rf /home', 'mkdir /home', 'touch /home/new', 'mkdir -p /tmp/keep',
    ].join(' && ');
    const id = e.ok(['create', '--name', 'src', '-e', 'FOO=bar', '-w', '/tmp', '-l', 'k=v', 'busybox', 'sh', '-c', script]);
    assert.equal(e.run(['start', '-a', 'src']).status, 0);
    // an xattr set on a file of the container's layer goes into the image
    const x = join(e.root, 'containers', id, 'diff', 'x');
    const py = spawnSync('python3', ['-c', `import os; os.setxattr(${JSON.stringify(x)}, 'user.hull', b'kept')`]);
    assert.equal(py.status, 0, String(py.stderr));

    const image = e.ok(['commit', '-a', 'Hull Tester <t@example.com>', '-m', 'a message', '-c', 'CMD ["cat", "/x"]', '-c', 'EXPOSE 8080', 'src', 'committed:v1']);
    assert.match(image, /^sha256:[0-9a-f]{64}$/);
    const img = imageInspect(e, 'committed:v1');
    assert.equal(img.Id, image);
    assert.equal(img.Author, 'Hull Tester <t@example.com>');
    assert.deepEqual(img.Config.Cmd, ['cat', '/x']);
    assert.ok(img.Config.Env.includes('FOO=bar'));
    assert.equal(img.Config.WorkingDir, '/tmp');
    assert.deepEqual(img.Config.Labels, { k: 'v' });
    assert.deepEqual(Object.keys(img.Config.ExposedPorts), ['8080/tcp']);
    const parent = imageInspect(e, 'busybox:latest');
    assert.deepEqual(img.RootFS.Layers.slice(0, -1), parent.RootFS.Layers);
    assert.equal(img.RootFS.Layers.length, parent.RootFS.Layers.length + 1);

    const config = configBlob(e, image);
    const last = config.history.at(-1);
    assert.equal(last.author, 'Hull Tester <t@example.com>');
    assert.equal(last.comment, 'a message');
    assert.equal(last.created_by, `sh -c ${script}`);
    assert.equal(last.empty_layer, undefined);
    assert.equal(config.config.Hostname, undefined, 'container-only fields are dropped');

    assert.equal(e.ok(['run', '--rm', 'committed:v1']), 'hi');
    const seen = e.ok(['run', '--rm', 'committed:v1', 'sh', '-c',
      'stat -c "%h %n" /x /y/hard; stat -c "%t:%T %F" /dev2; test -e /etc/group || echo no-group; ls -A /home; test -d /tmp/keep && echo keep']);
    assert.equal(seen, '2 /x\n2 /y/hard\n1:3 character special file\nno-group\nnew\nkeep');

    // the xattr, read back through a tar of the image's file
    const made = e.ok(['create', 'committed:v1']);
    const tar = spawnSync(HULL, ['--root', e.root, '--runroot', e.runroot, 'cp', `${made}:/x`, '-']);
    assert.equal(tar.status, 0, String(tar.stderr));
    const pax = spawnSync('python3', ['-c', 'import sys, tarfile; t = tarfile.open(fileobj=sys.stdin.buffer, mode="r|"); print([m.pax_headers.get("SCHILY.xattr.user.hull") for m in t])'], { input: tar.stdout });
    assert.equal(String(pax.stdout).trim(), "['kept']");
    e.ok(['rm', made, 'src']);
    e.ok(['rmi', 'committed:v1']);
  });

  it('adds an empty_layer history entry and no layer for a container that changed nothing', () => {
    e.ok(['create', '--name', 'untouched', 'busybox', 'true']);
    const image = e.ok(['commit', 'untouched']);
    const img = imageInspect(e, image);
    assert.deepEqual(img.RootFS.Layers, imageInspect(e, 'busybox:latest').RootFS.Layers);
    assert.equal(configBlob(e, image).history.at(-1).empty_layer, true);
    assert.equal(img.RepoTags.length, 0);
    e.ok(['rm', 'untouched']);
    e.ok(['rmi', image]);
  });

  it('pauses a running container while it reads its layer, and resumes it', () => {
    const id = e.ok(['run', '-d', '--name', 'live', 'busybox', 'sh', '-c', 'echo live > /live; touch /ready; sleep 1000']);
    for (let i = 0; i < 200 && e.run(['exec', 'live', 'test', '-e', '/ready']).status !== 0; i++) spawnSync('sleep', ['0.05']);
    e.ok(['commit', 'live', 'live:1']);
    e.ok(['commit', '--pause=false', 'live', 'live:2']);
    const c = inspect(e, 'live');
    assert.equal(c.State.Status, 'running');
    assert.equal(c.State.Paused, false);
    const freezer = join('/sys/fs/cgroup/freezer/hull', id, 'freezer.state');
    if (existsSync(freezer)) assert.equal(readFileSync(freezer, 'utf8').trim(), 'THAWED');
    assert.equal(e.ok(['exec', 'live', 'echo', 'still here']), 'still here');
    assert.equal(e.ok(['run', '--rm', 'live:1', 'cat', '/live']), 'live');
    assert.equal(e.ok(['run', '--rm', 'live:2', 'cat', '/live']), 'live');
    e.ok(['rm', '-f', 'live']);
    e.ok(['rmi', 'live:1', 'live:2']);
  });

  it('commits a container whose image was removed, from the layers it still holds', () => {
    e.ok(['run', '--name', 'first', 'busybox', 'sh', '-c', 'echo one > /one']);
    const mid = e.ok(['commit', 'first']);
    e.ok(['run', '--name', 'second', mid, 'sh', '-c', 'echo two > /two']);
    e.ok(['rmi', '-f', mid]);
    const image = e.ok(['commit', 'second', 'orphan:1']);
    assert.equal(e.ok(['run', '--rm', 'orphan:1', 'cat', '/one', '/two']), 'one\ntwo');
    e.ok(['rm', 'first', 'second']);
    e.ok(['rmi', image]);
  });

  it('refuses bad input before making anything', () => {
    e.ok(['create', '--name', 'target', 'busybox', 'sh', '-c', 'true']);
    const before = e.ok(['images', '-q', '--no-trunc']);
    const fails = (args: string[], message: string) => {
      const r = e.run(['commit', ...args]);
      assert.equal(r.status, 1, `commit ${args.join(' ')}: ${r.stdout}`);
      assert.equal(r.stderr, message + '\n');
    };
    fails(['nosuch'], 'Error response from daemon: No such container: nosuch');
    fails(['-c', 'FROM busybox', 'target'], 'Error response from daemon: from is not a valid change command');
    fails(['target', 'UPPER:x'], 'invalid reference format: repository name (library/UPPER) must be lowercase');
    assert.equal(e.ok(['images', '-q', '--no-trunc']), before);
    const tmp = join(e.root, 'tmp');
    assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], []);
    e.ok(['rm', 'target']);
  });
});

describe('commit on a full disk', () => {
  let e: Engine;
  before(() => {
    e = engine({ baseImage: false });
    mkdirSync(e.root, { recursive: true });
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', e.root]);
    assert.equal(m.status, 0, String(m.stderr));
    e.ok(['image', 'base', 'busybox:latest']);
  });
  after(() => {
    try {
      for (const id of readdirSync(join(e.root, 'containers'))) e.run(['rm', '-f', id]);
      // the default bridge and its firewall table are recorded on the tmpfs about to go
      e.run(['system', 'reset', '-f']);
    } finally {
      spawnSync('umount', [e.root]);
      e.destroy();
    }
  });

  /** What the store holds: files under blobs/, snapshots/, tmp/ and ingest/, and its rows. */
  function storeState(): Record<string, unknown> {
    const files = (dir: string): string[] => {
      const top = join(e.root, dir);
      if (!existsSync(top)) return [];
      return (readdirSync(top, { recursive: true }) as string[]).filter((f) => !statSync(join(top, f)).isDirectory()).sort();
    };
    const snapshots = existsSync(join(e.root, 'snapshots')) ? readdirSync(join(e.root, 'snapshots')).sort() : [];
    const db = new DatabaseSync(join(e.root, 'images.db'), { readOnly: true });
    try {
      const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
      return {
        blobs: files('blobs'), snapshots, tmp: files('tmp'), ingest: files('ingest'),
        images: count('images'), snapshotRows: count('snapshots'), tags: count('tags'), leases: count('leases'), leaseResources: count('lease_resources'),
      };
    } finally {
      db.close();
    }
  }

  for (const [what, bytes] of [['the new layer', 3_000_000], ['its unpacked snapshot', 2_000_000]] as const) {
    it(`fails with a clear error when ${what} does not fit, and leaves nothing behind`, () => {
      const name = `big${bytes}`;
      assert.equal(e.run(['run', '--name', name, 'busybox', 'sh', '-c', `head -c ${bytes} /dev/urandom > /big`]).status, 0);
      const before = storeState();
      const r = e.run(['commit', name, 'full:1']);
      assert.equal(r.status, 1, `commit should fail on a full disk: ${r.stdout}`);
      assert.match(r.stderr, /^Error response from daemon: no space left on device while (writing|unpacking) the new layer of container [0-9a-f]{12}: the image store at .* is full\n$/);
      assert.deepEqual(storeState(), before);
      assert.equal(e.ok(['images', '--format', '{{.Repository}}']), 'busybox');
      // the container is as it was, and goes
      assert.equal(inspect(e, name).State.Status, 'exited');
      e.ok(['rm', name]);
    });
  }
});
