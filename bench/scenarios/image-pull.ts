// A cold pull of a ~200 MB, 4-layer Debian image from a registry on 127.0.0.1, into an empty
// store each time: hull, podman, docker (dockerd 20.10) and skopeo (to an OCI directory, no unpacking).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findOnPath, versionOf } from '../lib/command.ts';
import { median } from '../lib/measure.ts';
import { imageFixture, timed, type ImageFixture } from '../lib/image-fixture.ts';
import type { Prepared, Scenario, Skipped, Subject } from '../lib/scenario.ts';

let fixture: ImageFixture | undefined;
let dockerd: ChildProcess | undefined;
const peaks = new Map<string, number[]>();
const notes: string[] = [];

function record(name: string, kib: number): void {
  peaks.set(name, [...(peaks.get(name) ?? []), kib]);
}

function dropCaches(): void {
  // "cold": the registry's blobs stay cached for everyone alike, but no subject finds its own writes cached
  spawnSync('sync');
}

const scenario: Scenario = {
  name: 'image-pull',
  description:
    'A cold `pull` of a Debian bookworm minbase image (4 gzip layers, ~200 MB of tar) from Debian\'s docker-registry on 127.0.0.1, ' +
    'into an empty store each run: hull, podman, docker (dockerd started by the bench) and skopeo copying to an OCI directory ' +
    '(download only, no unpacking). The peak memory of each (GNU time maxrss; dockerd: its VmHWM) is in the notes.',
  baseline: 'podman',
  runs: 5,
  quickRuns: 2,
  warmup: 1,

  async setup(ctx): Promise<Prepared> {
    if (process.getuid?.() !== 0) throw new Error('image-pull needs root');
    fixture = await imageFixture(ctx);
    const image = fixture.image;
    notes.push(fixture.facts);
    const skipped: Skipped[] = [];
    const subjects: Subject[] = [];
    const store = (name: string) => join(ctx.workDir, name);
    const fresh = (name: string) => {
      rmSync(store(name), { recursive: true, force: true });
      mkdirSync(store(name), { recursive: true });
      dropCaches();
    };
    const hull = join(ctx.repoRoot, 'dist/hull');
    subjects.push({
      name: 'hull',
      version: '0.1.0',
      run() {
        fresh('hull');
        const r = timed(hull, ['--root', store('hull'), 'pull', '-q', image]);
        record('hull', r.maxRssKiB);
        return r.ms;
      },
    });
    const podman = findOnPath('podman');
    if (podman) {
      subjects.push({
        name: 'podman',
        version: versionOf(podman),
        run() {
          fresh('podman');
          const r = timed(podman, ['--root', join(store('podman'), 'root'), '--runroot', join(store('podman'), 'run'), '--storage-driver', 'overlay', 'pull', '-q', '--tls-verify=false', image]);
          record('podman', r.maxRssKiB);
          return r.ms;
        },
      });
    } else skipped.push({ name: 'podman', reason: 'podman is not installed (apt-get install podman)' });
    const skopeo = findOnPath('skopeo');
    if (skopeo) {
      subjects.push({
        name: 'skopeo (to OCI dir)',
        version: versionOf(skopeo),
        run() {
          fresh('skopeo');
          const r = timed(skopeo, ['copy', '-q', '--src-tls-verify=false', `docker://${image}`, `oci:${store('skopeo')}/layout:latest`]);
          record('skopeo (to OCI dir)', r.maxRssKiB);
          return r.ms;
        },
      });
    }
    const docker = await startDockerd(ctx.workDir, fixture.registry, ctx.log);
    if (typeof docker === 'string') skipped.push({ name: 'docker', reason: docker });
    else {
      subjects.push({
        name: 'docker',
        version: versionOf('/usr/sbin/dockerd'),
        run() {
          spawnSync('docker', ['-H', docker.host, 'rmi', '-f', image], { stdio: 'ignore' });
          dropCaches();
          writeFileSync(`/proc/${docker.pid}/clear_refs`, '5');
          const r = timed('docker', ['-H', docker.host, 'pull', '-q', image]);
          record('docker', hwm(docker.pid));
          return r.ms;
        },
      });
      notes.push('docker: dockerd 20.10 with its own data root on the same ext4, overlay2, `--insecure-registry` for the local registry; the time is the docker CLI\'s `pull -q` until it returns.');
    }
    return { subjects, skipped, notes };
  },

  async teardown(ctx) {
    const lines: string[] = [];
    for (const [name, v] of peaks) lines.push(`${name} ${(median(v) / 1024).toFixed(0)} MiB`);
    // run.ts keeps the notes array setup returned, so a line added now reaches the report
    if (lines.length) notes.push(`Peak memory (median of the runs): ${lines.join(', ')}.`);
    if (dockerd) {
      dockerd.kill('SIGTERM');
      await new Promise((r) => dockerd!.once('exit', r).once('error', r));
      spawnSync('sh', ['-c', `grep ' ${ctx.workDir}' /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r umount -l`]);
    }
    fixture?.stop();
  },
};

function hwm(pid: number): number {
  const m = /^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

async function startDockerd(work: string, registry: string, log: (m: string) => void): Promise<{ host: string; pid: number } | string> {
  if (!existsSync('/usr/sbin/dockerd') || !findOnPath('docker')) return 'docker.io is not installed (apt-get install docker.io)';
  const dir = join(work, 'docker');
  mkdirSync(dir, { recursive: true });
  const sock = join(dir, 'docker.sock');
  log('starting dockerd');
  dockerd = spawn(
    '/usr/sbin/dockerd',
    ['--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '-H', `unix://${sock}`, '--pidfile', join(dir, 'pid'), '--insecure-registry', registry, '--bridge=none', '--iptables=false', '--ip6tables=false', '--storage-driver=overlay2'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  dockerd.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
  for (let i = 0; i < 150; i++) {
    if (spawnSync('docker', ['-H', `unix://${sock}`, 'version'], { stdio: 'ignore' }).status === 0) return { host: `unix://${sock}`, pid: dockerd.pid! };
    if (dockerd.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return `dockerd did not start: ${err.slice(-500)}`;
}

export default scenario;
