import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MOUNT_ATTR, MOUNT_OPTIONS, MS, parseMountOptions } from '../../src/runtime/spec/mount-options.ts';

test('the kernel constants', () => {
  assert.equal(MS.RDONLY, 1);
  assert.equal(MS.NOSYMFOLLOW, 256);
  assert.equal(MS.BIND, 4096);
  assert.equal(MS.REC, 16384);
  assert.equal(MS.UNBINDABLE, 0x20000);
  assert.equal(MS.PRIVATE, 0x40000);
  assert.equal(MS.SLAVE, 0x80000);
  assert.equal(MS.SHARED, 0x100000);
  assert.equal(MS.RELATIME, 0x200000);
  assert.equal(MS.STRICTATIME, 0x1000000);
});

test('no options, nothing to do', () => {
  for (const opts of [undefined, []]) {
    const m = parseMountOptions(opts);
    assert.equal(m.flags, 0);
    assert.equal(m.clear, 0);
    assert.deepEqual(m.propagation, []);
    assert.deepEqual(m.data, []);
    assert.equal(m.bind, false);
    assert.equal(m.recursive, false);
  }
});

test('runc spec /dev/shm: flags and filesystem data apart', () => {
  const m = parseMountOptions(['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k']);
  assert.equal(m.flags, MS.NOSUID | MS.NOEXEC | MS.NODEV);
  assert.deepEqual(m.data, ['mode=1777', 'size=65536k']);
});

test('each flag option sets its flag', () => {
  const cases: [string, number][] = [
    ['ro', MS.RDONLY], ['nosuid', MS.NOSUID], ['nodev', MS.NODEV], ['noexec', MS.NOEXEC],
    ['sync', MS.SYNCHRONOUS], ['remount', MS.REMOUNT], ['mand', MS.MANDLOCK], ['dirsync', MS.DIRSYNC],
    ['nosymfollow', MS.NOSYMFOLLOW], ['noatime', MS.NOATIME], ['nodiratime', MS.NODIRATIME],
    ['bind', MS.BIND], ['rbind', MS.BIND | MS.REC], ['silent', MS.SILENT], ['relatime', MS.RELATIME],
    ['strictatime', MS.STRICTATIME], ['iversion', MS.I_VERSION], ['lazytime', MS.LAZYTIME],
  ];
  for (const [option, flag] of cases) assert.equal(parseMountOptions([option]).flags, flag, option);
});

test('each negative option clears its flag and records it', () => {
  const cases: [string, string, number][] = [
    ['ro', 'rw', MS.RDONLY], ['nosuid', 'suid', MS.NOSUID], ['nodev', 'dev', MS.NODEV],
    ['noexec', 'exec', MS.NOEXEC], ['sync', 'async', MS.SYNCHRONOUS], ['mand', 'nomand', MS.MANDLOCK],
    ['noatime', 'atime', MS.NOATIME], ['nodiratime', 'diratime', MS.NODIRATIME],
    ['relatime', 'norelatime', MS.RELATIME], ['strictatime', 'nostrictatime', MS.STRICTATIME],
    ['silent', 'loud', MS.SILENT], ['nosymfollow', 'symfollow', MS.NOSYMFOLLOW],
    ['lazytime', 'nolazytime', MS.LAZYTIME], ['iversion', 'noiversion', MS.I_VERSION],
  ];
  for (const [on, off, flag] of cases) {
    const m = parseMountOptions([on, off]);
    assert.equal(m.flags & flag, 0, off);
    assert.equal(m.clear, flag, off);
    // And the last word wins the other way round too.
    const back = parseMountOptions([off, on]);
    assert.equal(back.flags, flag, on);
    assert.equal(back.clear, 0, on);
  }
});

test('defaults means nothing, and is not filesystem data', () => {
  const m = parseMountOptions(['defaults']);
  assert.equal(m.flags, 0);
  assert.deepEqual(m.data, []);
});

test('bind and rbind', () => {
  const bind = parseMountOptions(['bind', 'ro']);
  assert.equal(bind.bind, true);
  assert.equal(bind.recursive, false);
  assert.equal(bind.flags, MS.BIND | MS.RDONLY);
  const rbind = parseMountOptions(['rbind']);
  assert.equal(rbind.bind, true);
  assert.equal(rbind.recursive, true);
});

test('propagation becomes separate calls, in order', () => {
  const m = parseMountOptions(['rbind', 'rprivate', 'shared', 'slave', 'rslave', 'unbindable', 'runbindable', 'private', 'rshared']);
  assert.deepEqual(m.propagation, [
    MS.PRIVATE | MS.REC, MS.SHARED, MS.SLAVE, MS.SLAVE | MS.REC, MS.UNBINDABLE,
    MS.UNBINDABLE | MS.REC, MS.PRIVATE, MS.SHARED | MS.REC,
  ]);
  // Propagation never leaks into the flags of the mount call itself.
  assert.equal(m.flags, MS.BIND | MS.REC);
});

test('recursive attributes go to mount_setattr', () => {
  const m = parseMountOptions(['rbind', 'rro', 'rnosuid', 'rnodev', 'rnoexec', 'rnodiratime', 'rnosymfollow']);
  assert.equal(m.attrSet, MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV | MOUNT_ATTR.NOEXEC | MOUNT_ATTR.NODIRATIME | MOUNT_ATTR.NOSYMFOLLOW);
  assert.equal(m.attrClear, 0);
  assert.deepEqual(m.data, []);
  const off = parseMountOptions(['rro', 'rrw', 'rsuid', 'rdev', 'rexec', 'rdiratime', 'rsymfollow']);
  assert.equal(off.attrSet, 0);
  assert.equal(off.attrClear, MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV | MOUNT_ATTR.NOEXEC | MOUNT_ATTR.NODIRATIME | MOUNT_ATTR.NOSYMFOLLOW);
});

test('a recursive atime mode clears the whole atime mask', () => {
  const noatime = parseMountOptions(['rnoatime']);
  assert.equal(noatime.attrSet, MOUNT_ATTR.NOATIME);
  assert.equal(noatime.attrClear, MOUNT_ATTR._ATIME);
  const strict = parseMountOptions(['rstrictatime']);
  assert.equal(strict.attrSet, MOUNT_ATTR.STRICTATIME);
  assert.equal(strict.attrClear, MOUNT_ATTR._ATIME);
  // relatime is the zero value of the mask: setting it is clearing the others.
  const relatime = parseMountOptions(['rnoatime', 'rrelatime']);
  assert.equal(relatime.attrSet, 0);
  assert.equal(relatime.attrClear, MOUNT_ATTR._ATIME);
});

test('idmap, ridmap and tmpcopyup are understood, not passed on', () => {
  const idmap = parseMountOptions(['bind', 'idmap']);
  assert.equal(idmap.idmap, true);
  assert.equal(idmap.idmapRecursive, false);
  assert.deepEqual(idmap.data, []);
  const ridmap = parseMountOptions(['rbind', 'ridmap']);
  assert.equal(ridmap.idmap, true);
  assert.equal(ridmap.idmapRecursive, true);
  const tmp = parseMountOptions(['tmpcopyup', 'size=1m']);
  assert.equal(tmp.tmpcopyup, true);
  assert.deepEqual(tmp.data, ['size=1m']);
});

test('unknown options are the filesystem\'s business, in order', () => {
  const m = parseMountOptions(['newinstance', 'ro', 'ptmxmode=0666', 'acl', 'toString', '__proto__', 'constructor']);
  assert.equal(m.flags, MS.RDONLY);
  assert.deepEqual(m.data, ['newinstance', 'ptmxmode=0666', 'acl', 'toString', '__proto__', 'constructor']);
});

test('MOUNT_OPTIONS lists every option hull applies, sorted and unique', () => {
  assert.deepEqual([...MOUNT_OPTIONS], [...new Set(MOUNT_OPTIONS)].sort());
  for (const o of ['defaults', 'ro', 'rw', 'suid', 'nosuid', 'dev', 'nodev', 'exec', 'noexec', 'sync', 'async', 'dirsync',
    'remount', 'mand', 'nomand', 'atime', 'noatime', 'diratime', 'nodiratime', 'bind', 'rbind', 'unbindable',
    'runbindable', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'relatime', 'norelatime',
    'strictatime', 'nostrictatime', 'silent', 'loud', 'rro', 'rrw', 'nosymfollow']) {
    assert.ok(MOUNT_OPTIONS.includes(o), o);
  }
  // parsed, but refused at create until hull makes them
  for (const o of ['tmpcopyup', 'idmap', 'ridmap']) assert.ok(!MOUNT_OPTIONS.includes(o), o);
  // Every listed option is understood: none falls through to filesystem data.
  for (const o of MOUNT_OPTIONS) assert.deepEqual(parseMountOptions([o]).data, [], o);
});
