// cp, diff and export through the real `hull` CLI, against containers that run and that do not:
// docker's path rules and messages, ownership, symlinks that must not lead out of the container
// (or out of the host directory a copy lands in), tar streams, volumes and bind mounts, and
// that a stopped container's rootfs is mounted only for the operation.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { engine, HULL, type Engine } from './helpers/engine.ts';

let e: Engine;
let work: string;
let n = 0;

before(() => {
  e = engine();
  work = mkdtempSync('/var/tmp/hull-cp-');
});
after(() => {
  try {
    e.destroy();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

/** A fresh empty host directory for one case. */
function dir(): string {
  const d = join(work, `case-${++n}`);
  mkdirSync(d);
  return d;
}

/** `hull cp`, run from `cwd`. */
function cp(args: string[], cwd: string, input?: Buffer): ReturnType<typeof spawnSync> {
  return spawnSync(HULL, ['--root', e.root, '--runroot', e.runroot, 'cp', ...args], { cwd, input: input ?? '', maxBuffer: 1 << 28 });
}

function cpOk(args: string[], cwd: string, input?: Buffer): Buffer {
  const r = cp(args, cwd, input);
  assert.equal(r.status, 0, `hull cp ${args.join(' ')}: ${r.stderr}`);
  return r.stdout as Buffer;
}

function cpFails(args: string[], cwd: string, message: RegExp | string, input?: Buffer): void {
  const r = cp(args, cwd, input);
  assert.equal(r.status, 1, `hull cp ${args.join(' ')} should fail: ${r.stdout}`);
  if (typeof message === 'string') assert.equal(String(r.stderr), message + '\n');
  else assert.match(String(r.stderr), message);
}

/** Names and types in a tar, as `tar tv` lists them (type letter, owner, name). */
function tarList(tar: Buffer): string[] {
  const r = spawnSync('tar', ['tvf', '-', '--numeric-owner'], { input: tar });
  assert.equal(r.status, 0, String(r.stderr));
  return String(r.stdout).trim().split('\n').filter(Boolean).map((l) => {
    const f = l.split(/\s+/);
    return `${f[0]![0]} ${f[1]} ${f.slice(5).join(' ')}`;
  });
}

function mountsOf(id: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(id));
}

const SETUP = [
  'mkdir -p /d/sub', 'echo hi > /d/f', 'echo x > /d/sub/g', 'chown 123:456 /d/f', 'ln -s /etc /lnk',
  'ln -s ../../../../../etc/passwd /d/esc-rel', 'mkdir /safe && echo s > /safe/one && ln -s /etc /safe/abs',
  'ln -s / /evil', 'ln -s ../../../../../../../.. /evil2', 'rm /etc/group',
].join(' && ');

describe('cp with a running container', () => {
  let id: string;
  before(() => {
    id = e.ok(['run', '-d', '--name', 'cpc', 'busybox', 'sh', '-c', `${SETUP} && touch /ready && sleep 1000`]);
    for (let i = 0; i < 200 && e.run(['exec', 'cpc', 'test', '-e', '/ready']).status !== 0; i++) spawnSync('sleep', ['0.05']);
  });

  it('copies a file into a directory, to a new name, and a directory to a new one', () => {
    const d = dir();
    cpOk(['cpc:/d/f', '.'], d);
    assert.equal(readFileSync(join(d, 'f'), 'utf8'), 'hi\n');
    cpOk(['cpc:/d/f', 'renamed'], d);
    assert.equal(readFileSync(join(d, 'renamed'), 'utf8'), 'hi\n');
    cpOk(['cpc:/d/sub', 'newdir'], d);
    assert.deepEqual(readdirSync(join(d, 'newdir')), ['g']);
    // into an existing directory: the directory itself, or with "/." its contents
    mkdirSync(join(d, 'into'));
    cpOk(['cpc:/d/sub', 'into'], d);
    assert.deepEqual(readdirSync(join(d, 'into')), ['sub']);
    cpOk(['cpc:/d/sub/.', 'into'], d);
    assert.deepEqual(readdirSync(join(d, 'into')).sort(), ['g', 'sub']);
    // a relative container path is taken from the root
    cpOk(['cpc:d/f', 'rel'], d);
    assert.equal(readFileSync(join(d, 'rel'), 'utf8'), 'hi\n');
  });

  it("refuses what docker refuses, with docker's messages", () => {
    const d = dir();
    writeFileSync(join(d, 'afile'), 'x');
    cpFails(['cpc:/nope', '.'], d, 'Error response from daemon: Could not find the file /nope in container cpc');
    cpFails(['cpc:/d/f', 'nodir/'], d, 'no such directory');
    cpFails(['cpc:/d', 'afile'], d, 'cannot copy directory');
    cpFails(['cpc:/d/f/', 'x'], d, 'Error response from daemon: lstat /d/f/: not a directory');
    cpFails(['cpc:/d/f', '/nonexistent-dir/x'], d, 'invalid output path: directory "/nonexistent-dir" does not exist');
    cpFails(['nosuch:/d', '.'], d, 'Error response from daemon: No such container: nosuch');
    cpFails(['afile', 'x'], d, 'must specify at least one container source');
    cpFails(['cpc:/d', 'cpc:/e'], d, 'copying between containers is not supported');
    cpFails(['afile', 'cpc:/nodir/x'], d, 'Error response from daemon: Could not find the file /nodir in container cpc');
    cpFails(['afile', 'cpc:/nodir/'], d, 'no such directory');
    cpFails(['nofile', 'cpc:/d'], d, `lstat ${join(d, 'nofile')}: no such file or directory`);
    cpFails(['afile/', 'cpc:/d'], d, 'not a directory');
    assert.deepEqual(readdirSync(d), ['afile']);
  });

  it('gives the copy to the caller, or with -a keeps the owner, both ways', () => {
    const d = dir();
    cpOk(['cpc:/d/f', 'plain'], d);
    cpOk(['-a', 'cpc:/d/f', 'kept'], d);
    assert.equal(`${statSync(join(d, 'plain')).uid}:${statSync(join(d, 'plain')).gid}`, '0:0');
    assert.equal(`${statSync(join(d, 'kept')).uid}:${statSync(join(d, 'kept')).gid}`, '123:456');
    spawnSync('chown', ['77:88', join(d, 'kept')]);
    cpOk([join(d, 'kept'), 'cpc:/tmp/in-plain'], d);
    cpOk(['-a', join(d, 'kept'), 'cpc:/tmp/in-kept'], d);
    assert.equal(e.ok(['exec', 'cpc', 'stat', '-c', '%u:%g', '/tmp/in-plain', '/tmp/in-kept']), '0:0\n77:88');
  });

  it('copies symlinks as links, follows them with -L or a trailing slash, and refuses one leading out of the destination', () => {
    const d = dir();
    cpOk(['cpc:/lnk', '.'], d);
    assert.equal(readlinkSync(join(d, 'lnk')), '/etc');
    cpOk(['-L', 'cpc:/lnk', 'followed'], d);
    assert.ok(lstatSync(join(d, 'followed')).isDirectory());
    assert.ok(existsSync(join(d, 'followed', 'passwd')));
    cpOk(['cpc:/lnk/', 'slash'], d);
    assert.ok(existsSync(join(d, 'slash', 'passwd')));
    // an absolute link is kept as it is; a relative one must stay below the destination
    cpOk(['cpc:/safe', 'safe'], d);
    assert.equal(readlinkSync(join(d, 'safe', 'abs')), '/etc');
    cpFails(['cpc:/d', 'd-copy'], d, `invalid symlink "${join(d, 'd-copy', 'esc-rel')}" -> "../../../../../etc/passwd"`);
    assert.ok(!existsSync(join(d, 'd-copy')), 'nothing of a refused copy is left');
    // -L on that link reads the container's /etc/passwd, never the host's
    cpOk(['-L', 'cpc:/d/esc-rel', 'pw'], d);
    assert.equal(readFileSync(join(d, 'pw'), 'utf8'), e.ok(['exec', 'cpc', 'cat', '/etc/passwd']) + '\n');
  });

  it("never leaves the container's filesystem through a symlink it planted", () => {
    const d = dir();
    const secret = join(work, `host-secret-${process.pid}`);
    writeFileSync(secret, 'host secret\n');
    writeFileSync(join(d, 'payload'), 'payload\n');
    for (const link of ['/evil', '/evil2']) {
      cpFails([`cpc:${link}${secret}`, '.'], d, `Error response from daemon: Could not find the file ${link}${secret} in container cpc`);
      cpOk([join(d, 'payload'), `cpc:${link}/tmp/planted${link.slice(1)}`], d);
      cpOk([join(d, 'payload'), `cpc:${link}`], d);
    }
    assert.ok(!existsSync('/tmp/plantedevil') && !existsSync('/tmp/plantedevil2') && !existsSync('/payload'), 'a file landed on the host');
    assert.equal(e.ok(['exec', 'cpc', 'cat', '/tmp/plantedevil', '/tmp/plantedevil2', '/payload']), 'payload\npayload\npayload');
  });

  it('writes a tar to stdout and extracts one from stdin', () => {
    const d = dir();
    assert.deepEqual(tarList(cpOk(['cpc:/d/sub', '-'], d)), ['d 0/0 sub/', '- 0/0 sub/g']);
    assert.deepEqual(tarList(cpOk(['cpc:/d/sub/.', '-'], d)), ['d 0/0 ./', '- 0/0 ./g']);
    assert.deepEqual(tarList(cpOk(['cpc:/d/f', '-'], d)), ['- 123/456 f']);
    mkdirSync(join(d, 'src', 'inner'), { recursive: true });
    writeFileSync(join(d, 'src', 'inner', 'file'), 'from a tar\n');
    const tar = spawnSync('tar', ['cf', '-', '-C', join(d, 'src'), 'inner']).stdout as Buffer;
    cpOk(['-', 'cpc:/tmp'], d, tar);
    assert.equal(e.ok(['exec', 'cpc', 'cat', '/tmp/inner/file']), 'from a tar');
    const gz = spawnSync('tar', ['czf', '-', '-C', join(d, 'src'), 'inner']).stdout as Buffer;
    cpOk(['-', 'cpc:/d/sub'], d, gz);
    assert.equal(e.ok(['exec', 'cpc', 'cat', '/d/sub/inner/file']), 'from a tar');
    cpFails(['-', 'cpc:/d/f'], d, 'destination "cpc:/d/f" must be a directory', tar);
    // a tar whose symlink leads out of the destination is refused
    const evil = join(d, 'evil');
    mkdirSync(evil);
    spawnSync('ln', ['-s', '../../../../../../etc', join(evil, 'up')]);
    cpFails(['-', 'cpc:/tmp'], d, /Error response from daemon: invalid symlink "\/tmp\/up" -> "..\/..\/..\/..\/..\/..\/etc"/, spawnSync('tar', ['cf', '-', '-C', evil, 'up']).stdout as Buffer);
  });

  it('lists the changes as docker diff does', () => {
    const lines = e.ok(['diff', 'cpc']).split('\n');
    for (const want of ['A /d', 'A /d/esc-rel', 'A /d/f', 'A /d/sub', 'A /d/sub/g', 'C /etc', 'D /etc/group', 'A /lnk', 'A /ready']) {
      assert.ok(lines.includes(want), `${want} missing from: ${lines.join(', ')}`);
    }
    // a directory comes before what is in it, names sorted by their bytes
    assert.ok(lines.indexOf('C /etc') < lines.indexOf('D /etc/group'));
    const top = lines.filter((l) => l.split('/').length === 2).map((l) => l.slice(2));
    assert.deepEqual(top, [...top].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    assert.ok(!lines.some((l) => l.includes('/etc/hosts')), 'the init layer shows as a change');
  });

  it('exports the merged filesystem as docker does, and its import runs', () => {
    const tar = spawnSync(HULL, ['--root', e.root, '--runroot', e.runroot, 'export', 'cpc'], { maxBuffer: 1 << 28 });
    assert.equal(tar.status, 0, String(tar.stderr));
    const list = tarList(tar.stdout as Buffer);
    assert.ok(list.includes('d 0/0 bin/'), list.slice(0, 5).join('\n'));
    assert.ok(list.includes('- 123/456 d/f'));
    assert.ok(list.includes('l 0/0 lnk -> /etc'));
    assert.ok(!list.some((l) => l.endsWith(' etc/group')), 'a deleted file is exported');
    assert.ok(!list.some((l) => /^d \S+ \.?\/$/.test(l)), 'the root has an entry');
    const file = join(dir(), 'exported.tar');
    e.ok(['export', '-o', file, 'cpc']);
    assert.deepEqual(readFileSync(file), tar.stdout);
    const image = e.ok(['import', file, 'exported:1']);
    assert.match(image, /^sha256:[0-9a-f]{64}$/);
    assert.equal(e.ok(['run', '--rm', 'exported:1', 'cat', '/d/f']), 'hi');
    e.ok(['rmi', 'exported:1']);
  });

  after(() => {
    e.ok(['rm', '-f', id]);
  });
});

describe('cp with a container that is not running', () => {
  it('mounts its rootfs only for the copy, in and out, and diff and export need no mount', () => {
    const d = dir();
    const id = e.ok(['create', '--name', 'cold', 'busybox', 'cat', '/in']);
    assert.equal(e.ok(['diff', 'cold']), '');
    writeFileSync(join(d, 'in'), 'cold copy\n');
    cpOk([join(d, 'in'), 'cold:/in'], d);
    assert.deepEqual(mountsOf(id), []);
    cpOk(['cold:/in', 'out'], d);
    assert.equal(readFileSync(join(d, 'out'), 'utf8'), 'cold copy\n');
    assert.deepEqual(mountsOf(id), []);
    assert.equal(e.ok(['diff', 'cold']), 'A /in');
    const list = tarList(spawnSync(HULL, ['--root', e.root, '--runroot', e.runroot, 'export', 'cold'], { maxBuffer: 1 << 28 }).stdout as Buffer);
    assert.ok(list.includes('- 0/0 in'));
    assert.deepEqual(mountsOf(id), []);
    // the copy is in the container when it runs
    assert.equal(e.ok(['start', '-a', 'cold']), 'cold copy');
    e.ok(['rm', 'cold']);
  });
});

describe('cp with volumes and bind mounts', () => {
  it('reaches them where the container mounts them, and refuses read-only ones', () => {
    const d = dir();
    const bind = join(d, 'bind');
    mkdirSync(bind);
    writeFileSync(join(bind, 'from-host'), 'bound\n');
    const id = e.ok(['run', '-d', '--name', 'vols', '-v', 'cpvol:/data', '-v', `${bind}:/bind:ro`, '--read-only', 'busybox', 'sleep', '1000']);
    writeFileSync(join(d, 'f'), 'into the volume\n');
    cpOk([join(d, 'f'), 'vols:/data/f'], d);
    const mountpoint = JSON.parse(e.ok(['volume', 'inspect', 'cpvol']))[0].Mountpoint as string;
    assert.equal(readFileSync(join(mountpoint, 'f'), 'utf8'), 'into the volume\n');
    assert.equal(e.ok(['exec', 'vols', 'cat', '/data/f']), 'into the volume');
    cpOk(['vols:/bind/from-host', 'got'], d);
    assert.equal(readFileSync(join(d, 'got'), 'utf8'), 'bound\n');
    cpFails([join(d, 'f'), 'vols:/bind'], d, 'Error response from daemon: mounted volume is marked read-only');
    cpFails([join(d, 'f'), 'vols:/'], d, 'Error response from daemon: container rootfs is marked read-only');
    cpOk(['vols:/etc/hostname', 'hn'], d);
    assert.equal(readFileSync(join(d, 'hn'), 'utf8').trim(), id.slice(0, 12));
    e.ok(['rm', '-f', 'vols']);
    e.ok(['volume', 'rm', 'cpvol']);
  });
});
