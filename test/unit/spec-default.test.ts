// `hull-runtime spec` output must pass both the official schema and hull's own validator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import AjvModule from 'ajv-draft-04';
import { OCI_VERSION, defaultSpec } from '../../src/runtime/spec/default.ts';
import { validateSpec } from '../../src/runtime/spec/validate.ts';

// The schemas live beside the repository (../shared), never copied into it.
const SCHEMAS = new URL('../../../shared/specs/runtime-spec/', import.meta.url);

function loadConfigSchema() {
  const ajv = new AjvModule.default({ allErrors: true, strict: false });
  for (const file of ['defs.json', 'defs-linux.json', 'config-linux.json', 'config-schema.json']) {
    const url = new URL(file, SCHEMAS);
    ajv.addSchema(JSON.parse(readFileSync(url, 'utf8')), url.href);
  }
  // Other platforms' sections, some absent from ../shared; hull never writes them.
  for (const platform of ['solaris', 'windows', 'vm', 'zos', 'freebsd']) {
    ajv.addSchema({ [platform]: {} }, new URL(`config-${platform}.json`, SCHEMAS).href);
  }
  const validate = ajv.getSchema(new URL('config-schema.json', SCHEMAS).href);
  assert.ok(validate);
  return validate;
}

const schema = loadConfigSchema();

// What goes to disk is the JSON text, so check that rather than the object.
function asWritten(rootless: boolean): unknown {
  return JSON.parse(JSON.stringify(defaultSpec({ rootless }), null, '\t'));
}

for (const rootless of [false, true]) {
  test(`default spec${rootless ? ' (rootless)' : ''} passes the official schema`, () => {
    const ok = schema(asWritten(rootless));
    assert.ok(ok, JSON.stringify(schema.errors));
  });
  test(`default spec${rootless ? ' (rootless)' : ''} passes hull's validator`, () => {
    assert.doesNotThrow(() => validateSpec(asWritten(rootless)));
  });
}

test('the default is runc spec with hull as the hostname', () => {
  const s = defaultSpec({});
  assert.equal(s.ociVersion, OCI_VERSION);
  assert.equal(OCI_VERSION, '1.3.0');
  assert.deepEqual(s.process?.args, ['sh']);
  assert.equal(s.process?.terminal, true);
  assert.equal(s.process?.cwd, '/');
  assert.deepEqual(s.process?.user, { uid: 0, gid: 0 });
  assert.deepEqual(s.process?.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm']);
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  assert.deepEqual(s.process?.capabilities, { bounding: caps, effective: caps, permitted: caps });
  assert.deepEqual(s.process?.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }]);
  assert.equal(s.process?.noNewPrivileges, true);
  assert.deepEqual(s.root, { path: 'rootfs', readonly: true });
  assert.equal(s.hostname, 'hull');
  assert.deepEqual(s.mounts?.map((m) => [m.destination, m.type]), [
    ['/proc', 'proc'], ['/dev', 'tmpfs'], ['/dev/pts', 'devpts'], ['/dev/shm', 'tmpfs'],
    ['/dev/mqueue', 'mqueue'], ['/sys', 'sysfs'], ['/sys/fs/cgroup', 'cgroup'],
  ]);
  assert.deepEqual(s.mounts?.[2]?.options, ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']);
  assert.deepEqual(s.linux?.namespaces?.map((n) => n.type), ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup']);
  assert.deepEqual(s.linux?.resources, { devices: [{ allow: false, access: 'rwm' }] });
  assert.ok(s.linux?.maskedPaths?.includes('/proc/kcore'));
  assert.ok(s.linux?.readonlyPaths?.includes('/proc/sysrq-trigger'));
  assert.equal(s.linux?.uidMappings, undefined);
});

test('rootless: own user namespace mapping the caller to root, no netns, no cgroup limits', () => {
  const s = defaultSpec({ rootless: true });
  const types = s.linux?.namespaces?.map((n) => n.type);
  assert.deepEqual(types, ['pid', 'ipc', 'uts', 'mount', 'cgroup', 'user']);
  assert.deepEqual(s.linux?.uidMappings, [{ containerID: 0, hostID: process.geteuid?.() ?? 0, size: 1 }]);
  assert.deepEqual(s.linux?.gidMappings, [{ containerID: 0, hostID: process.getegid?.() ?? 0, size: 1 }]);
  assert.equal(s.linux?.resources, undefined);
  const sys = s.mounts?.find((m) => m.destination === '/sys');
  assert.deepEqual(sys, { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
  const pts = s.mounts?.find((m) => m.destination === '/dev/pts');
  assert.ok(!pts?.options?.some((o) => o.startsWith('gid=') || o.startsWith('uid=')));
});

test('each call gives a fresh spec', () => {
  const a = defaultSpec({});
  a.process?.capabilities?.bounding?.push('CAP_SYS_ADMIN');
  a.mounts?.pop();
  const b = defaultSpec({});
  assert.equal(b.process?.capabilities?.bounding?.length, 3);
  assert.equal(b.mounts?.length, 7);
});
