// -u and --group-add against an image's /etc/passwd and /etc/group, on real files: the image is
// hostile, so links are resolved inside the rootfs, and nothing but a regular file is read.
// Runs as root, so that an escape would really reach the host's /etc/shadow.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mknod, S_IFCHR } from '../../src/sys/index.ts';
import { readFileInRoot, resolveInRoot, resolveUser } from '../../src/engine/containers/user.ts';

const work = mkdtempSync(join(tmpdir(), 'hull-engine-user-'));
const fdsBefore = readdirSync('/proc/self/fd').length;
after(() => {
  rmSync(work, { recursive: true, force: true });
  assert.equal(existsSync(work), false);
});

const PASSWD = [
  '# the image\'s users',
  'root:x:0:0:root:/root:/bin/sh',
  '',
  '  daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin  ',
  'foo:x:1000:1000:Foo:/home/foo:/bin/sh',
  'nohome:x:1001:1001:No Home::/bin/sh',
  'junk:x:notanumber:7:::',
  'foo:x:9999:9999:second foo, never used:/nowhere:/bin/sh',
].join('\n');
const GROUP = ['root:x:0:', 'daemon:x:1:', 'foo:x:1000:', 'extra:x:2000:foo,nohome', 'more:x:2001:foo', 'wheel:x:10:root'].join('\n');

let n = 0;
/** A fresh rootfs with etc/passwd and etc/group, or whatever make() puts there. */
function rootfs(make?: (root: string) => void): string {
  const root = join(work, `root${++n}`);
  mkdirSync(join(root, 'etc'), { recursive: true });
  if (make) make(root);
  else {
    writeFileSync(join(root, 'etc/passwd'), PASSWD);
    writeFileSync(join(root, 'etc/group'), GROUP);
  }
  return root;
}

/** A file outside every rootfs that an escaping link would reach. */
const outside = join(work, 'outside');
mkdirSync(outside);
writeFileSync(join(outside, 'passwd'), 'evil:x:4242:4242:escaped:/evil:/bin/sh\n');
writeFileSync(join(outside, 'group'), 'evilgroup:x:4343:evil\n');

test('names, ids and the mixed forms, as docker resolves them', () => {
  const root = rootfs();
  assert.deepEqual(resolveUser(root, ''), { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' });
  assert.deepEqual(resolveUser(root, 'root'), { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' });
  assert.deepEqual(resolveUser(root, 'foo'), { uid: 1000, gid: 1000, additionalGids: [1000, 2000, 2001], home: '/home/foo' }, 'the first entry wins');
  assert.deepEqual(resolveUser(root, 'daemon'), { uid: 1, gid: 1, additionalGids: [1], home: '/usr/sbin' }, 'blank space around a line is ignored');
  assert.deepEqual(resolveUser(root, '1000'), { uid: 1000, gid: 1000, additionalGids: [1000, 2000, 2001], home: '/home/foo' });
  assert.deepEqual(resolveUser(root, 'foo:extra'), { uid: 1000, gid: 2000, additionalGids: [2000], home: '/home/foo' }, 'an explicit group: no supplementary ones');
  assert.deepEqual(resolveUser(root, 'foo:10'), { uid: 1000, gid: 10, additionalGids: [10], home: '/home/foo' });
  assert.deepEqual(resolveUser(root, '1000:5555'), { uid: 1000, gid: 5555, additionalGids: [5555], home: '/home/foo' });
  assert.deepEqual(resolveUser(root, '4321'), { uid: 4321, gid: 0, additionalGids: [0], home: '/' }, 'a uid without an entry: gid 0, HOME /');
  assert.deepEqual(resolveUser(root, '4321:4321'), { uid: 4321, gid: 4321, additionalGids: [4321], home: '/' });
  assert.deepEqual(resolveUser(root, 'nohome'), { uid: 1001, gid: 1001, additionalGids: [1001, 2000], home: '/' });
  assert.deepEqual(resolveUser(root, 'junk'), { uid: 0, gid: 7, additionalGids: [7], home: '/' }, "a bad number reads as 0, as Go's parser has it");
  assert.deepEqual(resolveUser(root, 'foo', ['wheel', '3000', 'extra', '10']), { uid: 1000, gid: 1000, additionalGids: [1000, 2000, 2001, 10, 3000], home: '/home/foo' });

  assert.throws(() => resolveUser(root, 'nobody'), /^Error: unable to find user nobody: no matching entries in passwd file$/);
  assert.throws(() => resolveUser(root, 'foo:nogroup'), /^Error: unable to find group nogroup: no matching entries in group file$/);
  assert.throws(() => resolveUser(root, '', ['nogroup']), /^Error: unable to find group nogroup: no matching entries in group file$/);
  assert.throws(() => resolveUser(root, '2147483648'), /^Error: uids and gids must be in range 0-2147483647$/);
  assert.throws(() => resolveUser(root, '-1'), /^Error: uids and gids must be in range 0-2147483647$/);
  assert.throws(() => resolveUser(root, 'foo', ['99999999999']), /^Error: uids and gids must be in range 0-2147483647$/);
});

test('no passwd or group file: numeric ids and root still work, names do not', () => {
  const root = rootfs(() => {});
  assert.deepEqual(resolveUser(root, ''), { uid: 0, gid: 0, additionalGids: [0], home: '/' });
  assert.deepEqual(resolveUser(root, '1000:1000', ['5']), { uid: 1000, gid: 1000, additionalGids: [1000, 5], home: '/' });
  assert.throws(() => resolveUser(root, 'foo'), /^Error: unable to find user foo: no matching entries in passwd file$/);
  assert.throws(() => resolveUser(root, '0:staff'), /^Error: unable to find group staff: no matching entries in group file$/);
  const noEtc = join(work, 'empty-root');
  mkdirSync(noEtc);
  assert.deepEqual(resolveUser(noEtc, '7'), { uid: 7, gid: 0, additionalGids: [0], home: '/' });
});

test("links that point out of the rootfs stay inside it: the host's /etc/shadow is never read", () => {
  // This host's shadow file names users (daemon, bin...) that an escaped read would find.
  const shadow = readFileSync('/etc/shadow', 'utf8');
  assert.match(shadow, /^daemon:/m, 'the host has a daemon entry in /etc/shadow');
  for (const target of ['/etc/shadow', '/../../etc/shadow', '../../../../../../etc/shadow', `/../../../../..${outside}/passwd`, `../../../../../../..${outside}/passwd`]) {
    const root = rootfs((r) => symlinkSync(target, join(r, 'etc/passwd')));
    assert.throws(() => resolveUser(root, 'daemon'), /^Error: unable to find user daemon: no matching entries in passwd file$/, target);
    assert.throws(() => resolveUser(root, 'evil'), /^Error: unable to find user evil: no matching entries in passwd file$/, target);
    assert.deepEqual(resolveUser(root, ''), { uid: 0, gid: 0, additionalGids: [0], home: '/' }, target);
  }
  // The link leads to the container's own /etc/shadow: that one is the image's to give.
  const own = rootfs((r) => {
    writeFileSync(join(r, 'etc/shadow'), 'mine:x:77:77::/m:/bin/sh\n');
    symlinkSync('/../../etc/shadow', join(r, 'etc/passwd'));
  });
  assert.equal(resolveUser(own, 'mine').uid, 77);
});

test('a linked directory on the way is resolved inside the rootfs too', () => {
  const escape = rootfs((r) => {
    rmSync(join(r, 'etc'), { recursive: true });
    symlinkSync(`/../../../..${outside}`, join(r, 'etc'));
  });
  assert.throws(() => resolveUser(escape, 'evil'), /unable to find user evil/);
  assert.throws(() => resolveUser(escape, '0', ['evilgroup']), /unable to find group evilgroup/);
  assert.equal(resolveInRoot(escape, '/etc/passwd'), join(escape, outside, 'passwd'));

  // Links that stay inside are followed: absolute ones from the rootfs, relative ones from their directory.
  const inside = rootfs((r) => {
    mkdirSync(join(r, 'usr/share/base'), { recursive: true });
    writeFileSync(join(r, 'usr/share/base/passwd'), 'linked:x:55:55::/l:/bin/sh\n');
    writeFileSync(join(r, 'usr/share/base/group'), 'lg:x:56:linked\n');
    symlinkSync('../usr/share/base/passwd', join(r, 'etc/passwd'));
    symlinkSync('/usr/share/./base/../base/group', join(r, 'etc/group'));
  });
  assert.deepEqual(resolveUser(inside, 'linked'), { uid: 55, gid: 55, additionalGids: [55, 56], home: '/l' });
  assert.equal(resolveInRoot(inside, 'etc/../../../etc/passwd'), join(inside, 'usr/share/base/passwd'));
});

test('link loops, FIFOs, devices and huge files: refused or ignored, never hung on', () => {
  const loop = rootfs((r) => {
    symlinkSync('/etc/b', join(r, 'etc/a'));
    symlinkSync('a', join(r, 'etc/b'));
    symlinkSync('/etc/a', join(r, 'etc/passwd'));
  });
  assert.throws(() => resolveInRoot(loop, '/etc/passwd'), /too many levels of symbolic links/);
  assert.equal(readFileInRoot(loop, '/etc/passwd'), undefined);
  assert.throws(() => resolveUser(loop, 'foo'), /unable to find user foo/);

  const fifo = rootfs((r) => {
    execFileSync('mkfifo', [join(r, 'etc/passwd')]);
    writeFileSync(join(r, 'etc/group'), GROUP);
  });
  assert.throws(() => resolveUser(fifo, 'foo'), /^Error: cannot read \/etc\/passwd in the container: it is not a regular file$/);
  assert.deepEqual(resolveUser(fifo, '1000', ['extra']), { uid: 1000, gid: 0, additionalGids: [0, 2000], home: '/' }, 'a numeric user needs no passwd');

  // /dev/zero's numbers: a read of it would never end.
  const device = rootfs((r) => mknod(join(r, 'etc/passwd'), S_IFCHR | 0o644, 1, 5));
  assert.throws(() => resolveUser(device, 'foo'), /^Error: cannot read \/etc\/passwd in the container: it is not a regular file$/);

  const huge = rootfs((r) => {
    writeFileSync(join(r, 'etc/passwd'), '');
    truncateSync(join(r, 'etc/passwd'), 33 * 1024 * 1024);
  });
  assert.throws(() => resolveUser(huge, 'foo'), /^Error: cannot read \/etc\/passwd in the container: it is larger than 33554432 bytes$/);

  const dir = rootfs((r) => mkdirSync(join(r, 'etc/passwd')));
  assert.throws(() => resolveUser(dir, 'foo'), /cannot read \/etc\/passwd in the container/);

  assert.equal(readdirSync('/proc/self/fd').length, fdsBefore, 'no file descriptor left open');
});
