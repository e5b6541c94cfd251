// The push of a pulled image: the ~200 MB, 4-layer Debian image is pulled once (untimed) by each
// subject from the fixture's registry, then pushed each run to a second registry on 127.0.0.1
// whose storage is new and empty, so no blob is skipped by a HEAD or mounted from elsewhere.
// hull, podman, docker (dockerd started by the bench), and skopeo from an OCI layout it copied.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { findOnPath, runChecked, versionOf } from '../lib/command.ts';
import { median } from '../lib/measure.ts';
import { imageFixture, peakOf, resetPeak, startDockerd, startRegistry, timed, type Dockerd, type ImageFixture, type LocalRegistry } from '../lib/image-fixture.ts';
import type { Prepared, Scenario, Skipped, Subject } from '../lib/scenario.ts';

let fixture: ImageFixture | undefined;
let target: LocalRegistry | undefined;
let dockerd: Dockerd | undefined;
let targetRuns = 0;
const peaks = new Map<string, number[]>();
const cpu = new Map<string, number[]>();
const notes: string[] = [];
let runroot: string | undefined;

/** podman refuses a runroot path over 50 characters, which bench/work/<scenario>-XXXXXX/... can exceed. */
function podmanRunroot(): string {
  return (runroot ??= mkdtempSync(join(tmpdir(), 'hull-bench-podman-')));
}

function record(name: string, r: { maxRssKiB: number; cpuMs?: number }): void {
  peaks.set(name, [...(peaks.get(name) ?? []), r.maxRssKiB]);
  if (r.cpuMs !== undefined) cpu.set(name, [...(cpu.get(name) ?? []), r.cpuMs]);
}

/** Replaces the push registry with one on the same port and an empty storage directory. */
async function freshTarget(workDir: string): Promise<LocalRegistry> {
  const port = target?.port;
  await target?.stop();
  target = undefined;
  const storage = join(workDir, 'push-registry');
  rmSync(storage, { recursive: true, force: true });
  target = await startRegistry(workDir, storage, port);
  targetRuns++;
  spawnSync('sync');
  return target;
}

const scenario: Scenario = {
  name: 'image-push',
  description:
    'The `push` of a pulled image: the Debian bookworm minbase image (4 gzip layers, ~200 MB of tar) is pulled once by each subject ' +
    '(untimed), then pushed each run to a second docker-registry on 127.0.0.1 restarted with empty storage, so every blob is uploaded: ' +
    'hull, podman, docker (dockerd started by the bench) and skopeo copying from the OCI layout it pulled into. ' +
    'Peak memory (GNU time maxrss; dockerd: its VmHWM) and CPU time are in the notes.',
  baseline: 'podman',
  runs: 5,
  quickRuns: 2,
  warmup: 1,

  async setup(ctx): Promise<Prepared> {
    if (process.getuid?.() !== 0) throw new Error('image-push needs root');
    fixture = await imageFixture(ctx);
    const source = fixture.image;
    notes.push(fixture.facts);
    target = await startRegistry(ctx.workDir, join(ctx.workDir, 'push-registry'));
    const dest = `${target.address}/push/debian:minbase`;
    const skipped: Skipped[] = [];
    const subjects: Subject[] = [];
    const store = (name: string) => join(ctx.workDir, name);

    const hull = join(ctx.repoRoot, 'dist/hull');
    const hullArgs = ['--root', store('hull')];
    ctx.log('hull: pulling the image');
    runChecked(hull, [...hullArgs, 'pull', '-q', source], { timeout: 600_000 });
    runChecked(hull, [...hullArgs, 'tag', source, dest]);
    subjects.push({
      name: 'hull',
      version: '0.1.0',
      async run() {
        await freshTarget(ctx.workDir);
        const r = timed(hull, [...hullArgs, 'push', '-q', dest]);
        record('hull', r);
        return r.ms;
      },
    });

    const podman = findOnPath('podman');
    if (podman) {
      const podmanArgs = ['--root', join(store('podman'), 'root'), '--runroot', podmanRunroot(), '--storage-driver', 'overlay'];
      ctx.log('podman: pulling the image');
      runChecked(podman, [...podmanArgs, 'pull', '-q', '--tls-verify=false', source], { timeout: 600_000 });
      runChecked(podman, [...podmanArgs, 'tag', source, dest]);
      subjects.push({
        name: 'podman',
        version: versionOf(podman),
        async run() {
          await freshTarget(ctx.workDir);
          const r = timed(podman, [...podmanArgs, 'push', '-q', '--tls-verify=false', dest]);
          record('podman', r);
          return r.ms;
        },
      });
    } else skipped.push({ name: 'podman', reason: 'podman is not installed (apt-get install podman)' });

    const skopeo = findOnPath('skopeo');
    if (skopeo) {
      const layout = `oci:${store('skopeo')}/layout:latest`;
      mkdirSync(store('skopeo'), { recursive: true });
      ctx.log('skopeo: copying the image to an OCI layout');
      runChecked(skopeo, ['copy', '-q', '--src-tls-verify=false', `docker://${source}`, layout], { timeout: 600_000 });
      subjects.push({
        name: 'skopeo (from OCI dir)',
        version: versionOf(skopeo),
        async run() {
          await freshTarget(ctx.workDir);
          const r = timed(skopeo, ['copy', '-q', '--dest-tls-verify=false', layout, `docker://${dest}`]);
          record('skopeo (from OCI dir)', r);
          return r.ms;
        },
      });
    } else skipped.push({ name: 'skopeo', reason: 'skopeo is not installed (apt-get install skopeo)' });

    const docker = await startDockerd(store('docker'), [fixture.registry, target.address], ctx.log);
    if (typeof docker === 'string') skipped.push({ name: 'docker', reason: docker });
    else {
      dockerd = docker;
      ctx.log('docker: pulling the image');
      runChecked('docker', ['-H', docker.host, 'pull', '-q', source], { timeout: 600_000 });
      runChecked('docker', ['-H', docker.host, 'tag', source, dest]);
      subjects.push({
        name: 'docker',
        version: versionOf('/usr/sbin/dockerd'),
        async run() {
          await freshTarget(ctx.workDir);
          resetPeak(docker.pid);
          const r = timed('docker', ['-H', docker.host, 'push', '-q', dest]);
          record('docker', { maxRssKiB: peakOf(docker.pid) });
          return r.ms;
        },
      });
      notes.push('docker: dockerd 20.10 with its own data root on the same ext4, overlay2, `--insecure-registry` for both registries; the time is the docker CLI\'s `push -q` until it returns.');
    }
    notes.push(
      'Each run restarts the push registry on the same port with a new, empty storage directory (untimed), so every subject uploads every blob; ' +
        'the registry\'s own work (hashing and writing the blobs) is in every subject\'s time alike.',
    );
    return { subjects, skipped, notes };
  },

  async teardown(ctx) {
    const lines: string[] = [];
    for (const [name, v] of peaks) {
      const c = cpu.get(name);
      lines.push(`${name} ${(median(v) / 1024).toFixed(0)} MiB${c ? `, ${(median(c) / 1000).toFixed(2)} s CPU` : ' (dockerd\'s peak; its CPU time is not counted)'}`);
    }
    // run.ts keeps the notes array setup returned, so a line added now reaches the report
    if (lines.length) notes.push(`Peak memory and CPU time (user + system, of the command and its children), medians of the runs: ${lines.join('; ')}.`);
    ctx.log(`${targetRuns} push registries started`);
    await dockerd?.stop();
    await target?.stop();
    await fixture?.stopped();
    if (runroot) rmSync(runroot, { recursive: true, force: true });
  },
};

export default scenario;
