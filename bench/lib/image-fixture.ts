// The image benchmarks' fixture: a Debian minbase root filesystem (debootstrap from the apt
// mirror, cached under /var/tmp because it takes minutes), split into four gzip layers of an
// OCI image, pushed by skopeo to Debian's docker-registry on 127.0.0.1.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runChecked } from './command.ts';
import type { ScenarioContext } from './scenario.ts';

const CACHE = '/var/tmp/hull-bench-cache';

export interface ImageFixture {
  registry: string;
  image: string;
  /** Compressed and uncompressed bytes, and entries, of the image. */
  facts: string;
  stop(): void;
  /** stop(), awaited: the registry process is gone. */
  stopped(): Promise<void>;
}

function mirror(): string {
  for (const f of ['/etc/apt/sources.list', ...readdirSafe('/etc/apt/sources.list.d').map((n) => join('/etc/apt/sources.list.d', n))]) {
    const text = existsSync(f) ? readFileSync(f, 'utf8') : '';
    const m = /^URIs:\s*(\S+)/m.exec(text) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm/m.exec(text);
    if (m) return m[1]!;
  }
  return 'http://deb.debian.org/debian';
}

function readdirSafe(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

/** The minbase root, made once per machine. */
export function debianRootfs(ctx: ScenarioContext): string {
  const root = join(CACHE, 'rootfs');
  if (existsSync(join(root, 'etc/debian_version'))) return root;
  if (!existsSync('/usr/sbin/debootstrap')) runChecked('apt-get', ['install', '-y', '-qq', 'debootstrap'], { stdio: 'ignore' });
  ctx.log(`debootstrap --variant=minbase bookworm (cached in ${root}; takes a few minutes once)`);
  rmSync(root + '.tmp', { recursive: true, force: true });
  mkdirSync(CACHE, { recursive: true });
  runChecked('debootstrap', ['--variant=minbase', 'bookworm', root + '.tmp', mirror()], { stdio: 'ignore', timeout: 1_800_000 });
  renameSync(root + '.tmp', root);
  return root;
}

/** Four layers by directory, so a pull has independent layers to unpack at once. */
const LAYERS = [['usr/lib'], ['usr/share'], ['usr/bin', 'usr/sbin', 'usr/libexec', 'usr/include', 'usr/local', 'usr/games', 'usr/src', 'usr/lib64'], ['.']];

async function layout(ctx: ScenarioContext, rootfs: string): Promise<{ dir: string; facts: string }> {
  const dir = join(CACHE, 'layout');
  if (existsSync(join(dir, 'index.json'))) return { dir, facts: readFileSync(join(dir, 'facts'), 'utf8') };
  ctx.log('making the 4-layer OCI image from the rootfs');
  rmSync(dir + '.tmp', { recursive: true, force: true });
  mkdirSync(join(dir + '.tmp', 'blobs/sha256'), { recursive: true });
  const put = (b: Buffer) => {
    const d = createHash('sha256').update(b).digest('hex');
    writeFileSync(join(dir + '.tmp', 'blobs/sha256', d), b);
    return `sha256:${d}`;
  };
  const layers = [];
  const diffIds = [];
  let plain = 0;
  let packed = 0;
  let entries = 0;
  const taken = LAYERS.slice(0, -1).flat();
  for (const paths of LAYERS) {
    const args = paths[0] === '.' ? [...taken.map((p) => `--exclude=./${p}`), '.'] : paths.filter((p) => existsSync(join(rootfs, p))).map((p) => `./${p}`);
    const tar = spawnSync('tar', ['-C', rootfs, '--numeric-owner', '--xattrs', '-cf', '-', ...args], { maxBuffer: 1 << 30 });
    if (tar.status !== 0) throw new Error(`tar: ${tar.stderr}`);
    const gz = gzipSync(tar.stdout);
    entries += Number(spawnSync('sh', ['-c', 'tar -tf - | wc -l'], { input: tar.stdout, maxBuffer: 1 << 30 }).stdout.toString().trim());
    plain += tar.stdout.length;
    packed += gz.length;
    diffIds.push('sha256:' + createHash('sha256').update(tar.stdout).digest('hex'));
    layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: put(gz), size: gz.length });
  }
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['bash'] }, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: put(config), size: config.length }, layers }),
  );
  writeFileSync(join(dir + '.tmp', 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: put(manifest), size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }] }));
  writeFileSync(join(dir + '.tmp', 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const facts = `Debian bookworm minbase in 4 gzip layers: ${(packed / 1e6).toFixed(0)} MB compressed, ${(plain / 1e6).toFixed(0)} MB of tar, ${entries} entries.`;
  writeFileSync(join(dir + '.tmp', 'facts'), facts);
  renameSync(dir + '.tmp', dir);
  return { dir, facts };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1', () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface LocalRegistry {
  /** host:port */
  address: string;
  port: number;
  /** Kills it and waits until it is gone, so the port is free again. */
  stop(): Promise<void>;
}

/** Starts Debian's docker-registry on 127.0.0.1 (a free port, or `port`) with its blobs in `storage`. */
export async function startRegistry(workDir: string, storage: string, port?: number): Promise<LocalRegistry> {
  const p = port ?? (await freePort());
  mkdirSync(storage, { recursive: true });
  const cfg = join(workDir, `registry-${p}.yml`);
  writeFileSync(cfg, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\nhttp:\n  addr: 127.0.0.1:${p}\n`);
  const child: ChildProcess = spawn('/usr/bin/docker-registry', ['serve', cfg], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()).once('error', () => resolve()));
  for (let i = 0; i < 100 && !(await listening(p)); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!(await listening(p))) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`docker-registry did not listen on 127.0.0.1:${p}`);
  }
  return {
    address: `127.0.0.1:${p}`,
    port: p,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Starts a registry on 127.0.0.1 with the Debian image in it. */
export async function imageFixture(ctx: ScenarioContext): Promise<ImageFixture> {
  if (!existsSync('/usr/bin/docker-registry') || !existsSync('/usr/bin/skopeo')) {
    runChecked('apt-get', ['install', '-y', '-qq', 'docker-registry', 'skopeo'], { stdio: 'ignore' });
  }
  const rootfs = debianRootfs(ctx);
  const { dir, facts } = await layout(ctx, rootfs);
  const storage = join(ctx.workDir, 'registry');
  const reg = await startRegistry(ctx.workDir, storage);
  const registry = reg.address;
  const image = `${registry}/bench/debian:minbase`;
  runChecked('skopeo', ['copy', '--dest-tls-verify=false', '--preserve-digests', `oci:${dir}:latest`, `docker://${image}`], { stdio: 'ignore' });
  return {
    registry,
    image,
    facts: facts + ` Registry storage ${(dirSize(storage) / 1e6).toFixed(0)} MB.`,
    stop() {
      void reg.stop();
    },
    stopped: () => reg.stop(),
  };
}

function dirSize(d: string): number {
  let n = 0;
  for (const e of readdirSync(d, { withFileTypes: true, recursive: true })) if (e.isFile()) n += statSync(join(e.parentPath, e.name)).size;
  return n;
}

/**
 * Runs a command under GNU time; returns wall ms, the CPU time (user + system, ms) and the peak
 * RSS (KiB) of it and its waited-for children.
 */
export function timed(file: string, args: string[], env?: NodeJS.ProcessEnv): { ms: number; cpuMs: number; maxRssKiB: number } {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', file, ...args], { encoding: 'utf8', env: env ?? process.env, maxBuffer: 1 << 26 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')}: exit ${r.status}: ${r.stderr.slice(-2000)}`);
  const [user, sys, rss] = (r.stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  return { ms, cpuMs: ((user ?? 0) + (sys ?? 0)) * 1000, maxRssKiB: rss ?? 0 };
}

export interface Dockerd {
  host: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts dockerd 20.10 with its own data and exec roots under `dir` (overlay2, no bridge, no
 * iptables), trusting the given registries over HTTP. A string says why it could not.
 */
export async function startDockerd(dir: string, insecure: string[], log: (m: string) => void, networking?: { bip: string }): Promise<Dockerd | string> {
  if (!existsSync('/usr/sbin/dockerd') || !existsSync('/usr/bin/docker') && !existsSync('/usr/local/bin/docker')) return 'docker.io is not installed (apt-get install docker.io)';
  mkdirSync(dir, { recursive: true });
  const sock = join(dir, 'docker.sock');
  // Its log goes to a file, not a pipe: a scenario that blocks in spawnSync (while dockerd logs,
  // e.g. one error per container an `rm -f` of hundreds kills) would never drain a pipe, and
  // dockerd would then block on its full log pipe, holding its logger's lock.
  const logFile = join(dir, 'dockerd.log');
  const logFd = openSync(logFile, 'a');
  log('starting dockerd');
  const child = spawn(
    '/usr/sbin/dockerd',
    [
      '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '-H', `unix://${sock}`, '--pidfile', join(dir, 'pid'),
      ...insecure.flatMap((r) => ['--insecure-registry', r]),
      // with networking: docker0 on the given subnet, its NAT and its userland proxy, as docker ships
      ...(networking ? ['--bip', networking.bip] : ['--bridge=none', '--iptables=false', '--ip6tables=false']), '--storage-driver=overlay2',
    ],
    // detached: a session of its own, so that a Ctrl-C meant for the bench does not take dockerd
    // down before teardown has removed its containers through it (stop() signals it directly).
    { stdio: ['ignore', logFd, logFd], detached: true },
  );
  closeSync(logFd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()).once('error', () => resolve()));
  const hadDocker0 = spawnSync('ip', ['link', 'show', 'docker0'], { stdio: 'ignore' }).status === 0;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    // dockerd leaves the bridge it made
    if (networking && !hadDocker0) spawnSync('ip', ['link', 'del', 'docker0'], { stdio: 'ignore' });
    // dockerd leaves its overlay and shm mounts under its roots when it stops
    spawnSync('sh', ['-c', `grep ' ${dir}/' /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r umount -l`]);
  };
  for (let i = 0; i < 150; i++) {
    if (spawnSync('docker', ['-H', `unix://${sock}`, 'version'], { stdio: 'ignore' }).status === 0) return { host: `unix://${sock}`, pid: child.pid!, stop };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  return `dockerd did not start: ${readFileSync(logFile, 'utf8').slice(-500)}`;
}

/** The peak resident memory (KiB) of a process since its counter was last reset (resetPeak). */
export function peakOf(pid: number): number {
  const m = /^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

/** Resets a process's VmHWM to its current RSS, so peakOf measures from now on. */
export function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}
