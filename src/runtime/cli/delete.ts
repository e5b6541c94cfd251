import type { Command } from 'commander';
import { remove } from '../container.ts';
import type { Context } from './context.ts';

export function register(program: Command, ctx: () => Context): void {
  program
    .command('delete')
    .argument('<container-id>')
    .option('-f, --force', 'kill the container first if it is still running')
    .description('delete a container and everything it holds')
    .action((id: string, f: { force?: boolean }) => remove(ctx().store, id, !!f.force));
}
