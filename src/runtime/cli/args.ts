// runc's command-line grammar (urfave/cli): global flags, a verb, its flags, its arguments.
//
// hull-runtime does not use commander, unlike the hull CLI: importing commander costs ~9 ms
// of cold start (it loads child_process and more at import), and containerd and Podman start
// this program several times per container. See BENCHMARKS.md.

export type FlagKind = 'bool' | 'string' | 'uint' | 'list';

export interface Flag {
  /** Long name without dashes, as runc spells it ("pid-file", "no-pivot"). */
  name: string;
  short?: string;
  kind: FlagKind;
  value?: string;
  help: string;
  default?: string | number | boolean;
}

export type Values = Record<string, string | number | boolean | string[] | undefined>;

export interface Verb {
  name: string;
  aliases?: string[];
  args: string;
  help: string;
  flags: Flag[];
  /** Fewest and most positional arguments. */
  min: number;
  max?: number;
  /** exec and ps: after the container id, everything is the command (flags included). */
  stopAtFirstArg?: boolean;
  run(args: string[], flags: Values): Promise<void> | void;
}

export class UsageError extends Error {}

/** camelCase key for a flag: "pid-file" -> "pidFile". */
export function key(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function defaults(flags: Flag[]): Values {
  const out: Values = {};
  for (const f of flags) out[key(f.name)] = f.kind === 'list' ? [] : f.default;
  return out;
}

function setValue(out: Values, f: Flag, raw: string | undefined, where: string): void {
  const k = key(f.name);
  if (f.kind === 'bool') {
    if (raw === undefined || raw === 'true') out[k] = true;
    else if (raw === 'false') out[k] = false;
    else throw new UsageError(`${where}: --${f.name} takes no value (got ${JSON.stringify(raw)})`);
    return;
  }
  if (raw === undefined) throw new UsageError(`${where}: flag --${f.name} needs a value`);
  if (f.kind === 'uint') {
    if (!/^\d+$/.test(raw)) throw new UsageError(`${where}: --${f.name}: ${JSON.stringify(raw)} is not a non-negative integer`);
    out[k] = Number(raw);
  } else if (f.kind === 'list') {
    (out[k] as string[]).push(raw);
  } else {
    out[k] = raw;
  }
}

/**
 * Parses flags from argv starting at i, as long as they come before the positional
 * arguments (or anywhere, unless stopAtFirstArg). Returns the positionals.
 */
function parseFlags(argv: string[], flags: Flag[], out: Values, where: string, stopAtFirstArg: boolean): string[] {
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    // "-9" is kill's signal, not a flag
    if (!a.startsWith('-') || a === '-' || /^-\d+$/.test(a) || (stopAtFirstArg && positional.length > 0)) {
      positional.push(a);
      continue;
    }
    const long = a.startsWith('--');
    const body = a.slice(long ? 2 : 1);
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    // urfave/cli takes -name and --name alike
    const f = flags.find((x) => x.name === name || x.short === name);
    if (!f) throw new UsageError(`${where}: flag provided but not defined: ${a}`);
    let raw = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (raw === undefined && f.kind !== 'bool') {
      raw = argv[++i];
      if (raw === undefined) throw new UsageError(`${where}: flag needs an argument: ${a}`);
    }
    setValue(out, f, raw, where);
  }
  return positional;
}

export interface Program {
  name: string;
  version: string;
  globals: Flag[];
  verbs: Verb[];
}

export interface Parsed {
  globals: Values;
  verb?: Verb;
  args: string[];
  flags: Values;
  /** Text to print instead of running anything (--help, --version). */
  print?: string;
}

export function parse(p: Program, argv: string[]): Parsed {
  const globals = defaults(p.globals);
  let i = 0;
  const globalArgs: string[] = [];
  while (i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '--') {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') return { globals, args: [], flags: {}, print: help(p) };
    if (a === '-v' || a === '--version') return { globals, args: [], flags: {}, print: p.version + '\n' };
    globalArgs.push(a);
    const name = a.replace(/^--?/, '').split('=')[0];
    const f = p.globals.find((x) => x.name === name || x.short === name);
    if (f && f.kind !== 'bool' && !a.includes('=')) globalArgs.push(argv[++i] ?? '');
    i++;
  }
  parseFlags(globalArgs, p.globals, globals, p.name, false);
  const verbName = argv[i];
  if (verbName === undefined) return { globals, args: [], flags: {}, print: help(p) };
  if (verbName === 'help') {
    const v = p.verbs.find((x) => x.name === argv[i + 1]);
    return { globals, args: [], flags: {}, print: v ? verbHelp(p, v) : help(p) };
  }
  const verb = p.verbs.find((v) => v.name === verbName || v.aliases?.includes(verbName));
  if (!verb) throw new UsageError(`${p.name}: unknown command ${JSON.stringify(verbName)}; see "${p.name} --help"`);
  const rest = argv.slice(i + 1);
  if (rest.some((a, j) => (a === '-h' || a === '--help') && !(verb.stopAtFirstArg && rest.slice(0, j).some((x) => !x.startsWith('-'))))) {
    return { globals, verb, args: [], flags: {}, print: verbHelp(p, verb) };
  }
  const flags = defaults(verb.flags);
  const args = parseFlags(rest, verb.flags, flags, `${p.name} ${verb.name}`, !!verb.stopAtFirstArg);
  if (args.length < verb.min || (verb.max !== undefined && args.length > verb.max)) {
    const want = verb.max === verb.min ? `${verb.min}` : verb.max === undefined ? `at least ${verb.min}` : `${verb.min} to ${verb.max}`;
    throw new UsageError(`${p.name} ${verb.name}: takes ${want} argument(s), got ${args.length}; usage: ${p.name} ${verb.name} ${verb.args}`);
  }
  return { globals, verb, args, flags };
}

function flagLines(flags: Flag[]): string {
  const rows = flags.map((f) => {
    const names = `${f.short ? `-${f.short}, ` : ''}--${f.name}${f.value ? ` ${f.value}` : ''}`;
    const def = f.default !== undefined && f.default !== false ? ` (default: ${JSON.stringify(f.default)})` : '';
    return [names, f.help + def];
  });
  const w = Math.max(0, ...rows.map((r) => r[0]!.length));
  return rows.map(([a, b]) => `   ${a!.padEnd(w)}   ${b}`).join('\n');
}

function help(p: Program): string {
  const w = Math.max(...p.verbs.map((v) => v.name.length));
  return [
    `${p.name}: an OCI runtime for Linux with a runc-compatible command line`,
    '',
    `USAGE: ${p.name} [global options] command [command options] [arguments...]`,
    '',
    'COMMANDS:',
    ...p.verbs.map((v) => `   ${v.name.padEnd(w)}   ${v.help}`),
    '',
    'GLOBAL OPTIONS:',
    flagLines(p.globals),
    '   -h, --help   show help',
    '   -v, --version   print the version',
    '',
  ].join('\n');
}

function verbHelp(p: Program, v: Verb): string {
  return [`${p.name} ${v.name} - ${v.help}`, '', `USAGE: ${p.name} ${v.name} [command options] ${v.args}`, '', 'OPTIONS:', flagLines(v.flags), ''].join('\n');
}
