// Podman (Debian's, 4.3) drives hull-runtime as its OCI runtime: `podman --runtime
// dist/hull-runtime`, through conmon, with runc's command line (create, start, state, kill,
// delete, exec --process --detach --pid-file, --console-socket).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RUNTIME, waitFor } from './harness.ts';
import { HULL_DEFAULT_ROOT, IMAGE, assertNoContainerLeaks, startPodman, type Podman } from './helpers/podman-env.ts';

let pm: Podman;
before(() => {
  pm = startPodman();
});
after(() => {
  pm?.cleanup();
});

/** hull-runtime's own view of a container Podman made (Podman uses the default state root). */
function hullState(id: string): { status: string; pid: number } | undefined {
  const r = spawnSync(RUNTIME, ['state', id], { encoding: 'utf8' });
  return r.status === 0 ? (JSON.parse(r.stdout) as { status: string; pid: number }) : undefined;
}

test('podman run --rm echo hi', () => {
  const cid = pm.cidfile();
  const r = pm.run(['run', '--rm', '--cidfile', cid, '--network', 'none', IMAGE, 'echo', 'hi']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'hi\n');
  const id = pm.idFrom(cid);
  assert.equal(pm.ok(['ps', '-aq']), '', '--rm removed the container');
  assertNoContainerLeaks([id]);

  // The exit status comes through, and so do stdin and stderr.
  const code = pm.run(['run', '--rm', '--network', 'none', IMAGE, 'sh', '-c', 'echo out; echo err >&2; exit 7']);
  assert.equal(code.status, 7, code.stderr);
  assert.equal(code.stdout, 'out\n');
  assert.match(code.stderr, /^err$/m);
  const input = pm.run(['run', '--rm', '-i', '--network', 'none', IMAGE, 'sh', '-c', 'read x; echo "got $x"'], { input: 'typed\n' });
  assert.equal(input.stdout, 'got typed\n', input.stderr);
});

test('podman run -d, exec, logs, stop and rm', async () => {
  const cid = pm.cidfile();
  const script = "trap 'echo got-term; exit 3' TERM; echo ready; while :; do sleep 0.1; done";
  pm.ok(['run', '-d', '--name', 'hull-pm-detached', '--cidfile', cid, '--network', 'none', IMAGE, 'sh', '-c', script]);
  const id = pm.idFrom(cid);

  // hull-runtime made it: its state, under hull-runtime's default root, names the same init.
  const st = hullState(id);
  assert.ok(st, `hull-runtime has no state for ${id}`);
  assert.equal(st.status, 'running');
  assert.equal(Number(pm.ok(['inspect', '-f', '{{.State.Pid}}', id]).trim()), st.pid);
  await waitFor(() => pm.run(['logs', id]).stdout.includes('ready'), 'the container to log');

  // exec: runs in the container (its pid namespace and hostname), with stdin.
  const out = pm.ok(['exec', id, 'sh', '-c', 'echo from-exec; hostname; echo $$']).split('\n');
  assert.equal(out[0], 'from-exec');
  assert.equal(out[1], pm.ok(['inspect', '-f', '{{.Config.Hostname}}', id]).trim());
  assert.ok(Number(out[2]) > 1 && Number(out[2]) < 100, `exec pid ${out[2]} is in the container's pid namespace`);
  assert.equal(pm.ok(['exec', '-i', id, 'cat'], { input: 'through-exec\n' }), 'through-exec\n');
  assert.equal(pm.run(['exec', id, 'sh', '-c', 'exit 4']).status, 4);
  assert.match(pm.ok(['top', id]), /sh -c trap/);

  // stop sends SIGTERM (through hull-runtime kill), which the trap turns into exit 3.
  pm.ok(['stop', '-t', '20', id]);
  assert.equal(pm.ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id]).trim(), 'exited 3');
  await waitFor(() => pm.run(['logs', id]).stdout.includes('got-term'), 'the trap to log');
  pm.ok(['rm', id]);
  assert.equal(pm.run(['inspect', id]).status === 0, false, 'the container is gone');
  assert.ok(!existsSync(join(HULL_DEFAULT_ROOT, id)));
  assertNoContainerLeaks([id]);
});

test('podman run -t allocates a terminal through --console-socket', () => {
  const cid = pm.cidfile();
  const r = pm.run(['run', '--rm', '-t', '--cidfile', cid, '--network', 'none', IMAGE, 'sh', '-c', 'tty; test -t 1 && echo stdout-is-a-tty']);
  assert.equal(r.status, 0, r.stderr);
  // A terminal turns \n into \r\n.
  assert.match(r.stdout, /^\/dev\/pts\/\d+\r\nstdout-is-a-tty\r\n$/);
  assertNoContainerLeaks([pm.idFrom(cid)]);
});

test('podman run -it and exec -it with a real terminal (through script)', () => {
  // script gives podman a pty of its own, so -i and -t are both live: what we type runs.
  const cmd = [...pm.argv(), 'run', '--rm', '-it', '--network', 'none', IMAGE, 'sh'].join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
    encoding: 'utf8', env: pm.env, input: 'echo typed-$((6*7)); exit 5\n', timeout: 60_000,
  });
  assert.equal(r.status, 5, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /typed-42\r\n/);

  const cid = pm.cidfile();
  pm.ok(['run', '-d', '--cidfile', cid, '--network', 'none', IMAGE, 'sleep', '60']);
  const id = pm.idFrom(cid);
  const exec = spawnSync('script', ['-qec', [...pm.argv(), 'exec', '-it', id, 'sh'].join(' '), '/dev/null'], {
    encoding: 'utf8', env: pm.env, input: 'tty; exit 6\n', timeout: 60_000,
  });
  assert.equal(exec.status, 6, `${exec.stdout}${exec.stderr}`);
  assert.match(exec.stdout, /\/dev\/pts\/\d+\r\n/);
  pm.ok(['rm', '-f', '-t', '0', id]);
  assertNoContainerLeaks([id]);
});

test('podman kill, wait and restart go through hull-runtime', () => {
  const cid = pm.cidfile();
  pm.ok(['run', '-d', '--cidfile', cid, '--network', 'none', IMAGE, 'sleep', '60']);
  const id = pm.idFrom(cid);
  pm.ok(['kill', '-s', 'KILL', id]);
  assert.equal(pm.ok(['wait', id]).trim(), '137');
  pm.ok(['restart', '-t', '0', id]);
  assert.equal(hullState(id)?.status, 'running');
  pm.ok(['rm', '-f', '-t', '0', id]);
  assertNoContainerLeaks([id]);
  assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(id), false, 'a mount of the container is left');
});

test("a ulimit above the host's hard limit fails with hull-runtime's reason, and leaves nothing", () => {
  // Podman's stock default_ulimits (nofile=1048576) fail this way on a host whose root lacks
  // CAP_SYS_RESOURCE (MACHINE.md); the test's containers.conf lowers them, --ulimit raises one.
  const cid = pm.cidfile();
  const r = pm.run(['run', '--rm', '--cidfile', cid, '--ulimit', 'nofile=1048576:1048576', '--network', 'none', IMAGE, 'true']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /RLIMIT_NOFILE hard limit 1048576 is above this host's hard limit \d+, and raising a hard limit needs CAP_SYS_RESOURCE/);
  const id = pm.idFrom(cid);
  pm.run(['rm', '-f', id]);
  assertNoContainerLeaks([id]);
});
