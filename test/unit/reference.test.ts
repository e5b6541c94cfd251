// Image references. The tables are ported from github.com/distribution/reference
// (reference_test.go, normalize_test.go, regexp_test.go), which docker uses; where hull
// differs on purpose the case says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ReferenceError,
  familiarName,
  familiarString,
  fullString,
  isImageIdPrefix,
  isValidDomain,
  isValidRepositoryPath,
  isValidTag,
  normalize,
  parseAnyReference,
  parseName,
  parseRawReference,
  parseReference,
  repository,
  trimmed,
  withDefaultTag,
  withDigest,
  withTag,
} from '../../src/image/reference.ts';
import type { Reference, ReferenceErrorCode } from '../../src/image/reference.ts';

const F64 = 'f'.repeat(64);
const D = `sha256:${F64}`;

function code(fn: () => unknown): ReferenceErrorCode | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof ReferenceError, `expected a ReferenceError, got ${String(e)}`);
    return e.code;
  }
}

// reference_test.go TestReferenceParse: the grammar alone, no normalization.
test('parseRawReference: distribution TestReferenceParse table', () => {
  type Case = { input: string; err?: ReferenceErrorCode; repository?: string; domain?: string; tag?: string; digest?: string };
  const cases: Case[] = [
    { input: 'test_com', repository: 'test_com' },
    { input: 'test.com:tag', repository: 'test.com', tag: 'tag' },
    { input: 'test.com:5000', repository: 'test.com', tag: '5000' },
    { input: 'test.com/repo:tag', domain: 'test.com', repository: 'test.com/repo', tag: 'tag' },
    { input: 'test:5000/repo', domain: 'test:5000', repository: 'test:5000/repo' },
    { input: 'test:5000/repo:tag', domain: 'test:5000', repository: 'test:5000/repo', tag: 'tag' },
    { input: `test:5000/repo@${D}`, domain: 'test:5000', repository: 'test:5000/repo', digest: D },
    { input: `test:5000/repo:tag@${D}`, domain: 'test:5000', repository: 'test:5000/repo', tag: 'tag', digest: D },
    { input: '', err: 'empty' },
    { input: ':justtag', err: 'invalid-format' },
    { input: `@${D}`, err: 'invalid-format' },
    { input: `repo@sha256:${'f'.repeat(34)}`, err: 'invalid-digest' },
    { input: `validname@invaliddigest:${F64}`, err: 'invalid-digest' },
    // Upstream refuses sha512 unless registered; hull supports it.
    { input: `validname@sha512:${'f'.repeat(128)}`, repository: 'validname', digest: `sha512:${'f'.repeat(128)}` },
    { input: 'Uppercase:tag', err: 'uppercase' },
    { input: 'test:5000/Uppercase/lowercase:tag', err: 'uppercase' },
    { input: 'lowercase:Uppercase', repository: 'lowercase', tag: 'Uppercase' },
    { input: `domain/${'a'.repeat(256)}:tag`, err: 'name-too-long' },
    {
      input: `${'a/'.repeat(127)}a:tag-puts-this-over-max`,
      domain: 'a',
      repository: `${'a/'.repeat(127)}a`,
      tag: 'tag-puts-this-over-max',
    },
    { input: 'aa/asdf$$^/aa', err: 'invalid-format' },
    { input: 'sub-dom1.foo.com/bar/baz/quux', domain: 'sub-dom1.foo.com', repository: 'sub-dom1.foo.com/bar/baz/quux' },
    {
      input: 'sub-dom1.foo.com/bar/baz/quux:some-long-tag',
      domain: 'sub-dom1.foo.com',
      repository: 'sub-dom1.foo.com/bar/baz/quux',
      tag: 'some-long-tag',
    },
    { input: 'b.gcr.io/test.example.com/my-app:test.example.com', domain: 'b.gcr.io', repository: 'b.gcr.io/test.example.com/my-app', tag: 'test.example.com' },
    { input: 'xn--n3h.com/myimage:xn--n3h.com', domain: 'xn--n3h.com', repository: 'xn--n3h.com/myimage', tag: 'xn--n3h.com' },
    {
      input: `xn--7o8h.com/myimage:xn--7o8h.com@${D}`,
      domain: 'xn--7o8h.com',
      repository: 'xn--7o8h.com/myimage',
      tag: 'xn--7o8h.com',
      digest: D,
    },
    { input: 'foo_bar.com:8080', repository: 'foo_bar.com', tag: '8080' },
    { input: 'foo/foo_bar.com:8080', domain: 'foo', repository: 'foo/foo_bar.com', tag: '8080' },
    { input: '192.168.1.1', repository: '192.168.1.1' },
    { input: '192.168.1.1:tag', repository: '192.168.1.1', tag: 'tag' },
    { input: '192.168.1.1:5000', repository: '192.168.1.1', tag: '5000' },
    { input: '192.168.1.1/repo', domain: '192.168.1.1', repository: '192.168.1.1/repo' },
    { input: '192.168.1.1:5000/repo', domain: '192.168.1.1:5000', repository: '192.168.1.1:5000/repo' },
    { input: '192.168.1.1:5000/repo:5050', domain: '192.168.1.1:5000', repository: '192.168.1.1:5000/repo', tag: '5050' },
    { input: '[2001:db8::1]', err: 'invalid-format' },
    { input: '[2001:db8::1]:5000', err: 'invalid-format' },
    { input: '[2001:db8::1]:tag', err: 'invalid-format' },
    { input: '[2001:db8::1]/repo', domain: '[2001:db8::1]', repository: '[2001:db8::1]/repo' },
    { input: '[2001:db8:1:2:3:4:5:6]/repo:tag', domain: '[2001:db8:1:2:3:4:5:6]', repository: '[2001:db8:1:2:3:4:5:6]/repo', tag: 'tag' },
    { input: '[2001:db8::1]:5000/repo', domain: '[2001:db8::1]:5000', repository: '[2001:db8::1]:5000/repo' },
    { input: '[2001:db8::1]:5000/repo:tag', domain: '[2001:db8::1]:5000', repository: '[2001:db8::1]:5000/repo', tag: 'tag' },
    { input: `[2001:db8::1]:5000/repo@${D}`, domain: '[2001:db8::1]:5000', repository: '[2001:db8::1]:5000/repo', digest: D },
    {
      input: `[2001:db8::1]:5000/repo:tag@${D}`,
      domain: '[2001:db8::1]:5000',
      repository: '[2001:db8::1]:5000/repo',
      tag: 'tag',
      digest: D,
    },
    { input: '[2001:db8::]:5000/repo', domain: '[2001:db8::]:5000', repository: '[2001:db8::]:5000/repo' },
    { input: '[::1]:5000/repo', domain: '[::1]:5000', repository: '[::1]:5000/repo' },
    { input: '[fe80::1%eth0]:5000/repo', err: 'invalid-format' },
    { input: '[fe80::1%@invalidzone]:5000/repo', err: 'invalid-format' },
    // The length limit is on the path: the domain does not count (as upstream today).
    { input: `example.com/${'a'.repeat(255)}:tag`, domain: 'example.com', repository: `example.com/${'a'.repeat(255)}`, tag: 'tag' },
    // hull's strict digests: uppercase hex is refused (upstream's go-digest also refuses it).
    { input: `repo@sha256:${'F'.repeat(64)}`, err: 'invalid-digest' },
  ];
  for (const c of cases) {
    if (c.err) {
      assert.equal(code(() => parseRawReference(c.input)), c.err, `parseRawReference(${JSON.stringify(c.input)})`);
      continue;
    }
    const ref = parseRawReference(c.input);
    assert.equal(fullString(ref), c.input, c.input);
    assert.equal(repository(ref), c.repository, `${c.input}: repository`);
    assert.equal(ref.domain, c.domain ?? '', `${c.input}: domain`);
    assert.equal(ref.tag, c.tag, `${c.input}: tag`);
    assert.equal(ref.digest, c.digest, `${c.input}: digest`);
  }
});

// regexp_test.go TestDomainRegexp.
test('isValidDomain: distribution TestDomainRegexp table', () => {
  const cases: Array<[string, boolean]> = [
    ['test.com', true],
    ['test.com:10304', true],
    ['test.com:http', false],
    ['localhost', true],
    ['localhost:8080', true],
    ['a', true],
    ['a.b', true],
    ['ab.cd.com', true],
    ['a-b.com', true],
    ['-ab.com', false],
    ['ab-.com', false],
    ['ab.c-om', true],
    ['ab.-com', false],
    ['ab.com-', false],
    ['0101.com', true],
    ['001a.com', true],
    ['b.gbc.io:443', true],
    ['b.gbc.io', true],
    ['xn--n3h.com', true],
    ['Asdf.com', true],
    ['192.168.1.1:75050', true],
    ['192.168.1.1:750050', true],
    ['[fd00:1:2::3]:75050', true],
    ['[fd00:1:2::3]75050', false],
    ['[fd00:1:2::3]::75050', false],
    ['[fd00:1:2::3%eth0]:75050', false],
    ['[fd00123123123]:75050', true],
    ['[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:75050', true],
    ['[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:750505', true],
    ['fd00:1:2::3:75050', false],
  ];
  for (const [input, ok] of cases) assert.equal(isValidDomain(input), ok, input);
});

// regexp_test.go TestFullNameRegexp, through parseName (distribution's WithName).
test('parseName: distribution TestFullNameRegexp table', () => {
  const cases: Array<[string, [string, string] | null]> = [
    ['', null],
    ['short', ['', 'short']],
    ['simple/name', ['simple', 'name']],
    ['library/ubuntu', ['library', 'ubuntu']],
    ['docker/stevvooe/app', ['docker', 'stevvooe/app']],
    ['aa/aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb', ['aa', 'aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb']],
    ['aa/aa/bb/bb/bb', ['aa', 'aa/bb/bb/bb']],
    ['a/a/a/a', ['a', 'a/a/a']],
    ['a/a/a/a/', null],
    ['a//a/a', null],
    ['a', ['', 'a']],
    ['a/aa', ['a', 'aa']],
    ['a/aa/a', ['a', 'aa/a']],
    ['foo.com', ['', 'foo.com']],
    ['foo.com/', null],
    ['foo.com:8080/bar', ['foo.com:8080', 'bar']],
    ['foo.com:http/bar', null],
    ['foo.com/bar', ['foo.com', 'bar']],
    ['foo.com/bar/baz', ['foo.com', 'bar/baz']],
    ['localhost:8080/bar', ['localhost:8080', 'bar']],
    ['sub-dom1.foo.com/bar/baz/quux', ['sub-dom1.foo.com', 'bar/baz/quux']],
    ['blog.foo.com/bar/baz', ['blog.foo.com', 'bar/baz']],
    ['a^a', null],
    ['aa/asdf$$^/aa', null],
    ['asdf$$^/aa', null],
    ['aa-a/a', ['aa-a', 'a']],
    [`${'a/'.repeat(128)}a`, ['a', `${'a/'.repeat(127)}a`]],
    ['a-/a/a/a', null],
    ['foo.com/a-/a/a', null],
    ['-foo/bar', null],
    ['foo/bar-', null],
    ['foo-/bar', null],
    ['foo/-bar', null],
    ['_foo/bar', null],
    ['foo_bar', ['', 'foo_bar']],
    ['foo_bar.com', ['', 'foo_bar.com']],
    ['foo_bar.com:8080', null],
    ['foo_bar.com:8080/app', null],
    ['foo.com/foo_bar', ['foo.com', 'foo_bar']],
    ['____/____', null],
    ['_docker/_docker', null],
    ['docker_/docker_', null],
    ['b.gcr.io/test.example.com/my-app', ['b.gcr.io', 'test.example.com/my-app']],
    ['xn--n3h.com/myimage', ['xn--n3h.com', 'myimage']],
    ['xn--7o8h.com/myimage', ['xn--7o8h.com', 'myimage']],
    ['example.com/xn--7o8h.com/myimage', ['example.com', 'xn--7o8h.com/myimage']],
    ['example.com/some_separator__underscore/myimage', ['example.com', 'some_separator__underscore/myimage']],
    ['example.com/__underscore/myimage', null],
    ['example.com/..dots/myimage', null],
    ['example.com/.dots/myimage', null],
    ['example.com/nodouble..dots/myimage', null],
    ['docker./docker', null],
    ['.docker/docker', null],
    ['docker-/docker', null],
    ['-docker/docker', null],
    ['do..cker/docker', null],
    ['do__cker:8080/docker', null],
    ['do__cker/docker', ['', 'do__cker/docker']],
    ['registry.io/foo/project--id.module--name.ver---sion--name', ['registry.io', 'foo/project--id.module--name.ver---sion--name']],
    ['Asdf.com/foo/bar', ['Asdf.com', 'foo/bar']],
    ['Foo/FarB', null],
    // TestWithNameFailure
    [':justtag', null],
    [`@${D}`, null],
    [`validname@invaliddigest:${F64}`, null],
    ['example.com/repo:tag', null],
  ];
  for (const [input, want] of cases) {
    if (want === null) {
      assert.ok(code(() => parseName(input)) !== undefined, `parseName(${JSON.stringify(input)}) should fail`);
      continue;
    }
    const ref = parseName(input);
    assert.deepEqual([ref.domain, ref.path], want, input);
    assert.equal(ref.tag, undefined);
    assert.equal(ref.digest, undefined);
  }
  assert.equal(code(() => parseName(`example.com/${'a'.repeat(256)}`)), 'name-too-long');
  // TestDomainAndPath
  for (const [input, domain, path] of [
    ['test.com/foo', 'test.com', 'foo'],
    ['test_com/foo', '', 'test_com/foo'],
    ['test:8080/foo', 'test:8080', 'foo'],
    ['test.com:8080/foo', 'test.com:8080', 'foo'],
    ['test-com:8080/foo', 'test-com:8080', 'foo'],
    ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080', 'foo'],
  ] as const) {
    const ref = parseName(input);
    assert.deepEqual([ref.domain, ref.path], [domain, path], input);
  }
});

// regexp_test.go TestReferenceRegexp: [input, [name, tag, digest]] or null for no match.
test('parseRawReference: distribution TestReferenceRegexp table', () => {
  const d = 'sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912';
  const cases: Array<[string, [string, string, string] | null]> = [
    ['registry.com:8080/myapp:tag', ['registry.com:8080/myapp', 'tag', '']],
    [`registry.com:8080/myapp@${d}`, ['registry.com:8080/myapp', '', d]],
    [`registry.com:8080/myapp:tag2@${d}`, ['registry.com:8080/myapp', 'tag2', d]],
    ['registry.com:8080/myapp@sha256:badbadbadbad', null],
    ['registry.com:8080/myapp:invalid~tag', null],
    ['bad_hostname.com:8080/myapp:tag', null],
    // localhost without a slash is a name, and 8080 its tag.
    [`localhost:8080@${d}`, ['localhost', '8080', d]],
    [`localhost:8080/name@${d}`, ['localhost:8080/name', '', d]],
    [`localhost:http/name@${d}`, null],
    [`localhost@${d}`, ['localhost', '', d]],
    ['registry.com:8080/myapp@bad', null],
    ['registry.com:8080/myapp@2bad', null],
  ];
  for (const [input, want] of cases) {
    if (want === null) {
      assert.equal(code(() => parseRawReference(input)), 'invalid-format', input);
      continue;
    }
    const ref = parseRawReference(input);
    assert.deepEqual([repository(ref), ref.tag ?? '', ref.digest ?? ''], want, input);
  }
});

// normalize_test.go TestValidateReferenceName and TestValidateRemoteName.
test('parseReference accepts and refuses names as docker does', () => {
  const valid = [
    'docker/docker',
    'library/debian',
    'debian',
    'localhost/library/debian',
    'localhost/debian',
    'LOCALDOMAIN/library/debian',
    'LOCALDOMAIN/debian',
    'docker.io/docker/docker',
    'docker.io/library/debian',
    'docker.io/debian',
    'index.docker.io/docker/docker',
    'index.docker.io/library/debian',
    'index.docker.io/debian',
    '127.0.0.1:5000/docker/docker',
    '127.0.0.1:5000/library/debian',
    '127.0.0.1:5000/debian',
    '192.168.0.1',
    '192.168.0.1:80',
    '192.168.0.1:8/debian',
    '192.168.0.2:25000/debian',
    'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
    '[fc00::1]:5000/docker',
    '[fc00::1]:5000/docker/docker',
    '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
    // With a domain, a 64-hex path is no longer ambiguous with an image ID.
    'docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
    'Docker/docker',
    'DOCKER/docker',
    'docker-rules/docker',
    'docker---rules/docker',
    'doc/docker',
    'd/docker',
    'jess/t',
    'dock__er/docker',
  ];
  for (const name of valid) assert.doesNotThrow(() => parseReference(name), name);

  const invalid: Array<[string, ReferenceErrorCode]> = [
    ['https://github.com/docker/docker', 'invalid-format'],
    ['docker/Docker', 'uppercase'],
    ['-docker', 'invalid-format'],
    ['-docker/docker', 'invalid-format'],
    ['-docker.io/docker/docker', 'invalid-format'],
    ['docker///docker', 'invalid-format'],
    ['docker.io/docker/Docker', 'uppercase'],
    ['docker.io/docker///docker', 'invalid-format'],
    ['[fc00::1]', 'invalid-format'],
    ['[fc00::1]:5000', 'invalid-format'],
    ['fc00::1:5000/debian', 'invalid-format'],
    ['[fe80::1%eth0]:5000/debian', 'invalid-format'],
    ['[2001:db8:3:4::192.0.2.33]:5000/debian', 'invalid-format'],
    ['1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a', 'hex-name'],
    ['docker-/docker', 'invalid-format'],
    ['-docker-/docker', 'invalid-format'],
    ['____/____', 'invalid-format'],
    ['_docker/_docker', 'invalid-format'],
    ['dock..er/docker', 'invalid-format'],
    ['dock_.er/docker', 'invalid-format'],
    ['dock-.er/docker', 'invalid-format'],
    ['docker/', 'invalid-format'],
    [
      'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker',
      'name-too-long',
    ],
    ['', 'empty'],
    ['busybox:', 'invalid-format'],
    ['busybox@', 'invalid-format'],
    [`busybox:${'a'.repeat(129)}`, 'invalid-format'],
    ['busybox:-tag', 'invalid-format'],
    ['busybox:.tag', 'invalid-format'],
    ['bus box', 'invalid-format'],
    ['busybox\n', 'invalid-format'],
    ['büsybox', 'invalid-format'],
  ];
  for (const [name, want] of invalid) assert.equal(code(() => parseReference(name)), want, name);
});

test('error messages are docker\'s', () => {
  const message = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return (e as Error).message;
    }
    assert.fail('expected an error');
  };
  const hex = '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a';
  assert.equal(message(() => parseReference(hex)), `invalid repository name (${hex}), cannot specify 64-byte hexadecimal strings`);
  assert.equal(message(() => parseReference('Busybox')), 'invalid reference format: repository name (library/Busybox) must be lowercase');
  assert.equal(message(() => parseReference('docker.io/docker/Docker:1')), 'invalid reference format: repository name (docker/Docker) must be lowercase');
  assert.equal(message(() => parseReference('bus box')), 'invalid reference format');
  assert.equal(message(() => parseRawReference('Uppercase:tag')), 'invalid reference format: repository name must be lowercase');
  assert.equal(
    message(() => parseReference(`${'a'.repeat(256)}`)),
    'invalid reference format: repository name must not be more than 255 characters',
  );
  assert.match(message(() => parseReference('busybox@sha256:abcdabcdabcdabcdabcdabcdabcdabcdabcd')), /^invalid reference format: invalid digest ".*": sha256 needs 64 hex characters, got 36$/);
  assert.match(message(() => parseReference(`busybox@md5:${F64}`)), /unsupported digest algorithm "md5"/);
  assert.match(message(() => withTag(parseReference('busybox'), '-x')), /^invalid tag format/);
  // The error carries what the user typed, not the normalized text that was parsed.
  try {
    parseReference('busybox:bad tag');
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof ReferenceError);
    assert.equal(e.input, 'busybox:bad tag');
  }
  // Long domains are fine as long as the whole stays under the bound.
  const longDomain = `${'a'.repeat(700)}.com/${'b'.repeat(255)}:t`;
  assert.equal(fullString(parseReference(longDomain)), longDomain);
  assert.match(message(() => withDigest(parseReference('busybox'), 'foo')), /^invalid digest format/);
});

test('hostile input is refused quickly, with a bounded message', () => {
  const long = 'a'.repeat(2000);
  assert.equal(code(() => parseReference(long)), 'invalid-format');
  assert.equal(code(() => parseRawReference(long)), 'invalid-format');
  assert.equal(code(() => parseName(long)), 'invalid-format');
  try {
    parseReference(`${'A'.repeat(900)}:x`);
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof ReferenceError);
    assert.ok(e.message.length < 400, e.message);
  }
  // Inputs shaped to make a backtracking matcher explode still finish (no timing
  // assertion: a catastrophic case would hang the test instead).
  for (const s of ['a-'.repeat(500), 'a.'.repeat(500), `${'a'.repeat(1000)}!`, `[${':'.repeat(1000)}`, 'a__'.repeat(333)]) {
    assert.ok(code(() => parseReference(s)) !== undefined);
  }
});

// normalize_test.go TestParseRepositoryInfo.
test('familiar and full names: distribution TestParseRepositoryInfo table', () => {
  const cases = [
    { remote: 'fooo', familiar: 'localhost/fooo', full: 'localhost/fooo', ambiguous: 'localhost/fooo', domain: 'localhost' },
    { remote: 'fooo/bar', familiar: 'localhost/fooo/bar', full: 'localhost/fooo/bar', ambiguous: 'localhost/fooo/bar', domain: 'localhost' },
    { remote: 'fooo', familiar: 'LOCALDOMAIN/fooo', full: 'LOCALDOMAIN/fooo', ambiguous: 'LOCALDOMAIN/fooo', domain: 'LOCALDOMAIN' },
    { remote: 'fooo/bar', familiar: 'LOCALDOMAIN/fooo/bar', full: 'LOCALDOMAIN/fooo/bar', ambiguous: 'LOCALDOMAIN/fooo/bar', domain: 'LOCALDOMAIN' },
    { remote: 'fooo/bar', familiar: 'fooo/bar', full: 'docker.io/fooo/bar', ambiguous: 'index.docker.io/fooo/bar', domain: 'docker.io' },
    { remote: 'library/ubuntu', familiar: 'ubuntu', full: 'docker.io/library/ubuntu', ambiguous: 'library/ubuntu', domain: 'docker.io' },
    { remote: 'nonlibrary/ubuntu', familiar: 'nonlibrary/ubuntu', full: 'docker.io/nonlibrary/ubuntu', domain: 'docker.io' },
    { remote: 'other/library', familiar: 'other/library', full: 'docker.io/other/library', domain: 'docker.io' },
    { remote: 'private/moonbase', familiar: '127.0.0.1:8000/private/moonbase', full: '127.0.0.1:8000/private/moonbase', domain: '127.0.0.1:8000' },
    { remote: 'privatebase', familiar: '127.0.0.1:8000/privatebase', full: '127.0.0.1:8000/privatebase', domain: '127.0.0.1:8000' },
    { remote: 'private/moonbase', familiar: 'example.com/private/moonbase', full: 'example.com/private/moonbase', domain: 'example.com' },
    { remote: 'privatebase', familiar: 'example.com/privatebase', full: 'example.com/privatebase', domain: 'example.com' },
    { remote: 'private/moonbase', familiar: 'example.com:8000/private/moonbase', full: 'example.com:8000/private/moonbase', domain: 'example.com:8000' },
    { remote: 'privatebasee', familiar: 'example.com:8000/privatebasee', full: 'example.com:8000/privatebasee', domain: 'example.com:8000' },
    {
      remote: 'library/ubuntu-12.04-base',
      familiar: 'ubuntu-12.04-base',
      full: 'docker.io/library/ubuntu-12.04-base',
      ambiguous: 'index.docker.io/library/ubuntu-12.04-base',
      domain: 'docker.io',
    },
    { remote: 'library/foo', familiar: 'foo', full: 'docker.io/library/foo', ambiguous: 'docker.io/foo', domain: 'docker.io' },
    { remote: 'library/foo/bar', familiar: 'library/foo/bar', full: 'docker.io/library/foo/bar', domain: 'docker.io' },
    { remote: 'store/foo/bar', familiar: 'store/foo/bar', full: 'docker.io/store/foo/bar', domain: 'docker.io' },
    { remote: 'bar', familiar: 'Foo/bar', full: 'Foo/bar', domain: 'Foo' },
    { remote: 'bar', familiar: 'FOO/bar', full: 'FOO/bar', domain: 'FOO' },
  ];
  for (const c of cases) {
    for (const input of [c.familiar, c.full, ...(c.ambiguous ? [c.ambiguous] : [])]) {
      const ref = parseReference(input);
      assert.equal(familiarName(ref), c.familiar, `${input}: familiar`);
      assert.equal(fullString(ref), c.full, `${input}: full`);
      assert.equal(ref.domain, c.domain, `${input}: domain`);
      assert.equal(ref.path, c.remote, `${input}: path`);
    }
  }
});

// normalize_test.go TestNormalizedSplitHostname.
test('parseReference splits Docker Hub names as docker does', () => {
  const cases: Array<[string, string, string]> = [
    ['test.com/foo', 'test.com', 'foo'],
    ['test_com/foo', 'docker.io', 'test_com/foo'],
    ['docker/migrator', 'docker.io', 'docker/migrator'],
    ['test.com:8080/foo', 'test.com:8080', 'foo'],
    ['test-com:8080/foo', 'test-com:8080', 'foo'],
    ['foo', 'docker.io', 'library/foo'],
    ['xn--n3h.com/foo', 'xn--n3h.com', 'foo'],
    ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080', 'foo'],
    ['docker.io/foo', 'docker.io', 'library/foo'],
    ['docker.io/library/foo', 'docker.io', 'library/foo'],
    ['docker.io/library/foo/bar', 'docker.io', 'library/foo/bar'],
    ['index.docker.io/foo', 'docker.io', 'library/foo'],
    ['localhost:5000/x', 'localhost:5000', 'x'],
    ['localhost/x', 'localhost', 'x'],
    ['[::1]:5000/x:1', '[::1]:5000', 'x'],
    ['127.0.0.1:5000/a/b/c', '127.0.0.1:5000', 'a/b/c'],
  ];
  for (const [input, domain, path] of cases) {
    const ref = parseReference(input);
    assert.deepEqual([ref.domain, ref.path], [domain, path], input);
  }
  // No tag is invented by parsing; normalize adds it.
  assert.equal(parseReference('busybox').tag, undefined);
});

// normalize_test.go TestParseReferenceWithTagAndDigest.
test('a reference may carry both tag and digest', () => {
  const short = 'busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa';
  const ref = parseReference(short);
  assert.equal(fullString(ref), `docker.io/library/${short}`);
  assert.equal(ref.tag, 'latest');
  assert.equal(ref.digest, 'sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa');
  assert.equal(familiarString(ref), short);
});

// normalize_test.go TestParseDockerRef.
test('normalize: distribution TestParseDockerRef table', () => {
  const d = 'sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582';
  const cases: Array<[string, string]> = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:latest', 'docker.io/library/busybox:latest'],
    [`busybox@${d}`, `docker.io/library/busybox@${d}`],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/busybox:latest', 'docker.io/library/busybox:latest'],
    ['library/busybox:latest', 'docker.io/library/busybox:latest'],
    ['docker.io/library/busybox:latest', 'docker.io/library/busybox:latest'],
    ['gcr.io/library/busybox', 'gcr.io/library/busybox:latest'],
    [`gcr.io/library/busybox:latest@${d}`, `gcr.io/library/busybox@${d}`],
    ['index.docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['user/repo', 'docker.io/user/repo:latest'],
    ['localhost:5000/x', 'localhost:5000/x:latest'],
  ];
  for (const [input, want] of cases) {
    const ref = normalize(input);
    assert.equal(fullString(ref), want, input);
    // The output is itself a valid, already-normal reference.
    assert.deepEqual(parseRawReference(fullString(ref)), ref);
    assert.deepEqual(normalize(ref), ref);
  }
});

// normalize_test.go TestParseAnyReference.
test('parseAnyReference: IDs, digests and names', () => {
  const d = 'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';
  const names: Array<[string, string]> = [
    ['redis', 'docker.io/library/redis'],
    ['redis:latest', 'docker.io/library/redis:latest'],
    ['docker.io/library/redis:latest', 'docker.io/library/redis:latest'],
    [`redis@sha256:${d}`, `docker.io/library/redis@sha256:${d}`],
    [`docker.io/library/redis@sha256:${d}`, `docker.io/library/redis@sha256:${d}`],
    ['dmcgowan/myapp', 'docker.io/dmcgowan/myapp'],
    ['dmcgowan/myapp:latest', 'docker.io/dmcgowan/myapp:latest'],
    ['docker.io/mcgowan/myapp:latest', 'docker.io/mcgowan/myapp:latest'],
    [`dmcgowan/myapp@sha256:${d}`, `docker.io/dmcgowan/myapp@sha256:${d}`],
    [`docker.io/dmcgowan/myapp@sha256:${d}`, `docker.io/dmcgowan/myapp@sha256:${d}`],
    // 63 hex characters is a name, not an ID.
    [d.slice(0, 63), `docker.io/library/${d.slice(0, 63)}`],
    ['dbcc1', 'docker.io/library/dbcc1'],
    // A short "digest" is a name with a tag.
    ['sha256:abc', 'docker.io/library/sha256:abc'],
  ];
  for (const [input, want] of names) {
    const any = parseAnyReference(input);
    assert.equal(any.kind, 'name', input);
    if (any.kind === 'name') assert.equal(fullString(any.ref), want, input);
  }
  assert.deepEqual(parseAnyReference(d), { kind: 'id', id: `sha256:${d}` });
  assert.deepEqual(parseAnyReference(`sha256:${d}`), { kind: 'id', id: `sha256:${d}` });
  assert.equal(code(() => parseAnyReference(d.toUpperCase())), 'uppercase');
});

// regexp_test.go TestIdentifierRegexp, and the short-ID prefixes the CLI accepts.
test('isImageIdPrefix', () => {
  assert.equal(isImageIdPrefix('da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821'), true);
  assert.equal(isImageIdPrefix('7EC43B381E5AEFE6E04EFB0B3F0693FF2A4A50652D64AEC573905F2DB5889A1C'), false);
  assert.equal(isImageIdPrefix('da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf'), true);
  assert.equal(isImageIdPrefix('sha256:da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821'), true);
  assert.equal(isImageIdPrefix('da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf98218482'), false);
  assert.equal(isImageIdPrefix('da304e'), true);
  assert.equal(isImageIdPrefix('sha256:da3'), true);
  assert.equal(isImageIdPrefix(''), false);
  assert.equal(isImageIdPrefix('busybox'), false);
  assert.equal(isImageIdPrefix('sha512:da3'), false);
});

// reference_test.go TestWithTag and TestWithDigest (with full-length digests: hull's are strict).
test('withTag, withDigest, withDefaultTag, trimmed', () => {
  const d = `sha256:${'1234567890'.repeat(6)}1234`;
  const name = (s: string) => parseName(s);
  assert.equal(fullString(withTag(name('test.com/foo'), 'tag')), 'test.com/foo:tag');
  assert.equal(fullString(withTag(name('foo'), 'tag2')), 'foo:tag2');
  assert.equal(fullString(withTag(name('test.com:8000/foo'), 'tag4')), 'test.com:8000/foo:tag4');
  assert.equal(fullString(withTag(name('test.com:8000/foo'), 'TAG5')), 'test.com:8000/foo:TAG5');
  assert.equal(fullString(withTag(withDigest(name('test.com:8000/foo'), d), 'TAG5')), `test.com:8000/foo:TAG5@${d}`);
  assert.equal(fullString(withDigest(name('test.com/foo'), d)), `test.com/foo@${d}`);
  assert.equal(fullString(withDigest(name('foo'), d)), `foo@${d}`);
  assert.equal(fullString(withDigest(withTag(name('test.com:8000/foo'), 'latest'), d)), `test.com:8000/foo:latest@${d}`);
  assert.equal(code(() => withTag(name('foo'), '-foo')), 'invalid-tag');
  assert.equal(code(() => withTag(name('foo'), '')), 'invalid-tag');
  assert.equal(code(() => withTag(name('foo'), 'a'.repeat(129))), 'invalid-tag');
  assert.equal(code(() => withDigest(name('foo'), 'foo')), 'invalid-digest');
  assert.equal(code(() => withDigest(name('foo'), 'sha256:1234567890098765432112345667890098765')), 'invalid-digest');

  const busybox = parseReference('busybox');
  assert.equal(withDefaultTag(busybox).tag, 'latest');
  const pinned = parseReference(`busybox@${d}`);
  assert.equal(withDefaultTag(pinned), pinned, 'a digest pins the image; no tag is added');
  const both = parseReference(`busybox:1@${d}`);
  assert.deepEqual(trimmed(both), { domain: 'docker.io', path: 'library/busybox' });
});

test('familiarString and fullString for output', () => {
  const d = `sha256:${F64}`;
  const cases: Array<[string, string, string]> = [
    ['busybox', 'busybox:latest', 'docker.io/library/busybox:latest'],
    ['user/repo:1.0', 'user/repo:1.0', 'docker.io/user/repo:1.0'],
    [`busybox@${d}`, `busybox@${d}`, `docker.io/library/busybox@${d}`],
    ['localhost:5000/x', 'localhost:5000/x:latest', 'localhost:5000/x:latest'],
    ['docker.io/library/foo/bar:2', 'library/foo/bar:2', 'docker.io/library/foo/bar:2'],
    ['[::1]:5000/repo:tag', '[::1]:5000/repo:tag', '[::1]:5000/repo:tag'],
  ];
  for (const [input, familiar, full] of cases) {
    const ref: Reference = normalize(input);
    assert.equal(familiarString(ref), familiar, input);
    assert.equal(fullString(ref), full, input);
    // Familiar output parses back to the same reference.
    assert.deepEqual(normalize(familiarString(ref)), ref, input);
  }
  assert.equal(repository(normalize('busybox')), 'docker.io/library/busybox');
});

test('isValidTag and isValidRepositoryPath', () => {
  for (const t of ['latest', 'v1.0', 'A_b-c.d', '_x', '1', 'a'.repeat(128)]) assert.equal(isValidTag(t), true, t);
  for (const t of ['', '-x', '.x', 'a'.repeat(129), 'a/b', 'a:b', 'a b', 'ü']) assert.equal(isValidTag(t), false, t);
  for (const p of ['library/busybox', 'a', 'a/b/c', 'a__b', 'a---b', 'a.b_c', 'a'.repeat(255)]) assert.equal(isValidRepositoryPath(p), true, p);
  for (const p of ['', 'A', 'a//b', '/a', 'a/', 'a..b', '_a', 'a'.repeat(256), 'a:1', 'example.com:5000/a']) {
    assert.equal(isValidRepositoryPath(p), false, p);
  }
});
