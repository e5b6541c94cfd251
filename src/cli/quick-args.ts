// `hull run` and `hull create` without commander. Loading commander and defining run's ~90 flags
// (and their hidden --no-<flag> twins) cost ~3 ms of every `run --rm`, a twentieth of it. This
// reads the common spellings into exactly the arguments and options commander hands the verb,
// as pflagToCommander and commander together read them, from the same flag table. It decides
// nothing: help, a flag it does not know, a bad boolean, a missing value or image, and `--`
// before the image all return undefined, and commander then parses and reports as always.
// test/unit/quick-args.test.ts holds the two parsers equal over generated command lines.
import { containerFlagSpecs, type FlagSpec, type FlagValue } from './container-flags.ts';
import { GLOBAL_OPTIONS } from './context.ts';
import { parseBool } from './go-strconv.ts';

export interface QuickArgs {
  /** The verb's name as typed: "run", "container create". */
  path: string;
  /** The global options given before the verb. */
  globals: { root?: string; runroot?: string; config?: string };
  /** The image and the command after it. */
  args: string[];
  opts: Record<string, unknown>;
}

export function quickArgs(argv: string[]): QuickArgs | undefined {
  const globals: QuickArgs['globals'] = {};
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (!GLOBAL_OPTIONS.has(name)) return undefined;
    const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) return undefined;
    globals[name.slice(2) as keyof QuickArgs['globals']] = value;
  }
  const group = argv[i] === 'container';
  const verb = argv[group ? i + 1 : i];
  if (verb !== 'run' && verb !== 'create') return undefined;
  const parsed = containerOpts(verb, argv.slice(i + (group ? 2 : 1)));
  return parsed && { path: group ? `container ${verb}` : verb, globals, ...parsed };
}

function containerOpts(verb: 'run' | 'create', words: string[]): { args: string[]; opts: Record<string, unknown> } | undefined {
  const byLong = new Map<string, FlagSpec>();
  const byShort = new Map<string, FlagSpec>();
  const opts: Record<string, unknown> = {};
  for (const spec of containerFlagSpecs(verb)) {
    byLong.set(spec.long, spec);
    if (spec.short) byShort.set(spec.short, spec);
    if (spec.defaultValue !== undefined) opts[spec.attr] = spec.defaultValue;
    // commander gives a --no-<flag> with no positive twin the default true
    else if (spec.long.startsWith('--no-')) opts[spec.attr] = true;
  }
  const merged = new Map<string, FlagValue[]>();
  const give = (spec: FlagSpec, value: string) => {
    if (spec.shared) {
      const list = merged.get(spec.shared) ?? [];
      merged.set(spec.shared, list);
      list.push({ flag: spec.long, value });
      opts[spec.attr] = list;
    } else if (spec.kind === 'list') opts[spec.attr] = [...((opts[spec.attr] as string[] | undefined) ?? []), value];
    else opts[spec.attr] = value;
  };
  /** A boolean set by name (--rm, --no-rm) and pflag's optional "=<bool>"; false for a bad one. */
  const setBool = (spec: FlagSpec, negated: boolean, text: string | undefined): boolean => {
    let on = true;
    if (text !== undefined) {
      try {
        on = parseBool(text);
      } catch {
        return false;
      }
    }
    // --no-x=false says nothing, as pflagToCommander drops it
    if (negated || spec.long.startsWith('--no-')) {
      if (on) opts[spec.attr] = false;
    } else opts[spec.attr] = on;
    return true;
  };

  for (let i = 0; i < words.length; i++) {
    const arg = words[i]!;
    if (arg === '--' || arg === '-') return undefined;
    if (!arg.startsWith('-')) return { args: words.slice(i), opts };
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg : arg.slice(0, eq);
      const text = eq < 0 ? undefined : arg.slice(eq + 1);
      const spec = byLong.get(name);
      if (!spec) {
        // the hidden --no-<flag> of a boolean
        const positive = name.startsWith('--no-') ? byLong.get(`--${name.slice(5)}`) : undefined;
        if (positive?.kind !== 'bool' || positive.long.startsWith('--no-')) return undefined;
        if (!setBool(positive, true, text)) return undefined;
      } else if (spec.kind === 'bool') {
        if (!setBool(spec, false, text)) return undefined;
      } else {
        const value = text ?? words[++i];
        if (value === undefined) return undefined;
        give(spec, value);
      }
      continue;
    }
    for (let k = 1; k < arg.length; k++) {
      const spec = byShort.get(`-${arg[k]}`);
      if (!spec) return undefined;
      if (spec.kind === 'bool') {
        if (arg[k + 1] === '=') {
          if (!setBool(spec, false, arg.slice(k + 2))) return undefined;
          break;
        }
        setBool(spec, false, undefined);
        continue;
      }
      const value = arg[k + 1] === '=' ? arg.slice(k + 2) : k + 1 < arg.length ? arg.slice(k + 1) : words[++i];
      if (value === undefined) return undefined;
      give(spec, value);
      break;
    }
  }
  // no image: commander's error
  return undefined;
}
