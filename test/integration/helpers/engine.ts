// A private hull engine for a test file: its own --root and --runroot, the busybox base image
// made once, the real CLI bundle, and a check that nothing the engine made outlives the test.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { REPO } from '../harness.ts';

export const HULL = join(REPO, 'dist/hull');

export interface Engine {
  root: string;
  runroot: string;
  /** Runs `hull` with this engine's roots. */
  run(args: string[], opts?: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number }): SpawnSyncReturns<string>;
  /** Like run, asserting exit 0; returns stdout trimmed. */
  ok(args: string[], opts?: { input?: string; env?: NodeJS.ProcessEnv }): string;
  spawn(args: string[], opts?: { env?: NodeJS.ProcessEnv }): ReturnType<typeof spawn>;
  /** Removes every container and asserts no mount, cgroup, process or file is left. */
  destroy(): void;
}

export function engine(opts: { baseImage?: boolean } = {}): Engine {
  const top = mkdtempSync('/var/tmp/hull-engine-');
  const root = join(top, 'root');
  const runroot = join(top, 'run');
  const globals = ['--root', root, '--runroot', runroot];
  const e: Engine = {
    root,
    runroot,
    run(args, o = {}) {
      return spawnSync(HULL, [...globals, ...args], {
        encoding: 'utf8',
        input: o.input ?? '',
        env: { ...process.env, ...o.env },
        timeout: o.timeout ?? 60_000,
      });
    },
    ok(args, o) {
      const r = e.run(args, o);
      assert.equal(r.status, 0, `hull ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
      return r.stdout.trim();
    },
    spawn(args, o = {}) {
      return spawn(HULL, [...globals, ...args], { env: { ...process.env, ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    },
    destroy() {
      const ids = existsSync(join(root, 'containers')) ? readdirSync(join(root, 'containers')) : [];
      if (ids.length) e.run(['rm', '-f', ...ids]);
      const bridges = engineBridges(e);
      // networks leave bridges and firewall rules on the host: reset removes them with everything else
      if (bridges.length) e.ok(['system', 'reset', '-f']);
      try {
        assertClean(e, ids);
        assertNetworkClean(e, bridges);
      } finally {
        rmSync(top, { recursive: true, force: true });
      }
    },
  };
  if (opts.baseImage !== false) e.ok(['image', 'base', 'busybox:latest']);
  return e;
}

/** Processes that name this engine's roots on their command line (shims, cleanup commands). */
export function engineProcesses(e: Engine): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    if (cmd.includes(e.root) || cmd.includes(e.runroot)) found.push(`${pid}: ${cmd}`);
  }
  return found;
}

export function assertClean(e: Engine, ids: string[]): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(e.root) || l.includes(e.runroot));
  assert.deepEqual(mounts, [], 'mounts leaked');
  for (const id of ids) {
    for (const ctrl of readdirSync('/sys/fs/cgroup')) {
      const d = join('/sys/fs/cgroup', ctrl, 'hull', id);
      assert.ok(!existsSync(d), `cgroup leaked: ${d}`);
    }
  }
  assert.deepEqual(engineProcesses(e), [], 'processes leaked');
  const left = existsSync(join(e.root, 'containers')) ? readdirSync(join(e.root, 'containers')) : [];
  assert.deepEqual(left, [], 'container directories leaked');
  const runtime = join(e.runroot, 'runtime');
  const state = existsSync(runtime) ? readdirSync(runtime).filter((n) => !n.startsWith('.')) : [];
  assert.deepEqual(state, [], 'runtime state leaked');
}

/** The bridge devices of this engine's networks, from its database. */
export function engineBridges(e: Engine): string[] {
  const file = join(e.root, 'images.db');
  if (!existsSync(file)) return [];
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const has = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'networks'").get();
    if (!has) return [];
    return (db.prepare('SELECT doc FROM networks').all() as { doc: string }[])
      .map((r) => JSON.parse(r.doc).Options?.['com.docker.network.bridge.name'] as string | undefined)
      .filter((n): n is string => !!n);
  } finally {
    db.close();
  }
}

/** The nftables table of this engine's root (see src/engine/networks/plumbing.ts firewall()). */
export function firewallTable(e: Engine): string {
  return `hull-${createHash('sha256').update(e.root).digest('hex').slice(0, 6)}`;
}

export function assertNetworkClean(e: Engine, bridges: string[]): void {
  const links = (JSON.parse(spawnSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' }).stdout || '[]') as { ifname: string; master?: string }[]);
  const left = links.filter((l) => bridges.includes(l.ifname) || (l.master && bridges.includes(l.master))).map((l) => l.ifname);
  assert.deepEqual(left, [], 'network links leaked');
  const netns = join(e.runroot, 'netns');
  assert.deepEqual(existsSync(netns) ? readdirSync(netns) : [], [], 'network namespaces leaked');
  const table = spawnSync('nft', ['list', 'table', 'inet', firewallTable(e)], { encoding: 'utf8' });
  assert.notEqual(table.status, 0, `firewall table ${firewallTable(e)} leaked:\n${table.stdout}`);
  const dns = join(e.runroot, 'dns');
  assert.deepEqual(existsSync(dns) ? readdirSync(dns).filter((n) => !n.startsWith('.')) : [], [], 'DNS records leaked');
}

/** The pid of a running process by its /proc/<pid>/exe basename and a cmdline fragment. */
export function findProcess(exe: string, fragment: string): number | undefined {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (!readlinkSync(`/proc/${pid}/exe`).endsWith(exe)) continue;
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(fragment)) return Number(pid);
    } catch {
      // gone
    }
  }
  return undefined;
}
