// `run --rm --network none busybox true`, end to end, as a user types it: hull beside podman
// (the baseline) and docker, all on the same busybox image, and the floor: a static C program
// that makes the engine's namespaces, mounts the overlay of the same image, pivot_roots into it
// and execs /bin/true (bench/floor/floor.c).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runChecked } from '../lib/command.ts';
import { Engines, IMAGE } from '../lib/engines.ts';
import { median } from '../lib/measure.ts';
import { Timings } from '../lib/timings.ts';
import type { Prepared, Scenario, Subject } from '../lib/scenario.ts';

let engines: Engines | undefined;
const WARMUP = 3;
/** Measured times per subject, kept for the ratios in the notes (run.ts keeps its own copy). */
const times = new Timings(WARMUP);
let notes: string[] = [];

/** The namespaces hull gives a `--network none` container on this host, from its config.json. */
function hullNamespaces(e: Engines): string[] {
  const hull = e.hull;
  const id = hull.cli(['run', '-d', '--network', 'none', IMAGE, 'sleep', '1000']).trim();
  try {
    const root = hull.argv[hull.argv.indexOf('--root') + 1]!;
    const config = JSON.parse(readFileSync(join(root, 'containers', id, 'config.json'), 'utf8'));
    return (config.linux?.namespaces ?? []).filter((n: { path?: string }) => !n.path).map((n: { type: string }) => n.type);
  } finally {
    hull.cli(['rm', '-f', id]);
  }
}

const scenario: Scenario = {
  name: 'container-run',
  description: '`run --rm --network none busybox true`, end to end, each a fresh process as a user runs it: hull beside podman and docker ' +
    '(dockerd started by the bench), all on the same busybox image, and the floor: a static C program that makes the same namespaces, ' +
    'mounts the overlay of the same image with a fresh upper and work directory, pivot_roots into it, execs `/bin/true` and waits for it.',
  baseline: 'podman',
  runs: 30,
  quickRuns: 5,
  warmup: WARMUP,

  async setup(ctx): Promise<Prepared> {
    times.clear();
    notes = [];
    const e = (engines = new Engines(ctx));
    await e.start();
    notes.push(...e.notes);

    ctx.log('building the floor (bench/floor)');
    const floorDir = join(ctx.workDir, 'floor');
    mkdirSync(join(floorDir, 'containers'), { recursive: true });
    runChecked('make', ['-s', '-C', join(ctx.repoRoot, 'bench/floor'), `OUT=${floorDir}`]);
    const ns = hullNamespaces(e);
    const floorArgs = ['--ns', ns.join(','), '--lower', e.lowerDir, '--dir', join(floorDir, 'containers'), '--', '/bin/true'];
    runChecked(join(floorDir, 'floor'), floorArgs);
    notes.push(`The floor makes the namespaces hull's container gets on this host (${ns.join(', ')}; from its config.json), ` +
      'mounts an overlay of the image\'s layer with a fresh upper and work directory on the same ext4, pivot_roots, execs /bin/true as ' +
      'pid 1 and waits, then removes the directories. No cgroup, /proc, /dev, capabilities, seccomp or state: what an engine adds is the rest.');

    const subjects: Subject[] = e.list.map((engine) => ({
      name: engine.name,
      ...(engine.version ? { version: engine.version } : {}),
      run: (i) => times.time(engine.name, i, () => engine.cli(['run', '--rm', '--network', 'none', IMAGE, 'true'])),
    }));
    subjects.push({ name: 'floor', run: (i) => times.time('floor', i, () => runChecked(join(floorDir, 'floor'), floorArgs)) });
    return { subjects, skipped: e.skipped, notes };
  },

  async teardown() {
    const hull = times.get('hull');
    const floor = times.get('floor');
    const podman = times.get('podman');
    if (hull?.length && floor?.length) {
      const ratio = (median(hull) / median(floor)).toFixed(1);
      const goal = podman?.length ? ` The goal is at most half of podman's time: hull takes ${(median(hull) / median(podman)).toFixed(2)}× podman's.` : '';
      notes.push(`hull takes ${ratio}× the floor's time.${goal}`);
    }
    await engines?.stop();
    engines = undefined;
  },
};

export default scenario;
