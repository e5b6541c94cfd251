// Docker's exit statuses for container verbs: 125 for the engine's own errors, 126/127 when the
// container's command cannot be run or found.
import { CommandError } from '../../engine/containers/lifecycle.ts';
import { CliError } from '../context.ts';

export function asCliError(e: unknown): CliError {
  if (e instanceof CliError) return e;
  if (e instanceof CommandError) return new CliError(e.message, e.status);
  return new CliError((e as Error).message, 125);
}
