// hull-runtime: an OCI runtime with runc's command line.
import { Command, CommanderError } from 'commander';
import { setWarnSink } from '../container.ts';
import { HULL_VERSION } from '../features.ts';
import { OCI_VERSION } from '../spec/default.ts';
import { makeContext, type Context, type GlobalOptions } from './context.ts';
import * as createVerb from './create.ts';
import * as deleteVerb from './delete.ts';
import * as execVerb from './exec.ts';
import * as featuresVerb from './features.ts';
import * as killVerb from './kill.ts';
import * as listVerb from './list.ts';
import * as psVerb from './ps.ts';
import * as runVerb from './run.ts';
import * as specVerb from './spec.ts';
import * as startVerb from './start.ts';
import * as stateVerb from './state.ts';

export async function main(argv: string[]): Promise<void> {
  const program = new Command('hull-runtime')
    .description('hull-runtime: an OCI runtime for Linux with a runc-compatible command line')
    .version(`hull-runtime version ${HULL_VERSION}\nspec: ${OCI_VERSION}`, '-v, --version')
    .enablePositionalOptions()
    .option('--root <path>', 'root directory for container state (on tmpfs)', '/run/hull-runtime')
    .option('--log <path>', 'log file (default: stderr only)')
    .option('--log-format <format>', 'log format: text or json', 'text')
    .option('--debug', 'enable debug logging')
    .option('--systemd-cgroup', 'use the systemd cgroup driver (not supported)')
    .option('--rootless <value>', 'accepted for runc compatibility; hull-runtime detects this itself', 'auto')
    .option('--criu <path>', 'accepted for runc compatibility (checkpointing is not supported)')
    .exitOverride();

  let context: Context | undefined;
  const ctx = () => (context ??= makeContext(program.opts<GlobalOptions>()));
  for (const verb of [createVerb, runVerb, startVerb, stateVerb, killVerb, deleteVerb, listVerb, execVerb, psVerb]) {
    verb.register(program, ctx);
  }
  featuresVerb.register(program);
  specVerb.register(program);

  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode;
      return;
    }
    const msg = (e as Error).message;
    try {
      ctx().log('error', msg);
    } catch {
      process.stderr.write(`hull-runtime: ${msg}\n`);
    }
    process.exitCode = 1;
  }
  if (context) setWarnSink((m) => context!.log('warning', m));
}

await main(process.argv);
