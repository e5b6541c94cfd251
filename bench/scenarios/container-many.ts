// Starting many idle containers: each iteration starts COUNT detached `busybox sleep 1000`
// with one engine, one after another as a script does (and, as a second subject per engine,
// CONCURRENCY at a time), and is timed until the last `run -d` returns. Then, untimed, the
// memory they hold is read (monitors, dockerd's daemons, the machine's MemAvailable), and all
// are removed with one `rm -f` (its time goes into the notes).
import { Engines, IMAGE, monitorOf, type Engine } from '../lib/engines.ts';
import { median, msSince } from '../lib/measure.ts';
import { cgroupMemoryKiB, memAvailableKiB, processMemory, rssOf, size } from '../lib/memory.ts';
import type { Prepared, Scenario, Subject } from '../lib/scenario.ts';

const COUNT = 200;
const CONCURRENCY = 8;
const SETTLE_MS = 3000;
const RUN = ['run', '-d', '--network', 'none', IMAGE, 'sleep', '1000'];

interface Facts {
  /** Per iteration: sums over the COUNT containers, KiB. */
  monitorRss: number[];
  monitorPss: number[];
  cgroups: number[];
  /** dockerd + containerd RSS once all are up, and how much it grew during the starts. */
  daemonRss: number[];
  daemonGrowth: number[];
  /** MemAvailable before the starts minus after: what the machine gave to it all. */
  available: number[];
  removeMs: number[];
  /** Sequential starts only: the median `run -d` of the first and of the last tenth of the starts. */
  firstStarts: number[];
  lastStarts: number[];
}

let engines: Engines | undefined;
let notes: string[] = [];
const facts = new Map<string, Facts>();

async function startAll(engine: Engine, concurrency: number, f: Facts): Promise<void> {
  if (concurrency === 1) {
    const each: number[] = [];
    for (let i = 0; i < COUNT; i++) {
      const start = process.hrtime.bigint();
      engine.cli(RUN);
      each.push(msSince(start));
    }
    // does a start get slower as containers pile up?
    const tenth = Math.max(1, Math.floor(COUNT / 10));
    f.firstStarts.push(median(each.slice(0, tenth)));
    f.lastStarts.push(median(each.slice(-tenth)));
    return;
  }
  let next = 0;
  const worker = async () => {
    while (next < COUNT) {
      next++;
      await engine.cliAsync(RUN);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function daemonRss(engine: Engine): number {
  return engine.daemons().reduce((a, p) => a + rssOf(p), 0);
}

async function iteration(name: string, engine: Engine, concurrency: number): Promise<number> {
  const f = facts.get(name)!;
  // what the previous iteration's removal frees comes back over a moment: let it, before the baseline
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const daemonsBefore = daemonRss(engine);
  const availableBefore = memAvailableKiB();
  const start = process.hrtime.bigint();
  await startAll(engine, concurrency, f);
  const ms = msSince(start);

  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const ids = engine.ids();
  if (ids.length !== COUNT) throw new Error(`${name}: ${ids.length} containers after starting ${COUNT}`);
  let rss = 0;
  let pss = 0;
  let cgroups = 0;
  for (const id of ids) {
    const m = processMemory(monitorOf(engine, id));
    rss += m.rssKiB;
    pss += m.pssKiB;
    cgroups += cgroupMemoryKiB(engine.pidOf(id));
  }
  const daemons = daemonRss(engine);
  f.available.push(availableBefore - memAvailableKiB());
  f.monitorRss.push(rss);
  f.monitorPss.push(pss);
  f.cgroups.push(cgroups);
  f.daemonRss.push(daemons);
  f.daemonGrowth.push(daemons - daemonsBefore);

  const removeStart = process.hrtime.bigint();
  engine.removeAll();
  f.removeMs.push(msSince(removeStart));
  if (engine.ids().length) throw new Error(`${name}: containers left after rm -f`);
  return ms;
}

const scenario: Scenario = {
  name: 'container-many',
  description: `${COUNT} idle containers (\`run -d --network none busybox sleep 1000\`) started with each engine: one after another, as a script does, ` +
    `and ${CONCURRENCY} at a time ("×${CONCURRENCY}"). The time is until the last \`run -d\` returns. Then, untimed, the memory they hold is read, ` +
    'and they are all removed with one `rm -f` (its time, and the memory, are in the notes).',
  baseline: 'podman',
  runs: 3,
  quickRuns: 1,
  warmup: 0,

  async setup(ctx): Promise<Prepared> {
    facts.clear();
    notes = [];
    const e = (engines = new Engines(ctx));
    await e.start();
    notes.push(...e.notes);
    const subjects: Subject[] = [];
    for (const concurrency of [1, CONCURRENCY]) {
      for (const engine of e.list) {
        const name = concurrency === 1 ? engine.name : `${engine.name} ×${concurrency}`;
        facts.set(name, { monitorRss: [], monitorPss: [], cgroups: [], daemonRss: [], daemonGrowth: [], available: [], removeMs: [], firstStarts: [], lastStarts: [] });
        subjects.push({
          name,
          ...(engine.version ? { version: engine.version } : {}),
          run: (i) => {
            ctx.log(`${name}: starting ${COUNT} containers (iteration ${i + 1})`);
            return iteration(name, engine, concurrency);
          },
        });
      }
    }
    return { subjects, skipped: e.skipped, notes };
  },

  async teardown() {
    const removes: string[] = [];
    const growth: string[] = [];
    for (const [name, f] of facts) {
      if (!f.removeMs.length) continue;
      const per = (v: number[]) => size(median(v) / COUNT);
      notes.push(`With ${COUNT} idle containers up, ${name} (medians of ${f.removeMs.length} iteration${f.removeMs.length > 1 ? 's' : ''}): ` +
        `monitors RSS ${size(median(f.monitorRss))} (${per(f.monitorRss)} each), PSS ${size(median(f.monitorPss))} (${per(f.monitorPss)} each); ` +
        `container cgroups ${size(median(f.cgroups))}` +
        (median(f.daemonRss) > 0 ? `; dockerd + containerd RSS ${size(median(f.daemonRss))} (grew ${size(median(f.daemonGrowth))})` : '') +
        `; MemAvailable fell ${size(median(f.available))} (${per(f.available)} per container).`);
      removes.push(`${name} ${(median(f.removeMs) / 1000).toFixed(1)} s`);
      if (f.firstStarts.length) growth.push(`${name} ${median(f.firstStarts).toFixed(0)} ms -> ${median(f.lastStarts).toFixed(0)} ms`);
    }
    if (removes.length) {
      notes.push(`Memory is read ${SETTLE_MS / 1000} s after the last start. MemAvailable is read ${SETTLE_MS / 1000} s after the previous removal and ` +
        'also moves with whatever else the machine does meanwhile, so read it as a rough total; the monitor and cgroup sums are exact. ' +
        'The container cgroups hold the `sleep` processes and the kernel memory made for them.');
      if (growth.length) notes.push(`One \`run -d\` among the first ${COUNT / 10} and among the last ${COUNT / 10} of the sequential starts (medians): ${growth.join(', ')}.`);
      notes.push(`Removing all ${COUNT} with one \`rm -f\` (untimed above; podman's with \`-t 0\`, as docker's and hull's kill at once): ${removes.join(', ')}.`);
    }
    await engines?.stop();
    engines = undefined;
  },
};

export default scenario;
