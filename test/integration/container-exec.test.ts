// `hull exec` into real running containers: docker's process (environment, user, working
// directory, capabilities), its exit status and docker's 126/127, stdin only with -i, a terminal
// with -t (on a real pty), -d, and the errors for containers that cannot be entered.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RUNTIME, waitFor } from './harness.ts';
import { ptySession } from './helpers/cli-session.ts';
import { engine, engineProcesses, type Engine } from './helpers/engine.ts';

let e: Engine;
let id: string;
before(() => {
  e = engine();
  id = e.ok(['run', '-d', '--name', 'box', '-e', 'FROM_RUN=1', '-e', 'SHARED=run', 'busybox', 'sleep', '100000']);
});
after(() => e.destroy());

function execDirs(): string[] {
  const dir = join(e.runroot, 'containers', id, 'exec');
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe('exec: the process', () => {
  it('runs in the container: its namespaces, its cgroups, its root', () => {
    const out = e.ok(['exec', 'box', 'sh', '-c', 'hostname; cat /proc/1/cmdline | tr "\\0" " "; echo; cat /proc/self/cgroup | grep -c /hull/']);
    const [host, init, cgroups] = out.split('\n');
    assert.equal(host, id.slice(0, 12));
    assert.equal(init, 'sleep 100000 ');
    assert.ok(Number(cgroups) > 0, 'in the container\'s cgroups');
    // the host's pid of the exec'd process is not visible inside: its pid namespace is the container's
    assert.match(e.ok(['exec', 'box', 'sh', '-c', 'echo $$']), /^\d{1,4}$/);
  });

  it('exits with the process\'s status, with stdout and stderr apart', () => {
    const r = e.run(['exec', 'box', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.status, 3);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(e.run(['exec', 'box', 'sh', '-c', 'kill -9 $$']).status, 137, 'killed by a signal: 128+n');
  });

  it('127 for a command that is not there, 126 for one that cannot run, with docker\'s messages', () => {
    const missing = e.run(['exec', 'box', 'no-such-command']);
    assert.equal(missing.status, 127);
    assert.equal(missing.stderr, 'OCI runtime exec failed: exec failed: unable to start container process: exec: "no-such-command": executable file not found in $PATH: unknown\n');
    const path = e.run(['exec', 'box', '/no/such/file']);
    assert.equal(path.status, 127);
    assert.match(path.stderr, /exec: "\/no\/such\/file": stat \/no\/such\/file: no such file or directory/);
    const denied = e.run(['exec', 'box', '/etc/passwd']);
    assert.equal(denied.status, 126);
    assert.match(denied.stderr, /exec: "\/etc\/passwd": permission denied: unknown/);
  });

  it('gets stdin only with -i', () => {
    const without = e.run(['exec', 'box', 'cat'], { input: 'hello\n' });
    assert.equal(without.status, 0, without.stderr);
    assert.equal(without.stdout, '', 'no -i: stdin is empty');
    const withI = e.run(['exec', '-i', 'box', 'sh', '-c', 'tr a-z A-Z'], { input: 'hello\n' });
    assert.equal(withI.stdout, 'HELLO\n');
  });

  it('has docker\'s environment: the container\'s, then -e and --env-file; a name alone takes the value here or unsets', () => {
    const file = join(e.root, 'exec.env');
    writeFileSync(file, '# comment\nFROM_FILE=f\nSHARED=file\nFROM_HOST_FILE\n');
    const out = e.ok(['exec', '--env-file', file, '-e', 'SHARED=flag', '-e', 'A=1', '-e', 'FROM_HOST', '-e', 'FROM_RUN', 'box', 'env'], {
      env: { FROM_HOST: 'host-value', FROM_HOST_FILE: 'host-file' },
    });
    const env = out.split('\n');
    assert.deepEqual(env.slice(0, 2), ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `HOSTNAME=${id.slice(0, 12)}`]);
    assert.ok(env.includes('SHARED=flag'), '-e comes after --env-file');
    assert.ok(env.includes('FROM_FILE=f') && env.includes('FROM_HOST_FILE=host-file') && env.includes('FROM_HOST=host-value'));
    assert.ok(env.includes('A=1'));
    assert.ok(!env.some((v) => v.startsWith('FROM_RUN=')), 'a name alone, unset here, removes the container\'s variable');
    assert.ok(env.includes('HOME=/root'));
    assert.ok(!env.some((v) => v.startsWith('TERM=')), 'TERM only with -t');
    const bad = e.run(['exec', '-e', '=x', 'box', 'true']);
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x/);
    const missing = e.run(['exec', '--env-file', '/no/such.env', 'box', 'true']);
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr, 'open /no/such.env: no such file or directory\n');
  });

  it('-u runs as a user of the container\'s passwd, by name or id, with its HOME; an unknown name is 126', () => {
    assert.equal(e.ok(['exec', '-u', 'nobody', 'box', 'sh', '-c', 'id; echo $HOME']), 'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n/home');
    assert.equal(e.ok(['exec', '-u', '1000:1000', 'box', 'id']), 'uid=1000 gid=1000 groups=1000');
    assert.equal(e.ok(['exec', '-u', 'nobody:root', 'box', 'id']), 'uid=65534(nobody) gid=0(root) groups=0(root)');
    const r = e.run(['exec', '-u', 'nosuchuser', 'box', 'id']);
    assert.equal(r.status, 126);
    assert.equal(r.stderr, 'unable to find user nosuchuser: no matching entries in passwd file\n');
  });

  it('-w sets the working directory; one that is missing or relative is 126', () => {
    assert.equal(e.ok(['exec', '-w', '/tmp', 'box', 'pwd']), '/tmp');
    assert.equal(e.ok(['exec', 'box', 'pwd']), '/');
    const missing = e.run(['exec', '-w', '/nonexistent', 'box', 'pwd']);
    assert.equal(missing.status, 126);
    assert.match(missing.stderr, /chdir to cwd \("\/nonexistent"\) set in config.json failed: no such file or directory/);
    const relative = e.run(['exec', '-w', 'tmp', 'box', 'pwd']);
    assert.equal(relative.status, 126);
    assert.match(relative.stderr, /Cwd must be an absolute path/);
  });

  it('--privileged gives the process every capability the host has; without it, the container\'s', () => {
    const caps = (args: string[]) => /CapEff:\s*([0-9a-f]+)/.exec(e.ok(['exec', ...args, 'box', 'grep', 'CapEff', '/proc/self/status']))![1]!;
    const host = /CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
    assert.equal(caps(['--privileged']), host);
    assert.equal(caps([]), '00000000a80425fb', 'docker\'s default set');
  });
});

describe('exec -d', () => {
  it('runs the process in the background after the CLI has gone, and it ends with the container', async () => {
    const cid = e.ok(['run', '-d', 'busybox', 'sleep', '100000']);
    const r = e.run(['exec', '-d', cid, 'sh', '-c', 'echo $$ > /tmp/bg.pid; echo noise; while [ ! -e /tmp/stop ]; do sleep 0.05; done; echo finished > /tmp/bg.out; sleep 100000']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout + r.stderr, '', 'its output goes nowhere');
    await waitFor(() => e.run(['exec', cid, 'cat', '/tmp/bg.pid']).status === 0, 'the background process to start');
    e.ok(['exec', cid, 'touch', '/tmp/stop']);
    await waitFor(() => e.run(['exec', cid, 'cat', '/tmp/bg.out']).stdout === 'finished\n', 'the background process to go on');
    // its host pid: the one in the container's cgroup running "sleep 100000" that is not the init
    const init = JSON.parse(e.ok(['inspect', cid]))[0].State.Pid as number;
    const procs = readFileSync(`/sys/fs/cgroup/pids/hull/${cid}/cgroup.procs`, 'utf8').trim().split('\n').map(Number);
    const bg = procs.filter((p) => p !== init && readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('sleep\0'));
    assert.equal(bg.length, 1, `the background sleep among ${procs}`);
    e.ok(['stop', '-t', '0', cid]);
    await waitFor(() => !existsSync(`/proc/${bg[0]}`), 'the background process to end with the container');
    e.ok(['rm', cid]);
  });

  it('errors are the daemon\'s, exit 1', () => {
    const r = e.run(['exec', '-d', 'box', 'no-such-command']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^Error response from daemon: OCI runtime exec failed: .*executable file not found in \$PATH/);
    const keys = e.run(['exec', '-d', '--detach-keys', 'ctrl-1', 'box', 'true']);
    assert.equal(keys.status, 1);
    assert.equal(keys.stderr, 'Error response from daemon: Invalid escape keys (ctrl-1) provided\n');
  });
});

describe('exec -t', () => {
  it('gives the process a terminal of the CLI\'s size, TERM=xterm, and the process\'s exit status', async () => {
    const r = await ptySession(e, ['exec', '-t', 'box', 'sh', '-c', 'tty; stty size; echo $TERM; exit 4'], [], { rows: 33, cols: 101 });
    assert.equal(r.status, 4, r.output);
    const lines = r.output.replace(/\r/g, '').split('\n');
    assert.match(lines[0]!, /^\/dev\/pts\/\d+$/);
    assert.equal(lines[1], '33 101');
    assert.equal(lines[2], 'xterm');
    assert.deepEqual(execDirs(), [], 'the exec\'s shim dir is gone');
  });

  it('-it: what the user types reaches the process, resizes follow the terminal, and the shell\'s exit ends it', async () => {
    const r = await ptySession(e, ['exec', '-it', 'box', 'sh'], [
      { expect: '# ' },
      { send: 'echo $((6 * 7))\r' },
      { expect: '42' },
      { resize: [40, 120] },
      // the new size reaches the pty when the CLI has handled its SIGWINCH: wait for it there
      { send: 'while [ "$(stty size)" != "40 120" ]; do sleep 0.05; done; echo re""sized\r' },
      { expect: 'resized' },
      { send: 'exit 9\r' },
    ]);
    assert.equal(r.status, 9, r.output);
    assert.deepEqual(execDirs(), []);
  });

  it('the detach keys leave the process running; "read escape sequence", exit 1', async () => {
    const r = await ptySession(e, ['exec', '-it', '--detach-keys', 'ctrl-x,x', 'box', 'sh'], [
      { expect: '# ' },
      { send: 'echo $$ > /tmp/detached.pid; echo $((2 * 21))\r' },
      { expect: '42' },
      { send: '\u0018x' },
    ]);
    assert.equal(r.status, 1);
    assert.match(r.output, /read escape sequence/);
    const pid = e.ok(['exec', 'box', 'cat', '/tmp/detached.pid']);
    assert.equal(e.run(['exec', 'box', 'kill', '-0', pid]).status, 0, 'the shell still runs');
    e.ok(['exec', 'box', 'kill', '-9', pid]);
    // its shim sees the end and leaves; only its exit record stays until the container stops
    await waitFor(() => engineProcesses(e).filter((p) => p.includes('/exec/')).length === 0, 'the detached exec\'s shim to exit');
  });

  it('-it without a terminal is refused, as docker refuses it', () => {
    const r = e.run(['exec', '-it', 'box', 'true']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'the input device is not a TTY\n');
  });

  it('-dt keeps a terminal for a background process', async () => {
    const r = e.run(['exec', '-dt', 'box', 'sh', '-c', 'echo $$ > /tmp/dt.pid; [ -t 1 ] && touch /tmp/had-tty; exec sleep 100000']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout + r.stderr, '');
    await waitFor(() => e.run(['exec', 'box', 'test', '-e', '/tmp/had-tty']).status === 0, 'the background process to see its terminal');
    e.ok(['exec', 'box', 'sh', '-c', 'kill -9 $(cat /tmp/dt.pid)']);
    await waitFor(() => engineProcesses(e).filter((p) => p.includes('/exec/')).length === 0, 'the exec\'s shim to exit');
  });
});

describe('exec: containers it cannot enter', () => {
  it('a stopped container, a missing one, a paused one: docker\'s errors, exit 1', () => {
    const stopped = e.ok(['create', 'busybox', 'true']);
    const r = e.run(['exec', stopped, 'true']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `Error response from daemon: container ${stopped} is not running\n`);
    e.ok(['rm', stopped]);
    const missing = e.run(['exec', 'nosuch', 'true']);
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr, 'Error response from daemon: No such container: nosuch\n');
    const rt = ['--root', join(e.runroot, 'runtime')];
    // frozen by the runtime, as a pause verb would
    const pause = (verb: string) => {
      const p = spawnSync(RUNTIME, [...rt, verb, id], { encoding: 'utf8' });
      assert.equal(p.status, 0, p.stderr);
    };
    pause('pause');
    try {
      const p = e.run(['exec', 'box', 'true']);
      assert.equal(p.status, 1);
      assert.equal(p.stderr, 'Error response from daemon: Container box is paused, unpause the container before exec\n');
    } finally {
      pause('resume');
    }
    assert.equal(e.run(['exec', 'box', 'true']).status, 0);
  });
});
