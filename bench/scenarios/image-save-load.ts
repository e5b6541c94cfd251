// `save` then `load` of the ~200 MB, 4-layer Debian image, pulled once (untimed) by each subject
// from the fixture's registry. Each run saves the image to a file, removes it (untimed), and loads
// it back, so the load unpacks every layer again: hull, podman and docker (dockerd started by the
// bench), each in its default archive format.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { findOnPath, runChecked, versionOf } from '../lib/command.ts';
import { median } from '../lib/measure.ts';
import { imageFixture, peakOf, resetPeak, startDockerd, timed, type Dockerd, type ImageFixture } from '../lib/image-fixture.ts';
import type { Prepared, Sample, Scenario, Skipped, Subject } from '../lib/scenario.ts';

let fixture: ImageFixture | undefined;
let dockerd: Dockerd | undefined;
interface Facts {
  save: number[];
  load: number[];
  saveCpu: number[];
  loadCpu: number[];
  archive: number[];
}
const facts = new Map<string, Facts>();
const notes: string[] = [];
let runroot: string | undefined;

/** podman refuses a runroot path over 50 characters, which bench/work/<scenario>-XXXXXX/... can exceed. */
function podmanRunroot(): string {
  return (runroot ??= mkdtempSync(join(tmpdir(), 'hull-bench-podman-')));
}

function factsOf(name: string): Facts {
  let f = facts.get(name);
  if (!f) facts.set(name, (f = { save: [], load: [], saveCpu: [], loadCpu: [], archive: [] }));
  return f;
}

/**
 * One round trip. `save` and `load` run the subject's commands and return what GNU time saw;
 * `remove` deletes the image (untimed) so that the load makes every layer again.
 */
function roundTrip(
  name: string,
  archive: string,
  save: () => { ms: number; cpuMs?: number; maxRssKiB: number },
  remove: () => void,
  load: () => { ms: number; cpuMs?: number; maxRssKiB: number },
): Sample {
  rmSync(archive, { force: true });
  spawnSync('sync');
  const s = save();
  const size = statSync(archive).size;
  remove();
  spawnSync('sync');
  const l = load();
  const f = factsOf(name);
  f.save.push(s.maxRssKiB);
  f.load.push(l.maxRssKiB);
  if (s.cpuMs !== undefined) f.saveCpu.push(s.cpuMs);
  if (l.cpuMs !== undefined) f.loadCpu.push(l.cpuMs);
  f.archive.push(size);
  return { steps: { save: s.ms, load: l.ms } };
}

const scenario: Scenario = {
  name: 'image-save-load',
  description:
    'A `save` of the Debian bookworm minbase image (4 gzip layers, ~200 MB of tar; pulled once, untimed) to a file on the same ext4, ' +
    'then, after removing the image (untimed), a `load` of that file, which unpacks every layer again: hull (its docker-archive, which is also an OCI layout), ' +
    'podman (docker-archive) and docker (dockerd started by the bench). Archive sizes, peak memory (GNU time maxrss; dockerd: its VmHWM) and CPU time are in the notes.',
  baseline: 'podman',
  steps: ['save', 'load'],
  runs: 5,
  quickRuns: 2,
  warmup: 1,

  async setup(ctx): Promise<Prepared> {
    if (process.getuid?.() !== 0) throw new Error('image-save-load needs root');
    fixture = await imageFixture(ctx);
    const image = fixture.image;
    notes.push(fixture.facts);
    const skipped: Skipped[] = [];
    const subjects: Subject[] = [];
    const work = (name: string) => join(ctx.workDir, name);

    const hull = join(ctx.repoRoot, 'dist/hull');
    const hullArgs = ['--root', work('hull')];
    ctx.log('hull: pulling the image');
    runChecked(hull, [...hullArgs, 'pull', '-q', image], { timeout: 600_000 });
    subjects.push({
      name: 'hull',
      version: '0.1.0',
      run() {
        const archive = work('hull.tar');
        return roundTrip(
          'hull',
          archive,
          () => timed(hull, [...hullArgs, 'save', '-o', archive, image]),
          () => runChecked(hull, [...hullArgs, 'rmi', image]),
          () => timed(hull, [...hullArgs, 'load', '-q', '-i', archive]),
        );
      },
    });

    const podman = findOnPath('podman');
    if (podman) {
      const podmanArgs = ['--root', join(work('podman'), 'root'), '--runroot', podmanRunroot(), '--storage-driver', 'overlay'];
      ctx.log('podman: pulling the image');
      runChecked(podman, [...podmanArgs, 'pull', '-q', '--tls-verify=false', image], { timeout: 600_000 });
      subjects.push({
        name: 'podman',
        version: versionOf(podman),
        run() {
          const archive = work('podman.tar');
          return roundTrip(
            'podman',
            archive,
            () => timed(podman, [...podmanArgs, 'save', '-q', '--format', 'docker-archive', '-o', archive, image]),
            () => runChecked(podman, [...podmanArgs, 'rmi', image]),
            () => timed(podman, [...podmanArgs, 'load', '-q', '-i', archive]),
          );
        },
      });
    } else skipped.push({ name: 'podman', reason: 'podman is not installed (apt-get install podman)' });

    const docker = await startDockerd(work('docker'), [fixture.registry], ctx.log);
    if (typeof docker === 'string') skipped.push({ name: 'docker', reason: docker });
    else {
      dockerd = docker;
      ctx.log('docker: pulling the image');
      runChecked('docker', ['-H', docker.host, 'pull', '-q', image], { timeout: 600_000 });
      const daemonSide = (args: string[]) => () => {
        resetPeak(docker.pid);
        const r = timed('docker', ['-H', docker.host, ...args]);
        // the CLI only streams the archive; the work is dockerd's
        return { ms: r.ms, maxRssKiB: peakOf(docker.pid) };
      };
      subjects.push({
        name: 'docker',
        version: versionOf('/usr/sbin/dockerd'),
        run() {
          const archive = work('docker.tar');
          return roundTrip(
            'docker',
            archive,
            daemonSide(['save', '-o', archive, image]),
            () => runChecked('docker', ['-H', docker.host, 'rmi', image]),
            daemonSide(['load', '-q', '-i', archive]),
          );
        },
      });
      notes.push('docker: dockerd 20.10 with its own data root on the same ext4, overlay2; the time is the docker CLI\'s `save -o` / `load -q -i` until it returns.');
    }
    notes.push('Each run: `save` to a new file, `rmi` (untimed), `load` of that file. The total is save + load.');
    return { subjects, skipped, notes };
  },

  async teardown() {
    const lines: string[] = [];
    const mib = (v: number[]) => `${(median(v) / 1024).toFixed(0)} MiB`;
    const secs = (v: number[]) => (v.length ? `, ${(median(v) / 1000).toFixed(2)} s CPU` : '');
    for (const [name, f] of facts) {
      lines.push(
        `${name}: archive ${(median(f.archive) / 1e6).toFixed(0)} MB; save ${mib(f.save)}${secs(f.saveCpu)}; load ${mib(f.load)}${secs(f.loadCpu)}` +
          (f.saveCpu.length ? '' : ' (dockerd\'s peak; its CPU time is not counted)'),
      );
    }
    // run.ts keeps the notes array setup returned, so a line added now reaches the report
    if (lines.length) notes.push(`Archive size, peak memory and CPU time (user + system), medians of the runs: ${lines.join('. ')}.`);
    await dockerd?.stop();
    await fixture?.stopped();
    if (runroot) rmSync(runroot, { recursive: true, force: true });
  },
};

export default scenario;
