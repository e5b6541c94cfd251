// `hull`: the docker-compatible CLI. Each verb lives in its own file under commands/ and is
// registered here, at the top level and under its management command (`image ls` = `images`).
import type { Command } from 'commander';
import { CliError, Context, defaultGlobalOptions, GLOBAL_OPTIONS, type GlobalOptions } from './context.ts';
import { verbs, type Verb, type VerbEntry } from './commands/index.ts';
import { quickArgs } from './quick-args.ts';

const VERSION = '0.1.0';

/** What runs a verb once its arguments are parsed: the verb itself, or a test's recorder. */
export type Runner = (verb: Verb, globals: GlobalOptions, args: string[], opts: Record<string, unknown>) => Promise<void>;

const runVerb: Runner = (verb, globals, args, opts) => verb.run(new Context(globals), args, opts);

export async function main(argv: string[]): Promise<number> {
  // commander is loaded only when the quick path for run/create declines (quick-args.ts)
  let commander: typeof import('commander') | undefined;
  try {
    const quick = quickArgs(argv);
    if (quick) {
      const loaded = [await verbs.find((v) => v.names.includes(quick.path))!.load()].flat();
      const verb = loaded.find((v) => v.names.includes(quick.path))!;
      await runVerb(verb, { ...defaultGlobalOptions(), ...quick.globals }, quick.args, quick.opts);
      return 0;
    }
    commander = await import('commander');
    await (await buildProgram(argv, runVerb)).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (commander && err instanceof commander.CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return 0;
      // docker: a wrong number of arguments exits 1, a bad flag 125
      if (err.code === 'commander.missingArgument' || err.code === 'commander.excessArguments') return 1;
      return 125;
    }
    if (err instanceof CliError) {
      if (err.message) process.stderr.write(`Error: ${err.message}\n`);
      return err.status;
    }
    process.stderr.write(`Error: ${(err as Error).message ?? err}\n`);
    if (process.env.HULL_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return 1;
  }
}

/** The commander program for argv, with the verbs it names; `run` runs the one parsed. */
export async function buildProgram(argv: string[], run: Runner): Promise<Command> {
  const { Command } = await import('commander');
  const defaults = defaultGlobalOptions();
  const program = new Command('hull')
    .description('A container engine for Linux, docker-compatible')
    .enablePositionalOptions()
    .passThroughOptions()
    .option('--root <dir>', 'image and container state', defaults.root)
    .option('--runroot <dir>', 'runtime state', defaults.runroot)
    .option('--config <dir>', 'location of client config files (credentials)', defaults.config)
    .option('-v, --version', 'print version information and quit')
    .exitOverride()
    .configureOutput({ outputError: (text, out) => out(text) });
  const globals = () => program.opts() as GlobalOptions;
  const groups = new Map<string, Command>();
  const { loaded, path: asked } = await verbsFor(argv);
  for (const verb of loaded) {
    // only the name typed is defined: each other name would define every flag of the verb again
    // (~0.5 ms for `run`'s ~90)
    const names = asked === undefined || !loaded.some((v) => v.names.includes(asked)) ? verb.names : verb.names.filter((n) => n === asked);
    for (const path of names) {
      const parts = path.split(' ');
      let parent = program;
      for (const g of parts.slice(0, -1)) {
        let group = groups.get(g);
        if (!group) {
          group = program.command(g).description(`Manage ${g}s`).enablePositionalOptions().passThroughOptions();
          groups.set(g, group);
        }
        parent = group;
      }
      attach(parent.command(parts.at(-1)!), verb, globals, run);
    }
  }
  program.action(() => {
    if (program.opts().version) process.stdout.write(`hull version ${VERSION}\n`);
    else program.outputHelp();
  });
  return program;
}

function attach(cmd: Command, verb: Verb, globals: () => GlobalOptions, run: Runner): void {
  cmd.exitOverride().configureOutput({ outputError: (text, out) => out(text) });
  verb.define(cmd);
  cmd.action(async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    await run(verb, globals(), command.args, command.opts());
  });
}

/** The verb path argv asks for ("run", "image ls"), skipping global options. */
function requested(argv: string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const a = argv[i]!;
    if (words.length === 0 && GLOBAL_OPTIONS.has(a)) i++;
    else if (a.startsWith('-')) {
      if (words.length > 0) break;
    } else words.push(a);
  }
  return words;
}

/**
 * Only the verb that runs is loaded, with the name it was asked by; help and unknown verbs load
 * them all, with no name.
 */
async function verbsFor(argv: string[]): Promise<{ loaded: Verb[]; path?: string }> {
  const words = requested(argv);
  const pick = (path: string) => {
    const entry = verbs.find((v: VerbEntry) => v.names.includes(path));
    return entry && { entry, path };
  };
  const picked = (words.length > 1 && pick(words.join(' '))) || (words[0] !== undefined && pick(words[0])) || undefined;
  if (!picked || argv.includes('--help') || argv.includes('-h')) return { loaded: (await Promise.all(verbs.map((e) => e.load()))).flat() };
  return { loaded: [await picked.entry.load()].flat(), path: picked.path };
}
