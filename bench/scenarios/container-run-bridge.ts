// `run --rm busybox true` on each engine's default bridge network, end to end, beside the same
// run with `--network none`: the difference is what networking costs each engine per container
// (a network namespace, a veth pair, addresses, routes, and whatever the engine adds).
import { Engines, IMAGE } from '../lib/engines.ts';
import { saveIptables } from '../lib/host-iptables.ts';
import { median } from '../lib/measure.ts';
import { Timings } from '../lib/timings.ts';
import type { Prepared, Scenario, Subject } from '../lib/scenario.ts';

let engines: Engines | undefined;
const WARMUP = 3;
const times = new Timings(WARMUP);
let notes: string[] = [];
let restoreIptables: (() => void) | undefined;

const scenario: Scenario = {
  name: 'container-run-bridge',
  description: '`run --rm busybox true` on the default bridge network (a veth, an address and a default route), end to end, hull beside podman ' +
    '(netavark) and docker (dockerd 20.10 with docker0 and iptables, started by the bench); each also with `--network none`, so that the ' +
    'difference is the cost of networking.',
  baseline: 'podman',
  runs: 30,
  quickRuns: 5,
  warmup: WARMUP,

  async setup(ctx): Promise<Prepared> {
    times.clear();
    notes = [];
    restoreIptables = saveIptables();
    const e = (engines = new Engines(ctx));
    await e.start({ dockerNetworking: { bip: '10.213.0.1/24' } });
    notes.push(...e.notes);
    const subjects: Subject[] = [];
    for (const engine of e.list) {
      // each engine's first bridge run makes its bridge: outside the measurement
      engine.cli(['run', '--rm', IMAGE, 'true']);
      subjects.push({ name: engine.name, ...(engine.version ? { version: engine.version } : {}),
        run: (i) => times.time(engine.name, i, () => engine.cli(['run', '--rm', IMAGE, 'true'])) });
      subjects.push({ name: `${engine.name} --network none`, ...(engine.version ? { version: engine.version } : {}),
        run: (i) => times.time(`${engine.name} none`, i, () => engine.cli(['run', '--rm', '--network', 'none', IMAGE, 'true'])) });
    }
    return { subjects, skipped: e.skipped, notes };
  },

  async teardown() {
    const costs: string[] = [];
    for (const name of ['hull', 'podman', 'docker']) {
      const bridge = times.get(name);
      const none = times.get(`${name} none`);
      if (bridge?.length && none?.length) costs.push(`${name} ${(median(bridge) - median(none)).toFixed(1)} ms`);
    }
    if (costs.length) notes.push(`The cost of networking (median on the bridge minus median with --network none): ${costs.join(', ')}. The goal for hull is under 20 ms and the lowest of the three.`);
    await engines?.stop();
    engines = undefined;
    restoreIptables?.();
    restoreIptables = undefined;
  },
};

export default scenario;
