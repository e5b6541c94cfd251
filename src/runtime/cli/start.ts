import type { Command } from 'commander';
import { start } from '../container.ts';
import type { Context } from './context.ts';

export function register(program: Command, ctx: () => Context): void {
  program
    .command('start')
    .argument('<container-id>')
    .description('start the user process of a created container')
    .action(async (id: string) => start(ctx().store, id));
}
