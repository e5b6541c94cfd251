// TCP throughput through a published port: a client on the host sends 512 MiB to a container's
// busybox `nc -l -e` draining into /dev/null through `-p`, once to 127.0.0.1 and once to the host's own address. docker
// (dockerd 20.10 with iptables and its userland proxy, started by the bench) serves 127.0.0.1
// through docker-proxy and the host address through DNAT, so its two rows are "with" and
// "without" the userland proxy. hull and podman forward both in the kernel.
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { Engines, IMAGE, type Engine } from '../lib/engines.ts';
import { saveIptables } from '../lib/host-iptables.ts';
import { median, msSince } from '../lib/measure.ts';
import { Timings } from '../lib/timings.ts';
import type { Prepared, Scenario, Subject } from '../lib/scenario.ts';

const MIB = 1024 * 1024;
const SIZE_MIB = 512;
const PORT = 18500;
let engines: Engines | undefined;
const times = new Timings(0);
let notes: string[] = [];
let restoreIptables: (() => void) | undefined;

function hostAddress(): string {
  const r = spawnSync('ip', ['-j', 'route', 'get', '192.0.2.200'], { encoding: 'utf8' });
  return (JSON.parse(r.stdout) as { prefsrc: string }[])[0]!.prefsrc;
}

/** Sends SIZE_MIB to host:port and resolves when the server has closed; rejects if the connection fails. */
function send(host: string, port: number): Promise<void> {
  const chunk = Buffer.alloc(MIB);
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    let sent = 0;
    const pump = () => {
      while (sent < SIZE_MIB) {
        sent++;
        if (!s.write(chunk)) return;
      }
      s.end();
    };
    s.on('connect', pump);
    s.on('drain', pump);
    s.on('error', reject);
    s.on('close', (hadError) => (hadError || sent < SIZE_MIB ? reject(new Error('connection closed early')) : resolve()));
    s.resume();
  });
}

async function once(engine: Engine, name: string, host: string): Promise<number> {
  // the server may not listen yet when the client connects; a failed try has ended the server
  // (nc -l serves one connection), so each try gets a fresh container, and only the success counts
  for (let attempt = 0; ; attempt++) {
    const id = engine.cli(['run', '-d', '-p', `${PORT}:5001`, IMAGE, 'nc', '-l', '-p', '5001', '-e', 'sh', '-c', 'cat > /dev/null']).trim();
    try {
      await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
      const start = process.hrtime.bigint();
      await send(host, PORT);
      const ms = msSince(start);
      times.record(name, 0, ms);
      return ms;
    } catch (err) {
      if (attempt >= 10) throw err;
    } finally {
      engine.cli(['rm', '-f', id]);
    }
  }
}

const scenario: Scenario = {
  name: 'port-throughput',
  description: `A client on the host sends ${SIZE_MIB} MiB over TCP to a busybox \`nc -l -e\` in a container (its \`cat\` drains into /dev/null), through a published port (\`-p ${PORT}:5001\`), ` +
    'to 127.0.0.1 and to the host\'s own address; each iteration is one fresh container and one transfer, and only the transfer is timed. ' +
    'docker (dockerd 20.10 with iptables and its userland proxy) serves 127.0.0.1 through docker-proxy and the host address through DNAT.',
  baseline: 'docker 127.0.0.1 (userland proxy)',
  runs: 10,
  quickRuns: 3,
  warmup: 1,

  async setup(ctx): Promise<Prepared> {
    times.clear();
    notes = [];
    restoreIptables = saveIptables();
    const e = (engines = new Engines(ctx));
    await e.start({ dockerNetworking: { bip: '10.213.0.1/24' } });
    notes.push(...e.notes);
    const address = hostAddress();
    const subjects: Subject[] = [];
    for (const engine of e.list) {
      const labels = engine.name === 'docker'
        ? [['docker 127.0.0.1 (userland proxy)', '127.0.0.1'], [`docker ${address} (DNAT, no proxy)`, address]]
        : [[`${engine.name} 127.0.0.1`, '127.0.0.1'], [`${engine.name} ${address}`, address]];
      for (const [name, host] of labels) {
        subjects.push({ name: name!, ...(engine.version ? { version: engine.version } : {}), run: () => once(engine, name!, host!) });
      }
    }
    return { subjects, skipped: e.skipped, notes };
  },

  async teardown() {
    const rates = times.entries().filter(([, t]) => t.length).map(([name, t]) => `${name} ${((SIZE_MIB / median(t)) * 1000 / 1024).toFixed(2)} GiB/s`);
    if (rates.length) notes.push(`Throughput (median): ${rates.join('; ')}.`);
    await engines?.stop();
    engines = undefined;
    restoreIptables?.();
    restoreIptables = undefined;
  },
};

export default scenario;
