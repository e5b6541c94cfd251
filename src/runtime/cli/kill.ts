import type { Command } from 'commander';
import { kill } from '../container.ts';
import type { Context } from './context.ts';

export function register(program: Command, ctx: () => Context): void {
  program
    .command('kill')
    .argument('<container-id>')
    .argument('[signal]', 'signal name or number', 'SIGTERM')
    .option('-a, --all', 'send the signal to every process in the container')
    .description('send a signal to the container')
    .action((id: string, signal: string, f: { all?: boolean }) => kill(ctx().store, id, signal, !!f.all));
}
