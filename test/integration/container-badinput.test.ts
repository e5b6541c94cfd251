// Bad input to run/create/rm: each gets docker's message and exit status (125 for hull's own
// errors, 126 when the command cannot run, 127 when it is not found) and leaves nothing: no row
// (`ps -a` unchanged), no mount, cgroup, process, volume or directory. A failure that docker
// reports at start leaves a created container, as docker's does, with nothing made for it.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { engine, type Engine } from './helpers/engine.ts';
import { allIds, assertConsistent, containerCgroups, containerMounts, inspectOne } from './helpers/engine-state.ts';

let e: Engine;
let scratch: string;
before(() => {
  e = engine();
  scratch = mkdtempSync('/var/tmp/hull-badinput-');
});
after(() => {
  rmSync(scratch, { recursive: true, force: true });
  e.destroy();
});
// a failed test must not leave its containers to the next one (each test checks for leaks itself)
afterEach(() => {
  const ids = allIds(e);
  if (ids.length) e.run(['rm', '-f', ...ids]);
});

interface Case {
  /** What is wrong, for the test's name. */
  what: string;
  /** The options before the image; the image and command follow unless `image` says otherwise. */
  flags: string[];
  image?: string;
  command?: string[];
  status: number;
  message: RegExp;
  /** Refused when the container starts (as docker's daemon does): a run without --rm leaves it created. */
  atStart?: boolean;
}

const unique = `${process.pid}-${Date.now()}`;

const CASES: Case[] = [
  { what: 'an unknown image', flags: ['--pull', 'never'], image: 'no-such-image', status: 125, message: /No such image: no-such-image/ },
  { what: 'an unknown command', flags: [], command: ['no-such-command'], status: 127, message: /exec: "no-such-command": executable file not found in \$PATH/, atStart: true },
  { what: 'a missing command path', flags: [], command: ['/no/such/file'], status: 127, message: /exec: "\/no\/such\/file": stat \/no\/such\/file: no such file or directory/, atStart: true },
  { what: 'a command that is not executable', flags: [], command: ['/etc/passwd'], status: 126, message: /exec: "\/etc\/passwd": permission denied/, atStart: true },
  { what: 'a command that is a directory', flags: [], command: ['/etc'], status: 126, message: /exec: "\/etc": permission denied/, atStart: true },
  { what: 'an unknown user', flags: ['-u', 'nosuch'], status: 125, message: /unable to find user nosuch: no matching entries in passwd file/, atStart: true },
  { what: 'an unknown group', flags: ['-u', '0:nosuch'], status: 125, message: /unable to find group nosuch: no matching entries in group file/, atStart: true },
  { what: 'a memory size that is not one', flags: ['-m', 'abc'], status: 125, message: /invalid argument "abc" for "-m, --memory" flag: invalid size: 'abc'/ },
  { what: 'a negative memory size', flags: ['--memory', '-5'], status: 125, message: /invalid argument "-5" for "-m, --memory" flag: invalid size: '-5'/ },
  { what: 'a memory limit below 6MB', flags: ['-m', '1k'], status: 125, message: /Minimum memory limit allowed is 6MB/ },
  { what: 'a swap limit below the memory limit', flags: ['-m', '10m', '--memory-swap', '8m'], status: 125, message: /Minimum memoryswap limit should be larger than memory limit, see usage/ },
  { what: 'a reservation above the limit', flags: ['-m', '100m', '--memory-reservation', '1g'], status: 125, message: /Minimum memory limit can not be less than memory reservation limit, see usage/ },
  { what: 'cpus that are not a number', flags: ['--cpus', 'abc'], status: 125, message: /invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number/ },
  { what: 'more cpus than the host has', flags: ['--cpus', '100000'], status: 125, message: /Range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available/ },
  { what: 'negative cpus', flags: ['--cpus', '-1'], status: 125, message: /Range of CPUs is from 0\.01 to \d+\.00/ },
  { what: 'cpus below the kernel\'s smallest quota', flags: ['--cpus', '0.001'], status: 125, message: /cpu\.quota: 100 µs is below the kernel's minimum of 1000 µs/, atStart: true },
  { what: 'a cpuset the host does not have', flags: ['--cpuset-cpus', '4095'], status: 125, message: /Requested CPUs are not available - requested 4095, available: / },
  { what: 'a cpuset that is not one', flags: ['--cpuset-cpus', 'abc'], status: 125, message: /Invalid value abc for cpuset cpus/ },
  { what: 'a pids limit that is not a number', flags: ['--pids-limit', 'abc'], status: 125, message: /invalid argument "abc" for "--pids-limit" flag: strconv\.ParseInt: parsing "abc": invalid syntax/ },
  { what: 'an oom score out of range', flags: ['--oom-score-adj', '2000'], status: 125, message: /Invalid value 2000, range for oom score adj is \[-1000, 1000\]/ },
  { what: 'a bind source that does not exist (--mount)', flags: ['--mount', `type=bind,src=/nonexistent-${unique},dst=/x`], status: 125, message: new RegExp(`invalid mount config for type "bind": bind source path does not exist: /nonexistent-${unique}`) },
  { what: 'a relative tmpfs path', flags: ['--tmpfs', 'relative'], status: 125, message: /invalid mount path: 'relative' mount path must be absolute/ },
  { what: 'a bad volume mode', flags: ['-v', 'vol:/x:badmode'], status: 125, message: /invalid mode: badmode/ },
  { what: 'a ulimit value that is not a number', flags: ['--ulimit', 'nofile=abc'], status: 125, message: /invalid argument "nofile=abc" for "--ulimit" flag: strconv\.ParseInt: parsing "abc": invalid syntax/ },
  { what: 'an unknown ulimit', flags: ['--ulimit', 'foo=1'], status: 125, message: /invalid argument "foo=1" for "--ulimit" flag: invalid ulimit type: foo/ },
  { what: 'a ulimit soft above hard', flags: ['--ulimit', 'nofile=10:5'], status: 125, message: /ulimit soft limit must be less than or equal to hard limit: 10 > 5/ },
  { what: 'a ulimit without a value', flags: ['--ulimit', 'nofile'], status: 125, message: /invalid argument "nofile" for "--ulimit" flag: invalid ulimit argument: nofile/ },
  // docker's CLI exits 127 here only because the message happens to say "no such file or directory"
  { what: 'a device that does not exist', flags: ['--device', `/dev/nosuch-${unique}`], status: 125, message: new RegExp(`error gathering device information while adding custom device "/dev/nosuch-${unique}": no such file or directory`), atStart: true },
  { what: 'a bad device mode', flags: ['--device', '/dev/null:/dev/x:rwmx'], status: 125, message: /bad mode specified: rwmx/ },
  { what: 'a relative device path in the container', flags: ['--device', '/dev/null:relative'], status: 125, message: /relative is not an absolute path/ },
  { what: 'a sysctl that is not namespaced', flags: ['--sysctl', 'kernel.foo=1'], status: 125, message: /invalid argument "kernel\.foo=1" for "--sysctl" flag: sysctl 'kernel\.foo=1' is not allowed/ },
  { what: 'a network sysctl in the host network', flags: ['--network', 'host', '--sysctl', 'net.ipv4.ip_forward=1'], status: 125, message: /sysctl "net\.ipv4\.ip_forward" not allowed in host network namespace/, atStart: true },
  { what: 'an unknown security option', flags: ['--security-opt', 'foo'], status: 125, message: /Invalid --security-opt: "foo"/ },
  { what: 'a seccomp option without a value', flags: ['--security-opt', 'seccomp'], status: 125, message: /Invalid --security-opt: "seccomp"/ },
  { what: 'a seccomp profile that does not exist', flags: ['--security-opt', 'seccomp=/nonexistent'], status: 125, message: /opening seccomp profile \(\/nonexistent\) failed: open \/nonexistent: no such file or directory/ },
  { what: 'an unknown restart policy', flags: ['--restart', 'sometimes'], status: 125, message: /invalid restart policy.*'sometimes'/ },
  { what: 'a retry count that is not a number', flags: ['--restart', 'on-failure:x'], status: 125, message: /invalid restart policy format: maximum retry count must be an integer/ },
  { what: 'a retry count with always', flags: ['--restart', 'always:3'], status: 125, message: /maximum retry count can only be used with 'on-failure'/ },
  { what: 'a restart policy with --rm', flags: ['--restart', 'always', '--rm'], status: 125, message: /conflicting options: cannot specify both --restart and --rm/ },
  { what: 'an unknown network', flags: ['--network', 'nosuchnet'], status: 125, message: /network nosuchnet not found/ },
  { what: 'the network of an unknown container', flags: ['--network', 'container:nosuch'], status: 125, message: /No such container: nosuch/, atStart: true },
  { what: 'a relative working directory', flags: ['-w', 'relative'], status: 125, message: /the working directory 'relative' is invalid, it needs to be an absolute path/ },
  { what: 'an unknown stop signal', flags: ['--stop-signal', 'FOO'], status: 125, message: /invalid signal: FOO/i },
  { what: 'an unknown capability', flags: ['--cap-add', 'NOPE'], status: 125, message: /invalid CapAdd: unknown capability: "CAP_NOPE"/ },
  { what: 'an unknown log driver', flags: ['--log-driver', 'nope'], status: 125, message: /no log driver named 'nope'/ },
  { what: 'a log size that is not one', flags: ['--log-opt', 'max-size=abc'], status: 125, message: /invalid size: 'abc'/ },
  { what: 'an environment variable without a name', flags: ['-e', '=x'], status: 125, message: /invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x/ },
  { what: 'a name docker does not allow', flags: ['--name', 'bad/name'], status: 125, message: /Invalid container name \(bad\/name\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_\.-\] are allowed/ },
];

function volumes(): string[] {
  return e.ok(['volume', 'ls', '-q']).split('\n').filter(Boolean).sort();
}

/** Runs a failing command and checks its status, its message, and that it changed nothing. */
function refused(args: string[], status: number, message: RegExp): void {
  const before = { ids: allIds(e), volumes: volumes() };
  const r = e.run(args);
  assert.equal(r.status, status, `hull ${args.join(' ')}: exit ${r.status}, stderr: ${r.stderr}`);
  assert.match(r.stderr, message);
  assert.equal(r.stdout, '', 'no container id is printed');
  assert.deepEqual(allIds(e), before.ids, 'ps -a is unchanged');
  assert.deepEqual(volumes(), before.volumes, 'no volume is left');
  assertConsistent(e, `after hull ${args.join(' ')}: `);
}

describe('run and create refuse bad input and leave nothing', () => {
  for (const c of CASES) {
    it(c.what, () => {
      const image = c.image ?? 'busybox';
      const command = c.command ?? ['true'];
      // a restart policy cannot go with --rm: those cases run without it
      const rm = c.flags.includes('--rm') || c.flags.includes('--restart') ? [] : ['--rm'];
      refused(['run', ...rm, ...c.flags, image, ...command], c.status, c.message);
      if (rm.length === 0) return;
      // without --rm: refused at create leaves nothing; refused at start leaves a created container with nothing made
      const name = `bad-${CASES.indexOf(c)}`;
      const namedFlags = c.flags.includes('--name') ? c.flags : ['--name', name, ...c.flags];
      if (!c.atStart) {
        refused(['run', ...namedFlags, image, ...command], c.status, c.message);
        refused(['create', ...namedFlags, image, ...command], 125, c.message);
        return;
      }
      const r = e.run(['run', ...namedFlags, image, ...command]);
      assert.equal(r.status, c.status, r.stderr);
      assert.match(r.stderr, c.message);
      const left = inspectOne(e, name);
      assert.equal(left.State.Status, 'created');
      assert.match(left.State.Error, c.message);
      assert.deepEqual(containerMounts(e, left.Id), []);
      assert.deepEqual(containerCgroups(left.Id), []);
      assertConsistent(e);
      // starting it again fails the same way, with docker start's status 1
      const again = e.run(['start', name]);
      assert.equal(again.status, 1, again.stderr);
      assert.match(again.stderr, c.message);
      assertConsistent(e);
      e.ok(['rm', name]);
      assert.deepEqual(allIds(e), []);
    });
  }

  it('create with an unknown image', () => {
    refused(['create', '--pull', 'never', 'no-such-image'], 125, /No such image: no-such-image/);
  });

  it('a seccomp profile that is not JSON, or names an unknown action', () => {
    const broken = join(scratch, 'broken.json');
    writeFileSync(broken, '{');
    refused(['run', '--rm', '--security-opt', `seccomp=${broken}`, 'busybox', 'true'], 125, /compacting json for seccomp profile .* failed: unexpected end of JSON input/);
    writeFileSync(broken, '{"defaultAction":"SCMP_ACT_NOPE"}');
    refused(['run', '--rm', '--security-opt', `seccomp=${broken}`, 'busybox', 'true'], 125, /SCMP_ACT_NOPE/);
  });
});

describe('names, binds and removal', () => {
  it('a duplicate name is refused, and the volumes the refused container would have made are not left', () => {
    const id = e.ok(['create', '--name', 'dup', 'busybox', 'true']);
    refused(['run', '--name', 'dup', '-v', 'dupvol:/x', '-v', '/y', 'busybox', 'true'], 125,
      new RegExp(`Conflict\\. The container name "/dup" is already in use by container "${id}"\\. You have to remove \\(or rename\\) that container to be able to reuse that name\\.`));
    refused(['create', '--name', '/dup', 'busybox', 'true'], 125, /The container name "\/dup" is already in use/);
    e.ok(['rm', 'dup']);
  });

  it('-v with a missing host directory creates it, as docker does', () => {
    const dir = join(scratch, 'made', 'by', 'bind');
    assert.ok(!existsSync(dir));
    assert.equal(e.ok(['run', '--rm', '-v', `${dir}:/x`, 'busybox', 'sh', '-c', 'echo hi > /x/f; cat /x/f']), 'hi');
    assert.ok(existsSync(join(dir, 'f')));
    assert.deepEqual(allIds(e), []);
  });

  it('rm of a running container without -f is refused and leaves it running', () => {
    const id = e.ok(['run', '-d', '--name', 'busy', 'busybox', 'sleep', '1000']);
    const r = e.run(['rm', 'busy']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'Error response from daemon: cannot remove container "/busy": container is running: stop the container before removing or force remove\n');
    assert.equal(inspectOne(e, id).State.Running, true);
    assertConsistent(e);
    // the others named with it are still removed, and the status says one failed
    const other = e.ok(['create', 'busybox', 'true']);
    const both = e.run(['rm', 'busy', other]);
    assert.equal(both.status, 1);
    assert.equal(both.stdout, `${other}\n`);
    assert.deepEqual(allIds(e), [id]);
    e.ok(['rm', '-f', 'busy']);
    assert.deepEqual(allIds(e), []);
  });

  it('verbs on a container that does not exist say so and exit 1, as docker\'s do', () => {
    const missing = 'Error response from daemon: No such container: nosuch\n';
    for (const verb of [['rm'], ['stop'], ['restart'], ['wait']]) {
      const r = e.run([...verb, 'nosuch']);
      assert.equal(r.status, 1, `${verb.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, missing);
    }
    const start = e.run(['start', 'nosuch', 'nosuch2']);
    assert.equal(start.status, 1);
    assert.equal(start.stderr, `${missing}Error response from daemon: No such container: nosuch2\nError: failed to start containers: nosuch, nosuch2\n`);
    const kill = e.run(['kill', 'nosuch']);
    assert.equal(kill.status, 1);
    assert.equal(kill.stderr, 'Error response from daemon: cannot kill container: nosuch: No such container: nosuch\n');
    // rm -f is quiet about a container that is not there
    const rmf = e.run(['rm', '-f', 'nosuch']);
    assert.equal(rmf.status, 0, rmf.stderr);
    assert.equal(rmf.stdout + rmf.stderr, '');
  });

  it('kill and stop of a container that is not running', () => {
    const id = e.ok(['create', '--name', 'idle', 'busybox', 'true']);
    const k = e.run(['kill', 'idle']);
    assert.equal(k.status, 1);
    assert.equal(k.stderr, `Error response from daemon: cannot kill container: idle: container ${id} is not running\n`);
    // docker's stop of a stopped container succeeds and prints the name
    assert.equal(e.ok(['stop', 'idle']), 'idle');
    assertConsistent(e);
    e.ok(['rm', 'idle']);
  });
});
