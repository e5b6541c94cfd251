// Verbs that take several containers (stop, kill, rm, ...) act on each, print the name as given
// for each success and an error line for each failure, in the order given, and fail at the end,
// as docker's do. stop, kill, rm, pause and unpause run at once, as docker's parallelOperation
// does (at most 50 in flight); the others one after another.
import { CliError, write } from '../context.ts';

const IN_FLIGHT = 50;

export async function eachContainer(refs: string[], act: (ref: string) => Promise<void>, echo = true, parallel = false): Promise<void> {
  // resolves with the error, or undefined; an act that throws before its first await counts too
  const settle = (ref: string) => Promise.resolve().then(() => act(ref)).then(() => undefined, (e: unknown) => e);
  const results: Promise<unknown>[] = [];
  let next = 0;
  const slots = Array.from({ length: parallel ? Math.min(IN_FLIGHT, refs.length) : 0 }, async () => {
    while (next < refs.length) {
      const i = next++;
      results[i] = settle(refs[i]!);
      await results[i];
    }
  });
  let failed = false;
  for (let i = 0; i < refs.length; i++) {
    const outcome = parallel ? await waitFor(results, i) : await settle(refs[i]!);
    if (outcome === undefined) {
      if (echo) write(refs[i]!);
    } else {
      failed = true;
      process.stderr.write(`Error response from daemon: ${(outcome as Error).message}\n`);
    }
  }
  await Promise.all(slots);
  if (failed) throw new CliError('', 1);
}

/** The outcome of results[i] once a slot has started it. */
async function waitFor(results: Promise<unknown>[], i: number): Promise<unknown> {
  while (!results[i]) await new Promise((r) => setImmediate(r));
  return results[i];
}
