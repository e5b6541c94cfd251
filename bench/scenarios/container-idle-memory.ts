// What one idle container costs in memory: each iteration starts one more detached
// `busybox sleep 1000` per engine (the timed part: `run -d` until it returns). Once all are up
// and have settled, the memory of each container's monitor (hull-shim, podman's conmon,
// docker's containerd-shim-runc-v2) is read from /proc/<pid>/smaps_rollup, and the container's
// own from its memory cgroup. The medians go into the notes.
import { Engines, IMAGE, monitorOf, type Engine } from '../lib/engines.ts';
import { median, msSince } from '../lib/measure.ts';
import { cgroupMemoryKiB, processMemory, rssOf, size } from '../lib/memory.ts';
import type { Prepared, Scenario, Subject } from '../lib/scenario.ts';

/** After the last start, before reading memory: Go's shims finish starting up and settle. */
const SETTLE_MS = 3000;

let engines: Engines | undefined;
let notes: string[] = [];
const started = new Map<Engine, string[]>();

function startOne(engine: Engine): number {
  const start = process.hrtime.bigint();
  const id = engine.cli(['run', '-d', '--network', 'none', IMAGE, 'sleep', '1000']).trim();
  const ms = msSince(start);
  started.get(engine)!.push(id);
  return ms;
}

interface Reading {
  rss: number[];
  pss: number[];
  cgroup: number[];
}

function read(engine: Engine, ids: string[]): Reading {
  const r: Reading = { rss: [], pss: [], cgroup: [] };
  for (const id of ids) {
    const monitor = processMemory(monitorOf(engine, id));
    r.rss.push(monitor.rssKiB);
    r.pss.push(monitor.pssKiB);
    r.cgroup.push(cgroupMemoryKiB(engine.pidOf(id)));
  }
  return r;
}

const MONITOR: Record<Engine['name'], string> = { hull: 'hull-shim', podman: 'conmon', docker: 'containerd-shim-runc-v2' };

const scenario: Scenario = {
  name: 'container-idle-memory',
  description: 'Memory per idle container: each iteration starts one more `run -d --network none busybox sleep 1000` per engine ' +
    '(the time below is that command\'s, until it returns). When all are up, the RSS and PSS of each container\'s monitor ' +
    '(hull-shim, podman\'s conmon, docker\'s containerd-shim-runc-v2) and its memory cgroup\'s usage are read; their medians are in the notes.',
  baseline: 'podman',
  runs: 10,
  quickRuns: 5,
  warmup: 1,

  async setup(ctx): Promise<Prepared> {
    started.clear();
    notes = [];
    const e = (engines = new Engines(ctx));
    await e.start();
    notes.push(...e.notes);
    const subjects: Subject[] = e.list.map((engine) => {
      started.set(engine, []);
      return { name: engine.name, ...(engine.version ? { version: engine.version } : {}), run: () => startOne(engine) };
    });
    return { subjects, skipped: e.skipped, notes };
  },

  async teardown(ctx) {
    try {
      if ([...started.values()].some((ids) => ids.length)) {
        ctx.log(`waiting ${SETTLE_MS / 1000} s, then reading memory`);
        await new Promise((r) => setTimeout(r, SETTLE_MS));
        for (const [engine, ids] of started) {
          if (!ids.length) continue;
          const r = read(engine, ids);
          const total = r.cgroup.map((c, i) => c + r.pss[i]!);
          const daemons = engine.daemons();
          notes.push(`Per idle container, ${engine.name} (medians of ${ids.length} containers, ${SETTLE_MS / 1000} s after the last start): ` +
            `${MONITOR[engine.name]} RSS ${size(median(r.rss))}, PSS ${size(median(r.pss))}; container cgroup ${size(median(r.cgroup))}; ` +
            `cgroup + monitor PSS ${size(median(total))}` +
            (daemons.length ? `. Besides, dockerd and its containerd hold ${size(daemons.reduce((a, p) => a + rssOf(p), 0))} RSS for all containers.` : '.'));
        }
        notes.push('RSS counts every page the monitor maps; PSS divides each shared page among the processes mapping it, so it falls as more ' +
          'monitors share one binary. The container cgroup is memory.usage_in_bytes of its v1 memory cgroup: the `sleep` process, the kernel ' +
          'memory made for it, and page cache it was first to read (so the first container of each engine is charged for busybox itself; the median is not). ' +
          'hull\'s goal is under 1 MiB RSS for hull-shim.');
      }
    } finally {
      await engines?.stop();
      engines = undefined;
    }
  },
};

export default scenario;
