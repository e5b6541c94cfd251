// The shape of one CLI verb: its names, its flags, and what it does.
import type { Command } from 'commander';
import type { Context } from '../context.ts';

export interface Verb {
  /** "images" and "image ls" name the same verb. */
  names: string[];
  define(cmd: Command): void;
  run(ctx: Context, args: string[], opts: Record<string, unknown>): Promise<void>;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
