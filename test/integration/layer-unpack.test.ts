// Layer unpacking against the real kernel: whiteouts, ownership, xattrs, device nodes, and the
// result mounted as a real overlay. Needs root.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { unpackLayers } from '../../src/image/layer/pool.ts';
import { LayerUnpackError, resolveLowerLinks, unpackLayer, type UnpackResult } from '../../src/image/layer/unpack.ts';
import { LayerLimitError } from '../../src/image/layer/decompress.ts';
import { lgetxattr, llistxattr, lsetxattr, lutimens, mknod, mount, S_IFIFO, syncfsAsync, umount2 } from '../../src/sys/index.ts';
import { dir, file, gzip, hardlink, pax, sha256, symlink, tar, zstd, type RawEntry } from './helpers/tar-fixtures.ts';

let root: string;
let n = 0;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'hull-layer-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Writes the blob and unpacks it into a fresh directory. */
async function unpack(blob: Buffer, opts: Parameters<typeof unpackLayer>[2] = {}): Promise<{ dir: string; result: UnpackResult }> {
  const i = ++n;
  const src = join(root, `blob-${i}`);
  writeFileSync(src, blob);
  const out = join(root, `layer-${i}`);
  const result = await unpackLayer(src, out, opts);
  return { dir: out, result };
}

const mtimeOf = (p: string): number => lstatSync(p).mtimeMs / 1000;
const ino = (p: string): number => lstatSync(p).ino;

describe('sys addon', () => {
  it('throws errors shaped like Node\'s fs errors', () => {
    const p = join(root, `exists-${++n}`);
    writeFileSync(p, '');
    assert.throws(() => mknod(p, S_IFIFO | 0o600), (e: NodeJS.ErrnoException) => {
      assert.equal(e.message, `EEXIST: file already exists, mknod '${p}'`);
      assert.equal(e.code, 'EEXIST');
      assert.equal(e.errno, -17);
      assert.equal(e.syscall, 'mknod');
      assert.equal(e.path, p);
      return e instanceof Error;
    });
    assert.throws(() => lgetxattr(join(root, 'missing'), 'user.x'), { code: 'ENOENT', syscall: 'lgetxattr' });
    assert.throws(() => umount2(p), { code: 'EINVAL', syscall: 'umount2' });
    assert.throws(() => mknod(`${p}\0x`, S_IFIFO), TypeError);
  });

  it('sets, reads and lists xattrs, and sets times to the nanosecond', () => {
    const p = join(root, `attrs-${++n}`);
    writeFileSync(p, '');
    assert.equal(lgetxattr(p, 'user.none'), null);
    lsetxattr(p, 'user.one', Buffer.from([0, 1, 2]));
    lsetxattr(p, 'trusted.two', 'text');
    assert.deepEqual(lgetxattr(p, 'user.one'), Buffer.from([0, 1, 2]));
    assert.deepEqual(llistxattr(p).sort(), ['trusted.two', 'user.one']);
    lutimens(p, { sec: -5, nsec: 1 }, { sec: 1_700_000_000, nsec: 999_999_999 });
    const st = lstatSync(p, { bigint: true });
    assert.equal(st.atimeNs, -4_999_999_999n);
    assert.equal(st.mtimeNs, 1_700_000_000_999_999_999n);
  });
});

describe('sys addon: syncfs off the calling thread', () => {
  it('resolves once synced, and rejects with an fs-shaped error', async () => {
    await syncfsAsync(root);
    await assert.rejects(syncfsAsync(join(root, 'missing')), { code: 'ENOENT', syscall: 'open', path: join(root, 'missing') });
  });
});

describe('layer unpack: whiteouts', () => {
  it('turns .wh. files into 0/0 character devices and ignores aufs metadata', async () => {
    const { dir: d } = await unpack(
      tar([
        dir('etc/'),
        file('etc/.wh.passwd'),
        file('.wh.top-level'),
        dir('.wh..wh.plnk/'),
        file('.wh..wh.plnk/1234.5678', 'aufs hard link store'),
        file('.wh..wh.aufs'),
      ]),
    );
    for (const p of ['etc/passwd', 'top-level']) {
      const st = lstatSync(join(d, p));
      assert.ok(st.isCharacterDevice(), `${p} is a character device`);
      assert.equal(st.rdev, 0);
    }
    assert.deepEqual(readdirSync(d).sort(), ['etc', 'top-level']);
    assert.deepEqual(readdirSync(join(d, 'etc')), ['passwd']);
  });

  it('marks a directory with .wh..wh..opq as opaque', async () => {
    const { dir: d } = await unpack(tar([dir('var/'), dir('var/cache/'), file('var/cache/.wh..wh..opq'), file('var/cache/fresh', 'new')]));
    assert.equal(lgetxattr(join(d, 'var/cache'), 'trusted.overlay.opaque')?.toString(), 'y');
    assert.equal(lgetxattr(join(d, 'var'), 'trusted.overlay.opaque'), null);
    assert.deepEqual(readdirSync(join(d, 'var/cache')), ['fresh']);
  });

  it('makes a whited-out name re-created as a directory opaque, so it replaces the lower one', async () => {
    const { dir: d } = await unpack(tar([file('.wh.data'), dir('data/'), file('data/new', 'n'), file('.wh.implicit'), file('implicit/child', 'c'), file('.wh.plain'), dir('plain-other/')]));
    for (const p of ['data', 'implicit']) {
      assert.ok(lstatSync(join(d, p)).isDirectory());
      assert.equal(lgetxattr(join(d, p), 'trusted.overlay.opaque')?.toString(), 'y', `${p} is opaque`);
    }
    assert.equal(readFileSync(join(d, 'implicit/child'), 'utf8'), 'c');
    assert.equal(lgetxattr(join(d, 'plain-other'), 'trusted.overlay.opaque'), null);
    assert.ok(lstatSync(join(d, 'plain')).isCharacterDevice());
  });
});

describe('layer unpack: entries and metadata', () => {
  it('keeps ownership, modes with setuid/setgid/sticky, and mtimes (directories too, despite later children)', async () => {
    const { dir: d } = await unpack(
      tar([
        dir('./', { mode: 0o755, mtime: 1_000_000_000 }),
        dir('tmp/', { mode: 0o1777, mtime: 1_100_000_000 }),
        dir('srv/', { mode: 0o2750, uid: 33, gid: 33, mtime: 1_200_000_000 }),
        file('srv/suid', '#!/bin/sh\n', { mode: 0o4755, uid: 1000, gid: 1001, mtime: 1_300_000_000 }),
        file('srv/sgid', 'x', { mode: 0o2711, uid: 0, gid: 50, mtime: 1_300_000_001 }),
        file('srv/private', 'p', { mode: 0o600, uid: 65534, gid: 65534 }),
        pax([['mtime', '1400000000.123456789'], ['uid', '3000000000']]),
        file('srv/precise', 'q'),
        dir('late/', { mtime: 1_500_000_000 }),
      ]),
    );
    const st = (p: string) => lstatSync(join(d, p));
    assert.equal(st('tmp').mode & 0o7777, 0o1777);
    assert.equal(st('srv').mode & 0o7777, 0o2750);
    assert.deepEqual([st('srv').uid, st('srv').gid], [33, 33]);
    assert.equal(st('srv/suid').mode & 0o7777, 0o4755);
    assert.deepEqual([st('srv/suid').uid, st('srv/suid').gid], [1000, 1001]);
    assert.equal(st('srv/sgid').mode & 0o7777, 0o2711);
    assert.equal(st('srv/sgid').gid, 50);
    assert.equal(st('srv/private').mode & 0o7777, 0o600);
    assert.equal(st('srv/private').uid, 65534);
    assert.equal(st('srv/precise').uid, 3_000_000_000);
    assert.equal(mtimeOf(join(d, 'srv/suid')), 1_300_000_000);
    assert.equal(lstatSync(join(d, 'srv/precise'), { bigint: true }).mtimeNs, 1_400_000_000_123_456_789n);
    // Directory times are set last: creating srv's files did not disturb srv's or the root's.
    assert.equal(mtimeOf(join(d, 'srv')), 1_200_000_000);
    assert.equal(mtimeOf(join(d, 'tmp')), 1_100_000_000);
    assert.equal(mtimeOf(d), 1_000_000_000);
    assert.equal(mtimeOf(join(d, 'late')), 1_500_000_000);
  });

  it('creates missing parent directories 0755 root', async () => {
    const { dir: d } = await unpack(tar([file('usr/local/bin/tool', 'bin', { uid: 7, mode: 0o700 })]));
    for (const p of ['usr', 'usr/local', 'usr/local/bin']) {
      const st = lstatSync(join(d, p));
      assert.ok(st.isDirectory());
      assert.equal(st.mode & 0o7777, 0o755);
      assert.deepEqual([st.uid, st.gid], [0, 0]);
    }
    assert.equal(lstatSync(join(d, 'usr/local/bin/tool')).uid, 7);
  });

  it('keeps hard links as one inode, including links to links and to symlinks', async () => {
    const { dir: d, result } = await unpack(
      tar([dir('bin/'), file('bin/busybox', 'BB', { mode: 0o755 }), hardlink('bin/sh', 'bin/busybox'), hardlink('bin/ls', './bin/sh'), symlink('bin/s', 'busybox'), hardlink('bin/s2', 'bin/s')]),
    );
    const target = ino(join(d, 'bin/busybox'));
    assert.equal(ino(join(d, 'bin/sh')), target);
    assert.equal(ino(join(d, 'bin/ls')), target);
    assert.equal(lstatSync(join(d, 'bin/busybox')).nlink, 3);
    assert.ok(lstatSync(join(d, 'bin/s2')).isSymbolicLink());
    assert.equal(ino(join(d, 'bin/s2')), ino(join(d, 'bin/s')));
    assert.deepEqual(result.lowerLinks, []);
  });

  it('stores symlinks as written, with their owner and time', async () => {
    const { dir: d } = await unpack(tar([symlink('abs', '/etc/passwd', { uid: 5, gid: 6, mtime: 1_234_567_890 }), symlink('dangling', '../../../nowhere'), symlink('lib', 'usr/lib')]));
    assert.equal(readlinkSync(join(d, 'abs')), '/etc/passwd');
    assert.equal(readlinkSync(join(d, 'dangling')), '../../../nowhere');
    assert.equal(readlinkSync(join(d, 'lib')), 'usr/lib');
    assert.deepEqual([lstatSync(join(d, 'abs')).uid, lstatSync(join(d, 'abs')).gid], [5, 6]);
    assert.equal(mtimeOf(join(d, 'abs')), 1_234_567_890);
  });

  it('creates fifos and device nodes', async () => {
    const { dir: d } = await unpack(
      tar([
        dir('dev/'),
        { name: 'dev/null', type: '3', devmajor: 1, devminor: 3, mode: 0o666 },
        { name: 'dev/loop-big', type: '4', devmajor: 7, devminor: 300, mode: 0o660, gid: 6 },
        { name: 'run/fifo', type: '6', mode: 0o620, uid: 42 },
      ]),
    );
    const nul = lstatSync(join(d, 'dev/null'));
    assert.ok(nul.isCharacterDevice());
    assert.equal(nul.rdev, (1 << 8) | 3);
    assert.equal(nul.mode & 0o7777, 0o666);
    const blk = lstatSync(join(d, 'dev/loop-big'));
    assert.ok(blk.isBlockDevice());
    // glibc's makedev: minor's high bits go above bit 20.
    assert.equal(blk.rdev, (7 << 8) | (300 & 0xff) | ((300 & ~0xff) << 12));
    assert.equal(blk.gid, 6);
    const fifo = lstatSync(join(d, 'run/fifo'));
    assert.ok(fifo.isFIFO());
    assert.equal(fifo.mode & 0o7777, 0o620);
    assert.equal(fifo.uid, 42);
  });

  it('keeps xattrs, security.capability surviving the chown, and drops trusted.overlay.* from the archive', async () => {
    // VFS_CAP_REVISION_2 with cap_net_bind_service (bit 10) permitted and effective.
    const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
    const { dir: d } = await unpack(
      tar([
        pax([['SCHILY.xattr.security.capability', cap], ['SCHILY.xattr.user.note', 'hi'], ['SCHILY.xattr.trusted.overlay.redirect', '/elsewhere']]),
        file('ping', 'ELF', { uid: 1000, gid: 1000, mode: 0o755 }),
        pax([['LIBARCHIVE.xattr.user.b64', Buffer.from([0, 1, 2, 255]).toString('base64')], ['SCHILY.xattr.trusted.overlay.opaque', 'y']]),
        dir('d/'),
      ]),
    );
    assert.deepEqual(lgetxattr(join(d, 'ping'), 'security.capability'), cap);
    assert.equal(lstatSync(join(d, 'ping')).uid, 1000);
    assert.equal(lgetxattr(join(d, 'ping'), 'user.note')?.toString(), 'hi');
    assert.equal(lgetxattr(join(d, 'ping'), 'trusted.overlay.redirect'), null);
    assert.deepEqual(lgetxattr(join(d, 'd'), 'user.b64'), Buffer.from([0, 1, 2, 255]));
    assert.equal(lgetxattr(join(d, 'd'), 'trusted.overlay.opaque'), null);
  });

  it('lets later entries replace earlier ones, merging directories and never following a symlink', async () => {
    const outside = join(root, `outside-${++n}`);
    writeFileSync(outside, 'sentinel');
    const { dir: d } = await unpack(
      tar([
        file('f', 'first'),
        file('f', 'second'),
        dir('merge/'),
        file('merge/a', 'a'),
        dir('merge/', { mode: 0o700 }),
        file('merge/b', 'b'),
        dir('gone/'),
        file('gone/child', 'c'),
        file('gone', 'now a file'),
        file('becomes-dir', 'x'),
        dir('becomes-dir/'),
        file('becomes-dir/inside', 'i'),
        symlink('link', outside),
        file('link', 'replaced the link, not the target'),
        hardlink('h', 'f'),
        file('f', 'third'),
      ]),
    );
    assert.equal(readFileSync(join(d, 'f'), 'utf8'), 'third');
    assert.equal(readFileSync(join(d, 'h'), 'utf8'), 'second', 'the link kept the inode it was made to');
    assert.deepEqual(readdirSync(join(d, 'merge')).sort(), ['a', 'b']);
    assert.equal(lstatSync(join(d, 'merge')).mode & 0o777, 0o700);
    assert.equal(readFileSync(join(d, 'gone'), 'utf8'), 'now a file');
    assert.equal(readFileSync(join(d, 'becomes-dir/inside'), 'utf8'), 'i');
    assert.ok(lstatSync(join(d, 'link')).isFile());
    assert.equal(readFileSync(outside, 'utf8'), 'sentinel');
  });
});

describe('layer unpack: replacing a directory', () => {
  it('forgets everything that was inside it, including pending lower links and directory times', async () => {
    const { dir: d, result } = await unpack(
      tar([
        dir('a/', { mtime: 1_000 }),
        dir('a/sub/', { mtime: 2_000 }),
        file('a/sub/x', 'old'),
        hardlink('a/lower', 'from/lower/layer'),
        file('a', 'file now'),
        dir('a/', { mtime: 3_000 }),
        file('a/sub/x', 'new'),
      ]),
    );
    assert.deepEqual(result.lowerLinks, []);
    assert.equal(readFileSync(join(d, 'a/sub/x'), 'utf8'), 'new');
    assert.deepEqual(readdirSync(join(d, 'a')), ['sub']);
    // a/sub is now an implicit directory: the old one's time no longer applies.
    assert.notEqual(mtimeOf(join(d, 'a/sub')), 2_000);
    assert.equal(mtimeOf(join(d, 'a')), 3_000);
  });
});

describe('layer unpack: compression and digests', () => {
  const plain = tar([dir('a/'), file('a/big', Buffer.alloc(300_000, 9)), file('a/small', 'tiny'), symlink('b', 'a')]);

  for (const [name, blob] of [['plain', plain], ['gzip', gzip(plain)], ['zstd', zstd(plain)]] as const) {
    it(`unpacks a ${name} layer and reports the diffID of the plain tar`, async () => {
      const { dir: d, result } = await unpack(blob);
      assert.equal(result.diffID, sha256(plain));
      assert.equal(result.size, plain.length);
      assert.equal(result.entries, 4);
      assert.deepEqual(readFileSync(join(d, 'a/big')), Buffer.alloc(300_000, 9));
      assert.equal(readFileSync(join(d, 'a/small'), 'utf8'), 'tiny');
    });
  }

  it('unpacks a gzip stream of many members, cut anywhere, headers and PAX records included', async () => {
    const archive = tar([
      pax([['path', 'p/'.repeat(400) + 'deep'], ['SCHILY.xattr.user.k', 'v']]),
      file('ignored', 'z'),
      dir('d/'),
      file('d/one', Buffer.alloc(70_000, 3)),
      file('d/two', 'two'),
    ]);
    // members of 1 to 700 bytes: every header and record spans several of them
    const members: Buffer[] = [];
    for (let at = 0, k = 0; at < archive.length; k++) {
      const len = 1 + ((k * 37) % 700);
      members.push(gzip(archive.subarray(at, at + len)));
      at += len;
    }
    const { dir: d, result } = await unpack(Buffer.concat(members));
    assert.equal(result.diffID, sha256(archive));
    assert.equal(result.entries, 4);
    assert.deepEqual(readFileSync(join(d, 'p/'.repeat(400) + 'deep')), Buffer.from('z'));
    assert.deepEqual(lgetxattr(join(d, 'p/'.repeat(400) + 'deep'), 'user.k'), Buffer.from('v'));
    assert.deepEqual(readFileSync(join(d, 'd/one')), Buffer.alloc(70_000, 3));
  });

  it('unpacks from a stream as well as from a file', async () => {
    const out = join(root, `stream-${++n}`);
    const result = await unpackLayer(Readable.from([gzip(plain)]), out);
    assert.equal(result.diffID, sha256(plain));
    assert.equal(readFileSync(join(out, 'a/small'), 'utf8'), 'tiny');
  });

  it('includes padding after the end marker in the diffID', async () => {
    const padded = Buffer.concat([plain, Buffer.alloc(10240 - (plain.length % 10240))]);
    const { result } = await unpack(gzip(padded));
    assert.equal(result.diffID, sha256(padded));
  });

  it('matches GNU tar extracting the same archive', async () => {
    const src = join(root, `gnu-src-${++n}`);
    mkdirSync(join(src, 'x/y'), { recursive: true });
    writeFileSync(join(src, 'x/y/f'), 'data');
    lsetxattr(join(src, 'x/y/f'), 'user.k', Buffer.from('v'));
    const made = spawnSync('tar', ['--format=pax', '--xattrs', '--xattrs-include=user.*', '-C', src, '-cf', '-', '.'], { maxBuffer: 1 << 24 });
    assert.equal(made.status, 0);
    const { dir: d } = await unpack(made.stdout);
    assert.equal(readFileSync(join(d, 'x/y/f'), 'utf8'), 'data');
    assert.equal(lgetxattr(join(d, 'x/y/f'), 'user.k')?.toString(), 'v');
    // To the nanosecond, from GNU tar's PAX mtime.
    assert.equal(statSync(join(d, 'x/y/f'), { bigint: true }).mtimeNs, statSync(join(src, 'x/y/f'), { bigint: true }).mtimeNs);
  });
});

describe('layer unpack: hard links into lower layers', () => {
  it('records them and resolves them by copying the target up, as overlay would', async () => {
    const lower = await unpack(tar([dir('bin/'), file('bin/tool', 'TOOL', { mode: 0o4711, uid: 3, mtime: 1_111_111_111 })]));
    const upper = await unpack(tar([dir('usr/'), hardlink('usr/tool', 'bin/tool'), hardlink('usr/tool2', 'usr/tool'), hardlink('usr/replaced', 'bin/tool'), file('usr/replaced', 'mine')]));
    assert.deepEqual(
      upper.result.lowerLinks.sort((a, b) => a.path.localeCompare(b.path)),
      [{ path: 'usr/tool', target: 'bin/tool' }, { path: 'usr/tool2', target: 'bin/tool' }],
    );
    assert.equal(existsSync(join(upper.dir, 'usr/tool')), false);
    resolveLowerLinks(upper.dir, [lower.dir], upper.result.lowerLinks);
    const copied = lstatSync(join(upper.dir, 'bin/tool'));
    assert.equal(readFileSync(join(upper.dir, 'bin/tool'), 'utf8'), 'TOOL');
    assert.equal(copied.mode & 0o7777, 0o4711);
    assert.equal(copied.uid, 3);
    assert.equal(copied.mtimeMs, 1_111_111_111_000);
    assert.equal(ino(join(upper.dir, 'usr/tool')), copied.ino);
    assert.equal(ino(join(upper.dir, 'usr/tool2')), copied.ino);
    assert.notEqual(ino(join(lower.dir, 'bin/tool')), copied.ino);
    assert.equal(readFileSync(join(upper.dir, 'usr/replaced'), 'utf8'), 'mine');
  });

  it('refuses a lower link whose target a nearer layer deleted', async () => {
    const lower = await unpack(tar([file('t', 'x')]));
    const middle = await unpack(tar([file('.wh.t')]));
    const upper = await unpack(tar([hardlink('l', 't')]));
    assert.throws(() => resolveLowerLinks(upper.dir, [middle.dir, lower.dir], upper.result.lowerLinks), /in none of the lower layers/);
  });
});

describe('layer unpack: as a real overlay', () => {
  it('hides whited-out files and opaque directories of the layer below', async () => {
    const lower = await unpack(gzip(tar([dir('etc/'), file('etc/keep', 'k'), file('etc/gone', 'g'), dir('opt/old/'), file('opt/old/x', 'x'), file('opt/old/y', 'y'), file('rm-dir/child', 'c')])));
    const upper = await unpack(zstd(tar([file('etc/.wh.gone'), file('opt/old/.wh..wh..opq'), file('opt/old/new', 'n'), file('.wh.rm-dir'), file('etc/added', 'a')])));
    const base = join(root, `overlay-${++n}`);
    const [merged, up, work] = ['merged', 'upper', 'work'].map((p) => join(base, p)) as [string, string, string];
    for (const p of [merged, up, work]) mkdirSync(p, { recursive: true });
    mount('overlay', merged, 'overlay', 0, `lowerdir=${upper.dir}:${lower.dir},upperdir=${up},workdir=${work}`);
    try {
      assert.deepEqual(readdirSync(join(merged, 'etc')).sort(), ['added', 'keep']);
      assert.equal(readFileSync(join(merged, 'etc/keep'), 'utf8'), 'k');
      assert.deepEqual(readdirSync(join(merged, 'opt/old')), ['new']);
      assert.equal(existsSync(join(merged, 'rm-dir')), false);
      assert.equal(existsSync(join(merged, 'etc/gone')), false);
    } finally {
      umount2(merged);
    }
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(merged), 'the overlay was unmounted');
  });
});

describe('layer unpack: worker pool', () => {
  it('unpacks independent layers on worker threads and returns results in job order', async () => {
    const plains = [tar([file('one', '1')]), tar([file('two', '2'), dir('d/')]), tar([file('three', '3')])];
    const blobs = [plains[0]!, gzip(plains[1]!), zstd(plains[2]!)];
    const jobs = blobs.map((b, i) => {
      const source = join(root, `pool-blob-${++n}-${i}`);
      writeFileSync(source, b);
      return { source, dir: join(root, `pool-out-${n}-${i}`) };
    });
    const results = await unpackLayers(jobs, { concurrency: 2 });
    assert.deepEqual(results.map((r) => r.entries), [1, 2, 1]);
    assert.deepEqual(results.map((r) => r.diffID), plains.map(sha256));
    assert.equal(readFileSync(join(jobs[2]!.dir, 'three'), 'utf8'), '3');
  });

  it('removes the failed layer\'s directory and rethrows its error with its class', async () => {
    const blob = (name: string, data: Buffer) => {
      const p = join(root, `pool-${name}-${++n}`);
      writeFileSync(p, data);
      return p;
    };
    // The bad layer is the largest, so the pool starts it first.
    const bad = blob('bad', tar([file('padding', Buffer.alloc(200_000, 1)), file('../escape', 'x')]));
    const good = blob('good', tar([file('ok', 'ok')]));
    const serial = [
      { source: good, dir: join(root, `pool-good-out-${n}`) },
      { source: bad, dir: join(root, `pool-bad-out-${n}`) },
    ];
    await assert.rejects(unpackLayers(serial, { concurrency: 1 }), (e: unknown) => e instanceof LayerUnpackError && /"\.\." component/.test(e.message) && e.entry === '../escape');
    assert.equal(existsSync(serial[1]!.dir), false);
    assert.equal(existsSync(serial[0]!.dir), false, 'the job after the failure never started');

    // Side by side, the other job either finished whole or was aborted and removed.
    const parallel = serial.map((j) => ({ ...j, dir: `${j.dir}-parallel` }));
    await assert.rejects(unpackLayers(parallel, { concurrency: 2 }), LayerUnpackError);
    assert.equal(existsSync(parallel[1]!.dir), false);
    if (existsSync(parallel[0]!.dir)) assert.equal(readFileSync(join(parallel[0]!.dir, 'ok'), 'utf8'), 'ok');

    const bomb = { source: blob('bomb', gzip(tar([file('zeros', Buffer.alloc(4 << 20))]))), dir: join(root, `pool-bomb-out-${n}`), opts: { limits: { maxUncompressedBytes: 1 << 20 } } };
    await assert.rejects(unpackLayers([bomb]), (e: unknown) => e instanceof LayerLimitError && /exceeds the limit of 1048576 bytes uncompressed/.test(e.message));
    assert.equal(existsSync(bomb.dir), false);
  });

  it('aborts running jobs on a signal and removes their directories', async () => {
    const source = join(root, `pool-slow-${++n}`);
    writeFileSync(source, gzip(tar(Array.from({ length: 3000 }, (_, i): RawEntry => file(`d${i % 30}/f${i}`, 'x'.repeat(i % 700))))));
    const controller = new AbortController();
    const job = { source, dir: join(root, `pool-slow-out-${n}`) };
    const run = unpackLayers([job], { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop now')), 5);
    await assert.rejects(run, /stop now/);
    assert.equal(existsSync(job.dir), false);
  });
});
