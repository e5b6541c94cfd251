// A container's config completed from its image's, by docker's rules (dockerd's merge).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCommand, mergeImageConfig, type ImageRuntimeConfig } from '../../src/engine/containers/image-config.ts';
import type { ContainerConfig } from '../../src/engine/containers/model.ts';

/** What the CLI sends for `run IMAGE` with no flags. */
function user(over: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false,
    OpenStdin: false, StdinOnce: false, Env: [], Cmd: null, Image: 'app', Volumes: null, WorkingDir: '', Entrypoint: null,
    Labels: {}, ...over,
  };
}

const IMAGE: ImageRuntimeConfig = {
  User: 'app',
  Env: ['PATH=/app/bin:/usr/bin:/bin', 'LANG=C.UTF-8', 'MODE=prod'],
  Entrypoint: ['/app/entry.sh'],
  Cmd: ['serve', '--port', '80'],
  WorkingDir: '/app',
  Labels: { maintainer: 'me', version: '1' },
  ExposedPorts: { '80/tcp': {} },
  Volumes: { '/data': {} },
  StopSignal: 'SIGQUIT',
  Healthcheck: { Test: ['CMD', 'check'], Interval: 30e9, Timeout: 5e9, Retries: 3 },
};

test('nothing given: everything from the image', () => {
  const c = mergeImageConfig(user(), IMAGE);
  assert.equal(c.User, 'app');
  assert.deepEqual(c.Env, IMAGE.Env);
  assert.deepEqual(c.Entrypoint, ['/app/entry.sh']);
  assert.deepEqual(c.Cmd, ['serve', '--port', '80']);
  assert.equal(c.WorkingDir, '/app');
  assert.deepEqual(c.Labels, { maintainer: 'me', version: '1' });
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {} });
  assert.deepEqual(c.Volumes, { '/data': {} });
  assert.equal(c.StopSignal, 'SIGQUIT');
  assert.deepEqual(c.Healthcheck, IMAGE.Healthcheck);
  assert.equal(c.Image, 'app');
});

test('the user\'s values win; env by name, the user\'s first; labels, ports and volumes are unions', () => {
  const c = mergeImageConfig(user({
    User: '1000:1000', Env: ['MODE=dev', 'EXTRA=1'], WorkingDir: '/work', Labels: { version: '2', team: 'x' },
    ExposedPorts: { '443/tcp': {} }, Volumes: { '/cache': {} }, StopSignal: 'SIGTERM',
  }), IMAGE);
  assert.equal(c.User, '1000:1000');
  assert.deepEqual(c.Env, ['MODE=dev', 'EXTRA=1', 'PATH=/app/bin:/usr/bin:/bin', 'LANG=C.UTF-8']);
  assert.equal(c.WorkingDir, '/work');
  assert.deepEqual(c.Labels, { maintainer: 'me', version: '2', team: 'x' });
  assert.deepEqual(c.ExposedPorts, { '443/tcp': {}, '80/tcp': {} });
  assert.deepEqual(c.Volumes, { '/cache': {}, '/data': {} });
  assert.equal(c.StopSignal, 'SIGTERM');
});

test('Cmd and Entrypoint: a new entrypoint drops the image\'s Cmd; --entrypoint "" clears both', () => {
  const cmdOnly = mergeImageConfig(user({ Cmd: ['sh'] }), IMAGE);
  assert.deepEqual([cmdOnly.Entrypoint, cmdOnly.Cmd], [['/app/entry.sh'], ['sh']]);
  const entry = mergeImageConfig(user({ Entrypoint: ['/bin/other'] }), IMAGE);
  assert.deepEqual([entry.Entrypoint, entry.Cmd], [['/bin/other'], null]);
  const both = mergeImageConfig(user({ Entrypoint: ['/bin/other'], Cmd: ['x'] }), IMAGE);
  assert.deepEqual([both.Entrypoint, both.Cmd], [['/bin/other'], ['x']]);
  const cleared = mergeImageConfig(user({ Entrypoint: [''] }), IMAGE);
  assert.deepEqual([cleared.Entrypoint, cleared.Cmd], [null, null]);
  assert.throws(() => checkCommand(cleared), /^Error: no command specified$/);
  const clearedWithCmd = mergeImageConfig(user({ Entrypoint: [''], Cmd: ['ls'] }), IMAGE);
  assert.deepEqual([clearedWithCmd.Entrypoint, clearedWithCmd.Cmd], [null, ['ls']]);
  checkCommand(clearedWithCmd);
  // An empty (not null) entrypoint, as the API can send: no entrypoint, the image's Cmd.
  const empty = mergeImageConfig(user({ Entrypoint: [] }), IMAGE);
  assert.deepEqual([empty.Entrypoint, empty.Cmd], [[], ['serve', '--port', '80']]);
});

test('healthcheck: the user\'s fields over the image\'s', () => {
  const c = mergeImageConfig(user({ Healthcheck: { Interval: 10e9, Retries: 0 } }), IMAGE);
  assert.deepEqual(c.Healthcheck, { Test: ['CMD', 'check'], Interval: 10e9, Timeout: 5e9, Retries: 3 });
  const none = mergeImageConfig(user({ Healthcheck: { Test: ['NONE'] } }), IMAGE);
  assert.deepEqual(none.Healthcheck!.Test, ['NONE']);
  assert.equal(mergeImageConfig(user(), {}).Healthcheck, undefined);
});

test('an image without config: no PATH is invented (docker\'s inspect shows none; the spec adds the default)', () => {
  const c = mergeImageConfig(user({ Cmd: ['true'] }), null);
  assert.deepEqual(c.Env, []);
  assert.deepEqual(c.Cmd, ['true']);
  assert.equal(c.Entrypoint, null);
  assert.deepEqual(c.Labels, {});
  assert.equal(c.Volumes, null);
  assert.equal(c.User, '');
});

test('the input is not changed', () => {
  const u = user({ Env: ['A=1'], Labels: { a: 'b' }, Volumes: { '/v': {} } });
  const before = structuredClone(u);
  const image = structuredClone(IMAGE);
  const c = mergeImageConfig(u, image);
  c.Env.push('B=2');
  c.Labels.x = 'y';
  assert.deepEqual(u, before);
  assert.deepEqual(image, IMAGE);
});
