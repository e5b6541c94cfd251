// `hull-runtime features` must be a valid runtime-spec features document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import AjvModule from 'ajv-draft-04';
import { CAPABILITIES } from '../../src/runtime/capabilities.ts';
import { features } from '../../src/runtime/features.ts';
import { OCI_VERSION } from '../../src/runtime/spec/default.ts';
import { MOUNT_OPTIONS } from '../../src/runtime/spec/mount-options.ts';

// The schemas live beside the repository (../shared), never copied into it.
const SCHEMAS = new URL('../../../shared/specs/runtime-spec/', import.meta.url);

function loadFeaturesSchema() {
  const ajv = new AjvModule.default({ allErrors: true, strict: false });
  for (const file of ['defs.json', 'defs-linux.json', 'features-linux.json', 'features-schema.json']) {
    const url = new URL(file, SCHEMAS);
    ajv.addSchema(JSON.parse(readFileSync(url, 'utf8')), url.href);
  }
  const validate = ajv.getSchema(new URL('features-schema.json', SCHEMAS).href);
  assert.ok(validate);
  return validate;
}

const schema = loadFeaturesSchema();

test('features passes features-schema.json', () => {
  const doc = JSON.parse(JSON.stringify(features()));
  assert.ok(schema(doc), JSON.stringify(schema.errors));
});

test('the schema check has teeth', () => {
  assert.equal(schema({ ociVersionMin: '1.0.0' }), false);
  assert.equal(schema({ ociVersionMin: '1.0.0', ociVersionMax: '1.3.0', linux: { namespaces: ['nope'] } }), false);
});

type Doc = {
  ociVersionMin: string; ociVersionMax: string; hooks: string[]; mountOptions: string[];
  annotations: Record<string, string>;
  linux: {
    namespaces: string[]; capabilities: string[]; cgroup: Record<string, boolean>;
    seccomp: { enabled: boolean; actions?: string[]; operators?: string[]; archs?: string[]; knownFlags?: string[]; supportedFlags?: string[] };
    apparmor: { enabled: boolean }; selinux: { enabled: boolean };
    intelRdt: { enabled: boolean; schemata?: boolean; monitoring?: boolean };
    mountExtensions: { idmap: { enabled: boolean } };
  };
};

test('features says what hull implements', () => {
  const doc = features() as Doc;
  assert.equal(doc.ociVersionMin, '1.0.0');
  assert.equal(doc.ociVersionMax, OCI_VERSION);
  assert.deepEqual(doc.hooks, ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
  assert.deepEqual(doc.mountOptions, [...MOUNT_OPTIONS]);
  assert.deepEqual([...doc.linux.namespaces].sort(), ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts']);
  assert.deepEqual(doc.linux.capabilities, [...CAPABILITIES]);
  assert.deepEqual(doc.linux.cgroup, { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true });
  assert.equal(doc.linux.mountExtensions.idmap.enabled, false);
  assert.equal(doc.annotations['io.github.hull.version'], '0.1.0');
});

test('AppArmor, SELinux and Intel RDT are reported as implemented, whatever this host has', () => {
  // features.md: "enabled" says the runtime supports the field, unrelated to the host. This
  // host has none of the three (create refuses them, test/integration/lsm-sched.test.ts),
  // and the document must not change with that.
  const doc = features() as Doc;
  assert.deepEqual(doc.linux.apparmor, { enabled: true });
  assert.deepEqual(doc.linux.selinux, { enabled: true });
  assert.deepEqual(doc.linux.intelRdt, { enabled: true, schemata: true, monitoring: true });
});

test('the seccomp block is consistent with itself', () => {
  const s = (features() as Doc).linux.seccomp;
  assert.equal(typeof s.enabled, 'boolean');
  if (!s.enabled) return;
  for (const list of ['actions', 'operators', 'archs'] as const) assert.ok((s[list]?.length ?? 0) > 0, `seccomp.${list} is empty`);
  for (const f of s.supportedFlags ?? []) assert.ok(s.knownFlags?.includes(f), `supported flag ${f} is not a known flag`);
});

test('the schema check catches a wrongly typed block', () => {
  const doc = JSON.parse(JSON.stringify(features()));
  doc.linux.apparmor.enabled = 'yes';
  assert.equal(schema(doc), false);
  const doc2 = JSON.parse(JSON.stringify(features()));
  doc2.linux.intelRdt = { enabled: 1 };
  assert.equal(schema(doc2), false);
});
