// hull-runtime: an OCI runtime with runc's command line.
import { setDebugSink, setWarnSink } from '../container.ts';
import { HULL_VERSION } from '../features.ts';
import { OCI_VERSION } from '../spec/default.ts';
import { DEFAULT_ROOT } from '../state.ts';
import { UsageError, parse, type Program } from './args.ts';
import { makeContext, type Context, type GlobalOptions } from './context.ts';
import * as createVerb from './create.ts';
import * as deleteVerb from './delete.ts';
import * as eventsVerb from './events.ts';
import * as execVerb from './exec.ts';
import * as featuresVerb from './features.ts';
import * as killVerb from './kill.ts';
import * as listVerb from './list.ts';
import * as pauseVerb from './pause.ts';
import * as psVerb from './ps.ts';
import * as resumeVerb from './resume.ts';
import * as runVerb from './run.ts';
import * as specVerb from './spec.ts';
import * as startVerb from './start.ts';
import * as stateVerb from './state.ts';
import * as updateVerb from './update.ts';

export async function main(argv: string[]): Promise<void> {
  let context: Context | undefined;
  let globals: GlobalOptions = {};
  const ctx = () => (context ??= makeContext(globals));
  const program: Program = {
    name: 'hull-runtime',
    version: `hull-runtime version ${HULL_VERSION}\nspec: ${OCI_VERSION}`,
    globals: [
      { name: 'root', kind: 'string', value: '<path>', default: DEFAULT_ROOT, help: 'root directory for container state (on tmpfs)' },
      { name: 'log', kind: 'string', value: '<path>', help: 'log file (default: stderr only)' },
      { name: 'log-format', kind: 'string', value: '<format>', default: 'text', help: 'log format: text or json' },
      { name: 'debug', kind: 'bool', help: 'enable debug logging' },
      { name: 'systemd-cgroup', kind: 'bool', help: 'use the systemd cgroup driver (not supported)' },
      { name: 'rootless', kind: 'string', value: '<value>', default: 'auto', help: 'accepted for runc compatibility; hull-runtime detects this itself' },
      { name: 'criu', kind: 'string', value: '<path>', help: 'accepted for runc compatibility (checkpointing is not supported)' },
    ],
    verbs: [
      createVerb.verb(ctx), runVerb.verb(ctx), startVerb.verb(ctx), stateVerb.verb(ctx), killVerb.verb(ctx),
      deleteVerb.verb(ctx), listVerb.verb(ctx), execVerb.verb(ctx), psVerb.verb(ctx), pauseVerb.verb(ctx),
      resumeVerb.verb(ctx), eventsVerb.verb(ctx), updateVerb.verb(ctx), featuresVerb.verb, specVerb.verb,
    ],
  };
  try {
    const parsed = parse(program, argv.slice(2));
    globals = parsed.globals as GlobalOptions;
    if (globals.debug) setDebugSink((m) => ctx().log('debug', m));
    setWarnSink((m) => {
      try {
        ctx().log('warning', m);
      } catch {
        process.stderr.write(`hull-runtime: warning: ${m}\n`);
      }
    });
    if (parsed.print !== undefined) {
      process.stdout.write(parsed.print);
      return;
    }
    await parsed.verb!.run(parsed.args, parsed.flags);
  } catch (e) {
    const msg = (e as Error).message;
    if (e instanceof UsageError) {
      process.stderr.write(`${msg}\n`);
    } else {
      try {
        ctx().log('error', msg);
      } catch {
        process.stderr.write(`hull-runtime: ${msg}\n`);
      }
    }
    process.exitCode = 1;
  }
}

void main(process.argv);
