// The OCI lifecycle through hull-runtime's CLI: create, start, state, kill, delete, run, list, exec, ps.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { RUNTIME, bundle, spawn, stateOf, waitFor, type Bundle } from './harness.ts';

let b: Bundle | undefined;
afterEach(() => {
  b?.cleanup();
  b = undefined;
});

test('create blocks before exec, start runs the process, delete removes it', async () => {
  b = bundle(['sh', '-c', 'echo started > /tmp/marker; sleep 30']);
  b.spec.root!.readonly = false;
  b.save();
  b.ok(['create', '--pid-file', join(b.dir, 'pid'), b.id]);
  const created = stateOf(b);
  assert.equal(created.status, 'created');
  assert.equal(Number(readFileSync(join(b.dir, 'pid'), 'utf8')), created.pid);
  assert.ok(!existsSync(join(b.rootfs, 'tmp/marker')), 'the process ran before start');
  // The init is blocked in hull-init, not yet in the user's program.
  assert.notEqual(readFileSync(`/proc/${created.pid}/comm`, 'utf8').trim(), 'sh');

  b.ok(['start', b.id]);
  await waitFor(() => existsSync(join(b!.rootfs, 'tmp/marker')), 'the process to start');
  assert.equal(stateOf(b).status, 'running');
  const again = b.rt(['start', b.id]);
  assert.notEqual(again.status, 0, 'a second start must fail');

  const del = b.rt(['delete', b.id]);
  assert.notEqual(del.status, 0);
  assert.match(del.stderr, /not stopped/);
  b.ok(['kill', b.id, 'KILL']);
  await waitFor(() => stateOf(b!).status === 'stopped', 'the container to stop');
  assert.equal(stateOf(b).pid, 0);
  b.ok(['delete', b.id]);
  assert.notEqual(b.rt(['state', b.id]).status, 0);
});

test('state prints the runtime-spec document', () => {
  b = bundle(['sleep', '30'], (s) => {
    s.annotations = { 'org.example.key': 'value' };
  });
  b.ok(['create', b.id]);
  const st = JSON.parse(b.ok(['state', b.id]));
  assert.equal(st.ociVersion, '1.3.0');
  assert.equal(st.id, b.id);
  assert.equal(st.status, 'created');
  assert.equal(st.bundle, b.dir);
  assert.deepEqual(st.annotations, { 'org.example.key': 'value' });
  assert.ok(st.pid > 0);
  b.ok(['delete', b.id]); // deleting a created container kills it
});

test('run in the foreground returns the exit code and removes the container', () => {
  b = bundle(['sh', '-c', 'echo out; echo err >&2; exit 7']);
  const r = b.rt(['run', b.id]);
  assert.equal(r.status, 7);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.notEqual(b.rt(['state', b.id]).status, 0);
});

test('run passes stdin through', () => {
  b = bundle(['sh', '-c', 'read line; echo "got $line"']);
  const r = b.rt(['run', b.id], { input: 'hello\n' });
  assert.equal(r.stdout, 'got hello\n');
});

test('run --detach leaves a running container', async () => {
  b = bundle(['sleep', '30']);
  b.ok(['run', '--detach', b.id]);
  assert.equal(stateOf(b).status, 'running');
  b.ok(['delete', '--force', b.id]);
});

test('a container killed by a signal makes the foreground run exit 128+signal', async () => {
  b = bundle(['sleep', '30']);
  const run = spawn(RUNTIME, ['--root', b.root, 'run', b.id], { cwd: b.dir, stdio: 'ignore' });
  const exited = new Promise<number | null>((r) => run.on('exit', (code) => r(code)));
  await waitFor(() => b!.rt(['state', b!.id]).stdout.includes('"running"'), 'the container to run');
  b.ok(['kill', b.id, 'KILL']);
  assert.equal(await exited, 137);
});

test('signals sent to a foreground run reach the container', async () => {
  b = bundle(['sh', '-c', 'trap "exit 42" TERM; while true; do sleep 0.1; done']);
  const run = spawn(RUNTIME, ['--root', b.root, 'run', b.id], { cwd: b.dir, stdio: 'ignore' });
  const exited = new Promise<number | null>((r) => run.on('exit', (code) => r(code)));
  await waitFor(() => b!.rt(['state', b!.id]).stdout.includes('"running"'), 'the container to run');
  await new Promise((r) => setTimeout(r, 200)); // let the shell install its trap
  run.kill('SIGTERM');
  assert.equal(await exited, 42);
});

test('list shows containers in table and json form', () => {
  b = bundle(['sleep', '30']);
  b.ok(['create', b.id]);
  const table = b.ok(['list']);
  assert.match(table.split('\n')[0]!, /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER/);
  assert.match(table, new RegExp(`${b.id}\\s+\\d+\\s+created`));
  const json = JSON.parse(b.ok(['list', '--format', 'json']));
  assert.equal(json[0].id, b.id);
  assert.equal(b.ok(['list', '-q']), `${b.id}\n`);
  b.ok(['delete', '--force', b.id]);
});

test('kill --all signals every process, and a stopped container refuses kill', async () => {
  b = bundle(['sh', '-c', 'sleep 30 & sleep 30 & wait']);
  b.ok(['run', '-d', b.id]);
  await waitFor(() => JSON.parse(b!.ok(['ps', '--format', 'json', b!.id])).length === 3, 'three processes');
  b.ok(['kill', '--all', b.id, 'KILL']);
  await waitFor(() => stateOf(b!).status === 'stopped', 'the container to stop');
  const r = b.rt(['kill', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /not running/);
  b.ok(['delete', b.id]);
});

test('ps lists the container processes', async () => {
  b = bundle(['sleep', '30']);
  b.ok(['run', '-d', b.id]);
  const pids = JSON.parse(b.ok(['ps', '--format', 'json', b.id]));
  assert.deepEqual(pids, [stateOf(b).pid]);
  const table = b.ok(['ps', b.id]);
  assert.match(table.split('\n')[0]!, /PID/);
  assert.match(table, /sleep 30/);
  b.ok(['delete', '-f', b.id]);
});

test('exec runs in every namespace of the container', () => {
  b = bundle(['sleep', '30']);
  b.ok(['run', '-d', b.id]);
  const init = stateOf(b).pid;
  const out = b.ok(['exec', b.id, 'sh', '-c', 'hostname; echo $$; ls -1 /proc | grep -c "^[0-9]"']);
  const [host, pid] = out.split('\n');
  assert.equal(host, b.spec.hostname);
  assert.ok(Number(pid) > 1 && Number(pid) < 10, `exec pid ${pid} should be small, in the container's pid namespace`);
  for (const ns of ['mnt', 'pid', 'net', 'ipc', 'uts', 'cgroup']) {
    const r = b.rt(['exec', b.id, 'readlink', `/proc/self/ns/${ns}`]);
    assert.equal(r.status, 0, r.stderr);
    // the exec'd process's namespace is the init's (as seen from the host)
    assert.equal(r.stdout.trim(), readlinkSync(`/proc/${init}/ns/${ns}`), ns);
  }
  assert.equal(b.rt(['exec', b.id, 'sh', '-c', 'exit 3']).status, 3);
  b.ok(['delete', '-f', b.id]);
});

test('exec flags: --env, --cwd, --user, --cap, -d with --pid-file', async () => {
  b = bundle(['sleep', '30']);
  b.ok(['run', '-d', b.id]);
  assert.equal(b.ok(['exec', '--env', 'FOO=bar', b.id, 'sh', '-c', 'echo $FOO']), 'bar\n');
  assert.equal(b.ok(['exec', '--cwd', '/tmp', b.id, 'pwd']), '/tmp\n');
  assert.equal(b.ok(['exec', '--user', '65534:65534', b.id, 'id', '-u']), '65534\n');
  const caps = b.ok(['exec', '--cap', 'CAP_SYS_ADMIN', b.id, 'grep', 'CapEff', '/proc/self/status']);
  assert.ok((BigInt('0x' + caps.split(/\s+/)[1]) & (1n << 21n)) !== 0n, 'CAP_SYS_ADMIN in the effective set');
  b.ok(['exec', '-d', '--pid-file', join(b.dir, 'exec.pid'), b.id, 'sleep', '20']);
  const pid = Number(readFileSync(join(b.dir, 'exec.pid'), 'utf8'));
  assert.ok(existsSync(`/proc/${pid}`));
  b.ok(['delete', '-f', b.id]);
  assert.ok(!existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'), 'exec -d process died with the container');
});

test('exec --process takes a process.json', () => {
  b = bundle(['sleep', '30']);
  b.ok(['run', '-d', b.id]);
  const proc = { cwd: '/', args: ['sh', '-c', 'echo $A; id -g'], env: ['A=from-json', 'PATH=/bin'], user: { uid: 0, gid: 12 } };
  writeFileSync(join(b.dir, 'process.json'), JSON.stringify(proc));
  assert.equal(b.ok(['exec', '--process', join(b.dir, 'process.json'), b.id]), 'from-json\n12\n');
  b.ok(['delete', '-f', b.id]);
});

test('exec into a stopped container fails', async () => {
  b = bundle(['true']);
  b.ok(['run', '-d', b.id]);
  await waitFor(() => stateOf(b!).status === 'stopped', 'exit');
  const r = b.rt(['exec', b.id, 'true']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /stopped/);
  b.ok(['delete', b.id]);
});

test('delete --force of a missing container succeeds; without --force it fails', () => {
  b = bundle();
  b.ok(['delete', '--force', 'nothing-here']);
  const r = b.rt(['delete', 'nothing-here']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /does not exist/);
});

test('a duplicate id is refused and the first container is untouched', () => {
  b = bundle(['sleep', '30']);
  b.ok(['create', b.id]);
  const r = b.rt(['create', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /already exists/);
  assert.equal(stateOf(b).status, 'created');
  b.ok(['delete', b.id]);
});
