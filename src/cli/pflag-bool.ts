// pflag lets a boolean flag take a value ("--pause=false", "-p=0"); commander does not. Before
// commander parses, such a spelling becomes the flag itself or its "--no-" form, with pflag's
// error for a value that is not a Go boolean.
import type { Command } from 'commander';
import { CliError } from './context.ts';
import { goQuote, parseBool } from './go-strconv.ts';

export interface PflagBool {
  /** How docker's error names the flag: "-p, --pause". */
  label: string;
  /** What "=true" and "=false" become; null drops the argument. */
  on: string | null;
  off: string | null;
}

/** Installs the rewrite on cmd for these spellings ("--pause", "-p"). */
export function pflagBooleans(cmd: Command, spellings: Record<string, PflagBool>): void {
  const parseOptions = cmd.parseOptions.bind(cmd);
  cmd.parseOptions = (args: string[]) => parseOptions(rewrite(args, spellings));
}

function rewrite(args: string[], spellings: Record<string, PflagBool>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? '' : arg.slice(0, eq);
    const flag = Object.hasOwn(spellings, name) ? spellings[name] : undefined;
    if (!flag) {
      out.push(arg);
      continue;
    }
    const text = arg.slice(eq + 1);
    let on: boolean;
    try {
      on = parseBool(text);
    } catch (e) {
      throw new CliError(`invalid argument ${goQuote(text)} for ${goQuote(flag.label)} flag: ${(e as Error).message}`, 125);
    }
    const replacement = on ? flag.on : flag.off;
    if (replacement !== null) out.push(replacement);
  }
  return out;
}
