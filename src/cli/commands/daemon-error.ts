// docker's CLI shows what the daemon refused as "Error response from daemon: ..." and exits 1;
// hull has no daemon, but its engine errors read the same way to scripts that match on them.
import { CliError } from '../context.ts';

export function daemonError(e: unknown): CliError {
  if (e instanceof CliError) return e;
  process.stderr.write(`Error response from daemon: ${(e as Error).message}\n`);
  return new CliError('', 1);
}

/** An error of docker's CLI itself: its message as it is, exit 1. */
export function clientError(message: string): CliError {
  process.stderr.write(`${message}\n`);
  return new CliError('', 1);
}
