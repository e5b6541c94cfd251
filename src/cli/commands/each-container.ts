// Verbs that take several containers (stop, kill, rm, ...) act on each in turn, print the name as
// given for each success and an error line for each failure, and fail at the end, as docker's do.
import { CliError, write } from '../context.ts';

export async function eachContainer(refs: string[], act: (ref: string) => Promise<void>, echo = true): Promise<void> {
  let failed = false;
  for (const ref of refs) {
    try {
      await act(ref);
      if (echo) write(ref);
    } catch (e) {
      failed = true;
      process.stderr.write(`Error response from daemon: ${(e as Error).message}\n`);
    }
  }
  if (failed) throw new CliError('', 1);
}
