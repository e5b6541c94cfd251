// Verbs that look at or change a living container, through the real `hull` CLI: top, stats,
// pause/unpause, update (the row and the live cgroups), rename and container prune, each with
// docker's output, messages and exit codes; the engine's destroy() checks nothing is left.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from './harness.ts';
import { engine, type Engine } from './helpers/engine.ts';

let e: Engine;
before(() => {
  e = engine();
});
after(() => e.destroy());

function inspect(ref: string): Record<string, any> {
  return JSON.parse(e.ok(['inspect', ref]))[0];
}

function idOf(ref: string): string {
  return inspect(ref).Id;
}

/** The container's cgroup directories, as the runtime recorded them. */
function cgroupDirs(id: string): string[] {
  return JSON.parse(readFileSync(join(e.runroot, 'runtime', id, 'state.json'), 'utf8')).cgroupDirs;
}

/** A cgroup interface file of the container: the v1 controller's file, or the v2 one. */
function cgroupValue(id: string, v1: [string, string], v2: string): string {
  const dirs = cgroupDirs(id);
  const ctrl = dirs.find((d) => d.split('/').includes(v1[0]) && existsSync(join(d, v1[1])));
  if (ctrl) return readFileSync(join(ctrl, v1[1]), 'utf8').trim();
  const unified = dirs.find((d) => existsSync(join(d, v2)));
  assert.ok(unified, `no cgroup file ${v1.join('/')} or ${v2} for ${id}`);
  return readFileSync(join(unified, v2), 'utf8').trim();
}

const memoryLimit = (id: string) => cgroupValue(id, ['memory', 'memory.limit_in_bytes'], 'memory.max');
const pidsMax = (id: string) => cgroupValue(id, ['pids', 'pids.max'], 'pids.max');
const cpuShares = (id: string) => cgroupValue(id, ['cpu', 'cpu.shares'], 'cpu.weight');
const freezerState = (id: string) => cgroupValue(id, ['freezer', 'freezer.state'], 'cgroup.freeze');

function run(name: string, ...args: string[]): string {
  return e.ok(['run', '-d', '--name', name, ...args]);
}

describe('top', () => {
  before(() => {
    run('top1', 'busybox', 'sh', '-c', 'sleep 1000 & exec sleep 1001');
  });
  after(() => e.ok(['rm', '-f', 'top1']));

  it("shows ps -ef's table for the container's processes only, in docker's 20-wide columns", async () => {
    await waitFor(() => e.ok(['top', 'top1']).includes('sleep 1000'), 'the background sleep');
    const out = e.ok(['top', 'top1']).split('\n');
    assert.match(out[0]!, /^UID {17}PID {17}PPID {16}C {19}STIME {15}TTY {17}TIME {16}CMD$/);
    const rows = out.slice(1);
    assert.equal(rows.length, 2, out.join('\n'));
    const pid = String(inspect('top1').State.Pid);
    const init = rows.find((r) => r.includes('sleep 1001'));
    assert.ok(init, out.join('\n'));
    assert.equal(init.split(/\s+/)[1], pid);
    // every pid shown is in the container's cgroup, and no host process slipped in
    const pids = new Set(readFileSync(join(cgroupDirs(idOf('top1')).find((d) => d.includes('/pids/') || d.includes('/unified/'))!, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean));
    for (const r of rows) assert.ok(pids.has(r.split(/\s+/)[1]!), r);
  });

  it('passes ps options through, flags included', () => {
    const out = e.ok(['top', 'top1', '-o', 'pid,comm']).split('\n');
    assert.match(out[0]!, /^PID {17}COMMAND$/);
    assert.deepEqual(out.slice(1).map((l) => l.split(/\s+/)[1]).sort(), ['sleep', 'sleep']);
    const aux = e.ok(['top', 'top1', 'aux']).split('\n');
    assert.match(aux[0]!, /^USER\s+PID\s+%CPU\s+%MEM\s+VSZ\s+RSS\s+TTY\s+STAT\s+START\s+TIME\s+COMMAND$/);
    assert.equal(aux.length, 3);
  });

  it("refuses what docker refuses, with the daemon's messages and exit 1", () => {
    e.ok(['create', '--name', 'top-created', 'busybox', 'true']);
    const id = idOf('top-created');
    let r = e.run(['top', 'top-created']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `Error response from daemon: Container ${id} is not running\n`);
    r = e.run(['top', 'nosuch']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'Error response from daemon: No such container: nosuch\n');
    r = e.run(['top', 'top1', '--no-such-ps-option']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^Error response from daemon: ps: error: unknown gnu long option\n$/);
    r = e.run(['top', 'top1', '-o', 'user=PID']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'Error response from daemon: specifying "user=PID" is not allowed\n');
    e.ok(['rm', 'top-created']);
  });
});

describe('pause and unpause', () => {
  it('freezes and thaws the processes, and ps and inspect say so', () => {
    run('pz', 'busybox', 'sleep', '1000');
    const id = idOf('pz');
    assert.equal(e.ok(['pause', 'pz']), 'pz');
    assert.match(freezerState(id), /^(FROZEN|1)$/);
    const c = inspect('pz');
    assert.equal(c.State.Status, 'paused');
    assert.equal(c.State.Paused, true);
    assert.equal(c.State.Running, true);
    assert.match(e.ok(['ps', '--filter', 'name=pz']), /Up .* \(Paused\)/);
    assert.equal(e.ok(['ps', '-q', '--filter', 'status=paused']), id.slice(0, 12));
    assert.equal(e.ok(['container', 'unpause', 'pz']), 'pz');
    assert.match(freezerState(id), /^(THAWED|0)$/);
    assert.equal(inspect('pz').State.Status, 'running');
    assert.equal(inspect('pz').State.Paused, false);
  });

  it("gives docker's errors for a paused, an unpaused, a created and an unknown container", () => {
    const id = idOf('pz');
    e.ok(['pause', 'pz']);
    let r = e.run(['pause', 'pz']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `Error response from daemon: Container ${id} is already paused\n`);
    e.ok(['unpause', 'pz']);
    r = e.run(['unpause', 'pz']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `Error response from daemon: Container ${id} is not paused\n`);
    e.ok(['create', '--name', 'pz-created', 'busybox', 'true']);
    const cid = idOf('pz-created');
    r = e.run(['pause', 'pz-created']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `Error response from daemon: Container ${cid} is not running\n`);
    r = e.run(['unpause', 'pz-created']);
    assert.equal(r.stderr, `Error response from daemon: Container ${cid} is not paused\n`);
    // several at once: each success named, each failure said, exit 1 at the end
    r = e.run(['pause', 'nosuch', 'pz']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, 'pz\n');
    assert.equal(r.stderr, 'Error response from daemon: No such container: nosuch\n');
    assert.equal(inspect('pz').State.Paused, true);
    e.ok(['rm', 'pz-created']);
  });

  it('a paused container can be stopped, started again and removed', () => {
    assert.equal(inspect('pz').State.Paused, true);
    e.ok(['stop', '-t', '0', 'pz']);
    const c = inspect('pz');
    assert.equal(c.State.Status, 'exited');
    assert.equal(c.State.Paused, false);
    e.ok(['start', 'pz']);
    e.ok(['pause', 'pz']);
    e.ok(['rm', '-f', 'pz']);
  });
});

describe('update', () => {
  it("changes a running container's cgroups and its HostConfig", () => {
    run('up1', 'busybox', 'sleep', '1000');
    const id = idOf('up1');
    const r = e.run(['update', '--memory', '64m', '--memory-swap', '128m', '--cpus', '0.5', '--pids-limit', '20', '--cpu-shares', '512',
      '--memory-reservation', '16m', '--cpuset-cpus', '0', '--restart', 'on-failure:2', 'up1']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'up1\n');
    assert.equal(memoryLimit(id), String(64 * 2 ** 20));
    assert.equal(pidsMax(id), '20');
    const hc = inspect('up1').HostConfig;
    assert.equal(hc.Memory, 64 * 2 ** 20);
    assert.equal(hc.MemorySwap, 128 * 2 ** 20);
    assert.equal(hc.MemoryReservation, 16 * 2 ** 20);
    assert.equal(hc.NanoCpus, 5e8);
    assert.equal(hc.CpuShares, 512);
    assert.equal(hc.CpusetCpus, '0');
    assert.equal(hc.PidsLimit, 20);
    assert.deepEqual(hc.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
    // the next start builds its cgroups from the recorded values
    e.ok(['stop', '-t', '0', 'up1']);
    e.ok(['start', 'up1']);
    assert.equal(memoryLimit(id), String(64 * 2 ** 20));
    assert.equal(pidsMax(id), '20');
    // -1 lifts the pids limit
    e.ok(['update', '--pids-limit', '-1', 'up1']);
    assert.equal(pidsMax(id), 'max');
    assert.equal(inspect('up1').HostConfig.PidsLimit, 0);
  });

  it('records the limits of a stopped container for its next start', () => {
    e.ok(['create', '--name', 'up2', 'busybox', 'sleep', '1000']);
    assert.equal(e.ok(['update', '--memory', '32m', '--memory-swap', '64m', 'up2']), 'up2');
    assert.equal(inspect('up2').HostConfig.Memory, 32 * 2 ** 20);
    e.ok(['start', 'up2']);
    assert.equal(memoryLimit(idOf('up2')), String(32 * 2 ** 20));
    e.ok(['rm', '-f', 'up2']);
  });

  it("refuses bad values with docker's messages and changes nothing", () => {
    const id = idOf('up1');
    const before = inspect('up1').HostConfig;
    const cases: [string[], number, string | RegExp][] = [
      [['--memory', '256m'], 1, `Error response from daemon: Cannot update container ${id}: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time\n`],
      [['--memory', '2m'], 1, 'Error response from daemon: Minimum memory limit allowed is 6MB\n'],
      [['--memory', '100m', '--memory-swap', '50m'], 1, 'Error response from daemon: Minimum memoryswap limit should be larger than memory limit, see usage\n'],
      [['--cpus', '1000'], 1, /^Error response from daemon: Range of CPUs is from 0.01 to \d+\.00, as there are only \d+ CPUs available\n$/],
      [['--cpu-quota', '20000'], 1, `Error response from daemon: Cannot update container ${id}: Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set\n`],
      [['--cpu-period', '10'], 1, 'Error response from daemon: CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)\n'],
      [['--cpuset-cpus', '4096'], 1, /^Error response from daemon: Requested CPUs are not available - requested 4096, available: /],
      [['--cpuset-cpus', 'x'], 1, 'Error response from daemon: Invalid value x for cpuset cpus: invalid format: x\n'],
      [['--restart', 'bogus'], 1, "Error response from daemon: invalid restart policy: unknown policy 'bogus'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'\n"],
      [['--restart', 'always:3'], 1, "Error response from daemon: invalid restart policy: maximum retry count can only be used with 'on-failure'\n"],
      [['--memory', 'abc'], 125, `Error: invalid argument "abc" for "-m, --memory" flag: invalid size: 'abc'\n`],
      [['--cpus', 'abc'], 125, 'Error: invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number\n'],
      [['--pids-limit', 'x'], 125, 'Error: invalid argument "x" for "--pids-limit" flag: strconv.ParseInt: parsing "x": invalid syntax\n'],
      [[], 1, 'you must provide one or more flags when using this command\n'],
    ];
    for (const [flags, status, stderr] of cases) {
      const r = e.run(['update', ...flags, 'up1']);
      assert.equal(r.status, status, `${flags.join(' ')}: ${r.stderr}`);
      if (typeof stderr === 'string') assert.equal(r.stderr, stderr, flags.join(' '));
      else assert.match(r.stderr, stderr, flags.join(' '));
      assert.equal(r.stdout, '');
    }
    assert.deepEqual(inspect('up1').HostConfig, before);
    assert.equal(memoryLimit(id), String(64 * 2 ** 20));
  });

  it('puts the cgroups and the record back when the kernel refuses a value', () => {
    const id = idOf('up1');
    const shares = cpuShares(id);
    const r = e.run(['update', '--cpu-shares', '1', 'up1']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`^Error response from daemon: Cannot update container ${id}: .*cpu\\.(shares|weight)`));
    assert.equal(cpuShares(id), shares);
    assert.equal(inspect('up1').HostConfig.CpuShares, 512);
  });

  it('updates each container named, reports the ones it cannot, and exits 1', () => {
    e.ok(['run', '-d', '--rm', '--name', 'up-rm', 'busybox', 'sleep', '1000']);
    const id = idOf('up-rm');
    const r = e.run(['update', '--restart', 'always', 'up1', 'nosuch', 'up-rm']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, 'up1\n');
    assert.equal(r.stderr, 'Error response from daemon: No such container: nosuch\n'
      + `Error response from daemon: Cannot update container ${id}: Restart policy cannot be updated because AutoRemove is enabled for the container\n`);
    assert.deepEqual(inspect('up1').HostConfig.RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
    e.ok(['rm', '-f', 'up-rm', 'up1']);
  });
});

describe('rename', () => {
  it('renames a running container; its hostname stays', () => {
    run('rn1', 'busybox', 'sleep', '1000');
    const before = inspect('rn1');
    assert.equal(e.ok(['rename', 'rn1', 'rn2']), '');
    const after = inspect('rn2');
    assert.equal(after.Id, before.Id);
    assert.equal(after.Name, '/rn2');
    assert.equal(after.Config.Hostname, before.Config.Hostname);
    assert.match(e.ok(['ps', '--format', '{{.Names}}']), /^rn2$/m);
    assert.equal(e.run(['inspect', 'rn1']).status, 1);
    // a leading "/" is docker's own spelling of a name
    e.ok(['container', 'rename', 'rn2', '/rn3']);
    assert.equal(inspect('rn3').Name, '/rn3');
  });

  it("refuses with docker's two lines of error", () => {
    e.ok(['create', '--name', 'rn-other', 'busybox', 'true']);
    const other = idOf('rn-other');
    const cases: [string[], string][] = [
      [['rn3', 'rn3'], 'Error response from daemon: Renaming a container with the same name as its current name\nError: failed to rename container named rn3\n'],
      [['rn3', 'rn-other'], `Error response from daemon: Error when allocating new name: Conflict. The container name "/rn-other" is already in use by container "${other}". You have to remove (or rename) that container to be able to reuse that name.\nError: failed to rename container named rn3\n`],
      [['nosuch', 'x1'], 'Error response from daemon: No such container: nosuch\nError: failed to rename container named nosuch\n'],
      [['rn3', 'bad name'], 'Error response from daemon: Error when allocating new name: Invalid container name (/bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed\nError: failed to rename container named rn3\n'],
      [['rn3', ' '], 'Error: Neither old nor new names may be empty\n'],
    ];
    for (const [args, stderr] of cases) {
      const r = e.run(['rename', ...args]);
      assert.equal(r.status, 1, args.join(' '));
      assert.equal(r.stderr, stderr);
    }
    assert.equal(inspect('rn3').Name, '/rn3');
    e.ok(['rm', '-f', 'rn3', 'rn-other']);
  });
});

describe('stats', () => {
  before(() => {
    run('st1', '--memory', '64m', 'busybox', 'sleep', '1000');
    run('st-busy', 'busybox', 'sh', '-c', 'while :; do :; done');
    e.ok(['create', '--name', 'st-created', 'busybox', 'true']);
  });
  after(() => e.ok(['rm', '-f', 'st1', 'st-busy', 'st-created']));

  const rowOf = (out: string, name: string) => out.split('\n').find((l) => l.split(/\s{2,}/)[1] === name);

  it("prints docker's table once with --no-stream: running containers, their limit, pids and network I/O", () => {
    const out = e.ok(['stats', '--no-stream']);
    const lines = out.split('\n');
    assert.match(lines[0]!, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
    assert.equal(lines.length, 3, out);
    assert.equal(rowOf(out, 'st-created'), undefined);
    const cells = rowOf(out, 'st1')!.split(/\s{2,}/);
    assert.equal(cells[0], idOf('st1').slice(0, 12));
    assert.match(cells[2]!, /^\d+\.\d\d%$/);
    assert.match(cells[3]!, /^[\d.]+(B|KiB|MiB) \/ 64MiB$/);
    assert.match(cells[4]!, /^\d+\.\d\d%$/);
    // the default bridge carries the kernel's own IPv6 neighbour discovery at least
    assert.match(cells[5]!, /^[\d.]+k?B \/ [\d.]+k?B$/);
    assert.match(cells[6]!, /^[\d.]+k?B \/ [\d.]+k?B$/);
    assert.equal(cells[7], '1');
  });

  it('measures CPU time between two samples', () => {
    const busy = rowOf(e.ok(['stats', '--no-stream', 'st-busy']), 'st-busy')!.split(/\s{2,}/);
    assert.ok(Number.parseFloat(busy[2]!) > 0, busy.join(' | '));
  });

  it('-a adds stopped containers with zero figures; --no-trunc shows full ids; --format as docker', () => {
    const out = e.ok(['stats', '--no-stream', '-a']);
    assert.deepEqual(rowOf(out, 'st-created')!.split(/\s{2,}/).slice(1), ['st-created', '0.00%', '0B / 0B', '0.00%', '0B / 0B', '0B / 0B', '0']);
    const full = e.ok(['stats', '--no-stream', '--no-trunc', 'st1']);
    assert.ok(full.split('\n')[1]!.startsWith(idOf('st1')));
    const json = JSON.parse(e.ok(['stats', '--no-stream', '--format', '{{json .}}', 'st1']));
    assert.deepEqual(Object.keys(json), ['BlockIO', 'CPUPerc', 'Container', 'ID', 'MemPerc', 'MemUsage', 'Name', 'NetIO', 'PIDs']);
    assert.equal(json.Container, 'st1');
    assert.equal(json.Name, 'st1');
    assert.equal(json.PIDs, '1');
    const table = e.ok(['stats', '--no-stream', '--format', 'table {{.Name}}\t{{.PIDs}}', 'st-created']);
    assert.equal(table, 'NAME         PIDS\nst-created   0');
  });

  it('fails for an unknown container before printing anything', () => {
    const r = e.run(['stats', '--no-stream', 'st1', 'nosuch']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'Error response from daemon: No such container: nosuch\n');
  });

  it('streams a table redrawn in place until SIGINT', async () => {
    const child = e.spawn(['stats', 'st1']);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor(() => out.split('\x1b[J').length >= 3, 'two frames', 20_000);
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    const frames = out.split('\x1b[J').filter(Boolean);
    for (const f of frames) {
      assert.ok(f.startsWith('\x1b[H'), JSON.stringify(f));
      const lines = f.slice(3).split('\n').filter(Boolean);
      assert.equal(lines.length, 2);
      assert.ok(lines.every((l) => l.endsWith('\x1b[K')));
      assert.match(lines[1]!, /st1/);
    }
  });
});

describe('container prune', () => {
  it('asks first and keeps everything on no (or on the end of input)', () => {
    e.ok(['create', '--name', 'pr1', 'busybox', 'true']);
    for (const input of ['n\n', '']) {
      const r = e.run(['container', 'prune'], { input });
      assert.equal(r.status, 0);
      assert.equal(r.stdout, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ');
      assert.equal(inspect('pr1').Name, '/pr1');
    }
  });

  it('removes the stopped containers the filters select, and keeps running ones', () => {
    e.ok(['run', '--name', 'pr2', '--label', 'keep=no', 'busybox', 'sh', '-c', 'head -c 100000 /dev/zero > /big']);
    run('pr-running', 'busybox', 'sleep', '1000');
    const pr1 = idOf('pr1');
    const pr2 = idOf('pr2');
    // until=1h keeps everything made in the last hour; a label filter narrows to pr2
    assert.equal(e.ok(['container', 'prune', '-f', '--filter', 'until=1h']), 'Total reclaimed space: 0B');
    const r = e.run(['container', 'prune', '--filter', 'label=keep=no'], { input: 'y\n' });
    assert.equal(r.status, 0, r.stderr);
    const m = /^WARNING! This will remove all stopped containers\.\nAre you sure you want to continue\? \[y\/N\] Deleted Containers:\n([0-9a-f]{64})\n\nTotal reclaimed space: ([\d.]+kB)\n$/.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.equal(m[1], pr2);
    assert.ok(Number.parseFloat(m[2]!) >= 100, m[2]);
    assert.equal(e.run(['inspect', 'pr2']).status, 1);
    const all = e.ok(['container', 'prune', '-f']);
    assert.equal(all, `Deleted Containers:\n${pr1}\n\nTotal reclaimed space: 0B`);
    assert.equal(inspect('pr-running').State.Running, true);
    assert.equal(e.ok(['container', 'prune', '-f']), 'Total reclaimed space: 0B');
    e.ok(['rm', '-f', 'pr-running']);
  });

  it('refuses a bad filter before asking, and removes nothing', () => {
    e.ok(['create', '--name', 'pr3', 'busybox', 'true']);
    let r = e.run(['container', 'prune', '-f', '--filter', 'bogus=1']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "Error response from daemon: invalid filter 'bogus'\n");
    r = e.run(['container', 'prune', '--filter', 'until=xyz'], { input: 'y\n' });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'Error response from daemon: failed to parse value as time or duration: "xyz"\n');
    r = e.run(['container', 'prune', '-f', '--filter', 'nonsense']);
    assert.equal(r.status, 125);
    assert.equal(inspect('pr3').Name, '/pr3');
    e.ok(['rm', 'pr3']);
  });
});
