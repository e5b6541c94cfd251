// An isolated Podman for test/integration/podman.test.ts: its own storage, run root, tmp dir,
// network config dir and containers.conf, all under one temporary directory, with
// dist/hull-runtime as the OCI runtime and a busybox image imported from a local tarball
// (there is no registry to pull from).
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, RUNTIME } from '../harness.ts';

/** hull-runtime's default state root: Podman passes no --root to the runtime's delete. */
export const HULL_DEFAULT_ROOT = '/run/hull-runtime';

export const IMAGE = 'localhost/hull-busybox:latest';

export interface Podman {
  dir: string;
  /** Runs podman with the isolated configuration and hull-runtime. */
  run(args: string[], opts?: { input?: string; timeout?: number }): SpawnSyncReturns<string>;
  /** Like run, asserting exit status 0; returns stdout. */
  ok(args: string[], opts?: { input?: string; timeout?: number }): string;
  /** The argv prefix of run, for commands that wrap podman (script). */
  argv(): string[];
  env: NodeJS.ProcessEnv;
  /** A fresh --cidfile path; the id read from it is remembered for the leak checks. */
  cidfile(): string;
  idFrom(cidfile: string): string;
  /** Every container id this Podman has seen. */
  ids: Set<string>;
  /** Removes every container and image, waits for Podman's cleanup processes, checks for leaks. */
  cleanup(): void;
}

function sh(cmd: string, args: string[], opts: Parameters<typeof spawnSync>[2] = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, ...opts }) as SpawnSyncReturns<string>;
}

export function startPodman(): Podman {
  const dir = mkdtempSync(join(tmpdir(), 'hull-podman-'));
  const conf = join(dir, 'containers.conf');
  // Podman's default ulimits ask for more than this host's hard limits (MACHINE.md); there is
  // no systemd, so cgroupfs and a file event log; every path lies under dir.
  writeFileSync(
    conf,
    [
      '[containers]',
      'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
      '',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `tmp_dir = "${dir}/tmp"`,
      `volume_path = "${dir}/volumes"`,
      '',
      '[network]',
      `network_config_dir = "${dir}/networks"`,
      '',
    ].join('\n'),
  );
  const storageConf = join(dir, 'storage.conf');
  writeFileSync(storageConf, ['[storage]', 'driver = "overlay"', `graphroot = "${dir}/storage"`, `runroot = "${dir}/run"`, ''].join('\n'));
  const env: NodeJS.ProcessEnv = { ...process.env, CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storageConf };
  delete env.HULL_INIT;
  const prefix = ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--storage-driver', 'overlay', '--runtime', RUNTIME];
  let cids = 0;
  const p: Podman = {
    dir,
    env,
    ids: new Set(),
    argv: () => ['podman', ...prefix],
    run(args, o = {}) {
      return sh('podman', [...prefix, ...args], { env, input: o.input ?? '', timeout: o.timeout ?? 60_000 });
    },
    ok(args, o) {
      const r = p.run(args, o);
      assert.equal(r.status, 0, `podman ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
      return r.stdout;
    },
    cidfile() {
      return join(dir, `cid-${++cids}`);
    },
    idFrom(cidfile) {
      const id = readFileSync(cidfile, 'utf8').trim();
      assert.match(id, /^[0-9a-f]{64}$/);
      p.ids.add(id);
      return id;
    },
    cleanup() {
      const all = p.run(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean);
      for (const id of all) p.ids.add(id);
      p.run(['rm', '-af', '-t', '0']);
      p.run(['rmi', '-af']);
      waitQuiet(dir, p.ids);
      const leftovers = unmountUnder(dir);
      rmSync(dir, { recursive: true, force: true });
      assert.deepEqual(leftovers, [], `podman left mounts under ${dir}`);
      assertNoContainerLeaks(p.ids);
    },
  };

  // The image: a busybox rootfs, tarred and imported.
  const bb = join(dir, 'bb');
  let r = sh(join(REPO, 'scripts/make-busybox-bundle.sh'), [bb, RUNTIME]);
  assert.equal(r.status, 0, `make-busybox-bundle: ${r.stderr}`);
  r = sh('tar', ['-C', join(bb, 'rootfs'), '-cf', join(dir, 'bb.tar'), '.']);
  assert.equal(r.status, 0, r.stderr);
  p.ok(['import', '-q', join(dir, 'bb.tar'), IMAGE]);
  rmSync(bb, { recursive: true, force: true });
  rmSync(join(dir, 'bb.tar'));
  return p;
}

/** Processes that mention dir or one of ids in their command line (conmon, podman cleanup). */
export function processesMentioning(dir: string, ids: Iterable<string>): string[] {
  const needles = [dir, ...ids];
  const found: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    let cwd = '';
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      // gone, or a kernel thread
    }
    if (needles.some((n) => cmd.includes(n)) || cwd.startsWith(dir)) found.push(`${pid}: ${cmd.trim()}`);
  }
  return found;
}

/** Waits (up to 20 s) for conmon and Podman's exit-command cleanup processes to finish. */
function waitQuiet(dir: string, ids: Set<string>): void {
  const deadline = Date.now() + 20_000;
  let left = processesMentioning(dir, ids);
  while (left.length > 0 && Date.now() < deadline) {
    spawnSync('sleep', ['0.1']);
    left = processesMentioning(dir, ids);
  }
  assert.deepEqual(left, [], 'podman processes still running');
}

/** Mount points under dir, deepest first, unmounted (lazily); returns what was found. */
function unmountUnder(dir: string): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(dir + '/')))
    .sort((a, b) => b.length - a.length);
  for (const m of points) spawnSync('umount', ['-l', m]);
  return points;
}

/** No hull-runtime state, cgroup or process of the given containers is left. */
export function assertNoContainerLeaks(ids: Iterable<string>): void {
  for (const id of ids) {
    assert.ok(!existsSync(join(HULL_DEFAULT_ROOT, id)), `hull-runtime state of ${id} left behind`);
    for (const ctrl of readdirSync('/sys/fs/cgroup')) {
      const d = join('/sys/fs/cgroup', ctrl, 'libpod_parent', `libpod-${id}`);
      assert.ok(!existsSync(d), `cgroup leaked: ${d}`);
    }
  }
}
