// The engine's container lifecycle through the real `hull` CLI: run, create/start, stop, kill, rm,
// ps and inspect, docker's exit codes, and what a killed shim or CLI leaves (nothing).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { existsSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { uptime } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './harness.ts';
import { engine, engineProcesses, findProcess, type Engine } from './helpers/engine.ts';

let e: Engine;
before(() => {
  e = engine();
});
after(() => e.destroy());

function inspect(ref: string): Record<string, any> {
  return JSON.parse(e.ok(['inspect', ref]))[0];
}

describe('run', () => {
  it('runs a command in the foreground with its stdout and stderr apart', () => {
    const r = e.run(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  it('answers to its management-command names with the same flags: container run, ls, list, remove', () => {
    const r = e.run(['container', 'run', '--name', 'byname', '-e', 'X=1', 'busybox', 'sh', '-c', 'echo $X']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '1\n');
    const id = inspect('byname').Id.slice(0, 12);
    assert.equal(e.ok(['container', 'ls', '-a', '-q', '--filter', 'name=byname']), id);
    assert.equal(e.ok(['container', 'list', '-aq', '--filter', 'name=byname']), id);
    e.ok(['container', 'remove', 'byname']);
    assert.equal(e.ok(['ps', '-aq', '--filter', 'name=byname']), '');
    // the short name is defined alone, and a flag of the verb still works after it
    assert.equal(e.ok(['run', '--rm', '-w', '/etc', 'busybox', 'pwd']), '/etc');
  });

  it('exits with the container\'s own status', () => {
    assert.equal(e.run(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']).status, 3);
  });

  it('exits 127 for a command that does not exist, 126 for one that cannot run, and leaves a created container', () => {
    const r = e.run(['run', '--name', 'nocmd', 'busybox', 'no-such-command']);
    assert.equal(r.status, 127, r.stderr);
    assert.match(r.stderr, /executable file not found in \$PATH/);
    const c = inspect('nocmd');
    assert.equal(c.State.Status, 'created');
    assert.equal(c.State.ExitCode, 127);
    e.ok(['rm', 'nocmd']);
    const r2 = e.run(['run', '--rm', 'busybox', '/etc/passwd']);
    assert.equal(r2.status, 126, r2.stderr);
  });

  it('exits 125 for its own errors: an unknown image', () => {
    const r = e.run(['run', '--rm', '--pull', 'never', 'no-such-image']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /No such image/);
  });

  it('passes stdin with -i', () => {
    const r = e.run(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'tr a-z A-Z'], { input: 'hello\n' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'HELLO\n');
  });

  it('sets the hostname to the short id and the environment docker sets', () => {
    const out = e.ok(['run', '--name', 'envs', 'busybox', 'sh', '-c', 'hostname; echo $HOME; echo $PATH']);
    const [host, home, path] = out.split('\n');
    const c = inspect('envs');
    assert.equal(host, c.Id.slice(0, 12));
    assert.equal(home, '/root');
    assert.match(path!, /\/usr\/local\/sbin/);
    e.ok(['rm', 'envs']);
  });
});

describe('detached containers', () => {
  it('run -d, ps, stop, start, rm', () => {
    const id = e.ok(['run', '-d', '--name', 'sleeper', 'busybox', 'sleep', '1000']);
    assert.match(id, /^[0-9a-f]{64}$/);
    const ps = e.ok(['ps']);
    assert.match(ps, /CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES/);
    assert.match(ps, new RegExp(`${id.slice(0, 12)}\\s+busybox\\s+"sleep 1000"\\s+.*Up .*sleeper`));
    assert.equal(inspect('sleeper').State.Running, true);
    const rm = e.run(['rm', 'sleeper']);
    assert.equal(rm.status, 1);
    assert.match(rm.stderr, /container is running: stop the container before removing or force remove/);
    assert.equal(e.ok(['stop', '-t', '1', 'sleeper']), 'sleeper');
    const c = inspect('sleeper');
    assert.equal(c.State.Status, 'exited');
    assert.equal(c.State.ExitCode, 137, 'sleep ignores SIGTERM as pid 1, so stop kills it');
    assert.equal(e.ok(['ps', '-q']), '');
    assert.match(e.ok(['ps', '-a']), /Exited \(137\)/);
    e.ok(['start', 'sleeper']);
    assert.equal(inspect('sleeper').State.Running, true);
    e.ok(['rm', '-f', 'sleeper']);
    assert.equal(e.run(['inspect', 'sleeper']).status, 1);
  });

  it('stop sends the stop signal first', () => {
    e.ok(['run', '-d', '--name', 'trapper', 'busybox', 'sh', '-c', 'trap "exit 7" TERM; while :; do sleep 0.1; done']);
    e.ok(['stop', 'trapper']);
    assert.equal(inspect('trapper').State.ExitCode, 7);
    e.ok(['rm', 'trapper']);
  });

  it('refuses a name in use, with docker\'s message', () => {
    e.ok(['create', '--name', 'dup', 'busybox', 'true']);
    const r = e.run(['create', '--name', 'dup', 'busybox', 'true']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /The container name "\/dup" is already in use/);
    e.ok(['rm', 'dup']);
  });

  it('wait prints the exit code', () => {
    e.ok(['run', '-d', '--name', 'ww', 'busybox', 'sh', '-c', 'sleep 0.3; exit 5']);
    assert.equal(e.ok(['wait', 'ww']), '5');
    e.ok(['rm', 'ww']);
  });

  it('a killed shim shows as exited with a reason, and leaves nothing behind', async () => {
    const id = e.ok(['run', '-d', 'busybox', 'sleep', '1000']);
    const shim = findProcess('hull-shim', id);
    assert.ok(shim, 'shim running');
    process.kill(shim!, 'SIGKILL');
    await waitFor(() => !existsSync(`/proc/${shim}`), 'shim gone');
    const ps = e.ok(['ps', '-a', '--filter', `id=${id}`, '--format', '{{.Status}}']);
    assert.match(ps, /^Exited/);
    const c = inspect(id);
    assert.equal(c.State.Running, false);
    assert.match(c.State.Error, /hull-shim/);
    assert.ok(!existsSync(join('/proc', String(c.State.Pid || 999999999))));
    assert.deepEqual(engineProcesses(e), []);
    e.ok(['rm', id]);
  });

  it('--rm with -d removes the container when it exits', async () => {
    const id = e.ok(['run', '-d', '--rm', 'busybox', 'true']);
    await waitFor(() => e.run(['inspect', id]).status !== 0, 'container removed');
    assert.ok(!existsSync(join(e.root, 'containers', id)));
  });

  it('--rm gives the container a volatile writable layer, which mounts again in the same boot but not after a crash', () => {
    const rootLine = (args: string[]) => e.ok(['run', ...args, 'busybox', 'sh', '-c', 'grep "^overlay / " /proc/mounts']);
    assert.match(rootLine(['--rm']), /[,\s](fsync=)?volatile[,\s]/);
    assert.doesNotMatch(rootLine(['--name', 'durable']), /volatile/);
    e.ok(['rm', 'durable']);

    // cp mounts the layer of a created container, then start mounts it again
    const id = e.ok(['create', '--rm', 'busybox', 'cat', '/given']);
    const file = join(e.root, 'given');
    writeFileSync(file, 'copied in\n');
    e.ok(['cp', file, `${id}:/given`]);
    assert.equal(e.ok(['start', '-a', id]), 'copied in');
    assert.ok(!existsSync(join(e.root, 'containers', id)));

    // a mark left by a mount from before this boot: the layer may have lost writes
    const stale = e.ok(['create', '--rm', 'busybox', 'true']);
    e.ok(['cp', file, `${stale}:/given`]);
    const mark = join(e.root, 'containers', stale, 'work', 'work', 'incompat', 'volatile');
    assert.ok(existsSync(mark));
    const beforeBoot = new Date(Date.now() - (uptime() + 3600) * 1000);
    utimesSync(mark, beforeBoot, beforeBoot);
    const r = e.run(['start', '-a', stale]);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /was mounted when the host went down.*remove the container/);
    assert.equal(inspect(stale).State.Status, 'created');
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(join(e.root, 'containers', stale)), 'no mount is left');
    e.ok(['rm', stale]);
    rmSync(file);
  });

  it('all containers mount one init layer, which a create makes when it is missing, concurrent creates included', async () => {
    const shared = join(e.root, 'init-layer');
    rmSync(shared, { recursive: true, force: true });
    const made = await Promise.all([1, 2, 3].map(() => new Promise<string>((resolve, reject) => {
      const child = e.spawn(['create', 'busybox', 'sh', '-c', 'readlink /etc/mtab; ls -d /proc /sys /dev/pts /dev/shm; cat /etc/hostname']);
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.once('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`create exited ${code}`))));
    })));
    assert.deepEqual(readdirSync(join(e.root)).filter((n) => n.startsWith('init-layer')), ['init-layer'], 'no half-made copy is left');
    for (const id of made) {
      assert.deepEqual(readdirSync(join(e.root, 'containers', id)).sort(), ['diff', 'hostname', 'hosts', 'merged', 'resolv.conf', 'work']);
      assert.equal(inspect(id).GraphDriver.Data.LowerDir.split(':')[0], shared);
      assert.equal(e.ok(['start', '-a', id]), `/proc/mounts\n/dev/pts\n/dev/shm\n/proc\n/sys\n${id.slice(0, 12)}`);
      e.ok(['rm', id]);
    }
    assert.ok(existsSync(shared), 'the shared layer stays');
  });

  it('inspect shows docker\'s fields', () => {
    const id = e.ok(['create', '--name', 'insp', '-e', 'A=1', '--label', 'x=y', 'busybox', 'echo', 'hi']);
    const c = inspect('insp');
    assert.equal(c.Id, id);
    assert.equal(c.Name, '/insp');
    assert.equal(c.Path, 'echo');
    assert.deepEqual(c.Args, ['hi']);
    assert.ok(c.Config.Env.includes('A=1'));
    assert.equal(c.Config.Labels.x, 'y');
    assert.equal(c.State.Status, 'created');
    assert.equal(c.GraphDriver.Name, 'overlay2');
    assert.ok(readFileSync(c.HostnamePath, 'utf8').startsWith(id.slice(0, 12)));
    assert.equal(e.ok(['inspect', '-f', '{{.Config.Image}} {{.State.Status}}', 'insp']), 'busybox created');
    e.ok(['rm', 'insp']);
  });
});

describe('images in use', () => {
  it('rmi refuses an image a container uses, -f untags it but keeps it for a running container, and frees it after rm', () => {
    e.ok(['tag', 'busybox', 'inuse:1']);
    e.ok(['run', '-d', '--name', 'user', 'inuse:1', 'sleep', '1000']);
    const id = e.ok(['image', 'inspect', '-f', '{{.Id}}', 'busybox']);
    e.ok(['rmi', 'busybox']); // one of two names: only untagged
    const r = e.run(['rmi', 'inuse:1']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /container [0-9a-f]{12} is using its referenced image/);
    const forced = e.run(['rmi', '-f', id]);
    assert.equal(forced.status, 1);
    assert.match(forced.stderr, /image is being used by running container/);
    e.ok(['rm', '-f', 'user']);
    e.ok(['tag', 'inuse:1', 'busybox:latest']);
    e.ok(['rmi', 'inuse:1']);
    assert.equal(e.ok(['images', '-q', 'inuse']), '');
  });
});

describe('terminals', () => {
  it('run -it without a terminal on stdin is refused before anything is made, as docker does', () => {
    const before = e.ok(['ps', '-aq']);
    const r = e.run(['run', '--rm', '-it', 'busybox', 'true']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /the input device is not a TTY/);
    assert.equal(e.ok(['ps', '-aq']), before);
  });
});
