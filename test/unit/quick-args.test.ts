// The quick path of `hull run`/`create` (src/cli/quick-args.ts) against commander, the parser
// it stands in for: over fixed and generated command lines, whatever the quick path accepts,
// commander must accept with the same verb, global options, arguments and options, and the
// container both make must be the same. What it declines, commander parses as before.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command } from 'commander';
import { containerFlagSpecs, parseContainerFlags, type FlagSpec } from '../../src/cli/container-flags.ts';
import type { GlobalOptions } from '../../src/cli/context.ts';
import { defaultGlobalOptions } from '../../src/cli/context.ts';
import { buildProgram } from '../../src/cli/main.ts';
import { quickArgs } from '../../src/cli/quick-args.ts';

interface Parsed {
  names: string[];
  globals: GlobalOptions;
  args: string[];
  opts: Record<string, unknown>;
}

function silence(cmd: Command): void {
  cmd.configureOutput({ writeErr: () => {}, writeOut: () => {}, outputError: () => {} });
  for (const sub of cmd.commands) silence(sub);
}

/** What commander hands the verb for argv, or the error it stops with. */
async function viaCommander(argv: string[]): Promise<Parsed | Error> {
  let got: Parsed | undefined;
  try {
    const program = await buildProgram(argv, async (verb, globals, args, opts) => {
      got = { names: verb.names, globals: { root: globals.root, runroot: globals.runroot, config: globals.config }, args, opts };
    });
    silence(program);
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    return e as Error;
  }
  return got ?? new Error('no verb ran');
}

function outcome(opts: Record<string, unknown>, args: string[]): unknown {
  try {
    return parseContainerFlags(opts, args[0]!, args.slice(1), {});
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

/** Checks argv; true when the quick path took it. */
async function check(argv: string[]): Promise<boolean> {
  const quick = quickArgs(argv);
  if (!quick) return false;
  const slow = await viaCommander(argv);
  const where = `argv: ${JSON.stringify(argv)}`;
  assert.ok(!(slow instanceof Error), `${where}: the quick path accepted what commander refuses (${(slow as Error).message})`);
  assert.ok(slow.names.includes(quick.path), where);
  assert.deepEqual({ ...defaultGlobalOptions(), ...quick.globals }, slow.globals, where);
  assert.deepEqual(quick.args, slow.args, where);
  assert.deepEqual(quick.opts, slow.opts, where);
  assert.deepEqual(outcome(quick.opts, quick.args), outcome(slow.opts, slow.args), where);
  return true;
}

describe('quick-args', () => {
  test('takes the common spellings, as commander reads them', async () => {
    const lines = [
      ['run', '--rm', 'busybox', 'true'],
      ['run', '--rm', '--network', 'none', 'busybox', 'true'],
      ['container', 'run', '-it', '--name', 'x', 'busybox', 'sh'],
      ['run', '-d', '-p', '80:80', '-p=81:81', '-e', 'A=1', '-eB=2', '--env=C=3', 'busybox', 'sleep', '1'],
      ['run', '--rm=false', '-d=true', '--sig-proxy=false', '--no-healthcheck', 'busybox'],
      ['run', '--no-rm', '--no-healthcheck=false', '-it=false', 'busybox', 'ls', '-la'],
      ['run', '--net', 'a', '--network', 'b', '--net-alias', 'x', '--network-alias=y', 'busybox'],
      ['run', '--memory-swap', '-1', '--pids-limit', '-1', '-m', '64m', 'busybox'],
      ['run', '-itu', 'root', '-w/tmp', '-v', '/a:/b:ro', '--tmpfs', '/t', 'busybox', '--', 'x'],
      ['run', '--name', '--rm', 'busybox'],
      ['run', '--entrypoint', '', 'busybox', '--help', '-h'],
      ['create', '--restart', 'always', '--pull=never', 'busybox'],
      ['container', 'create', '-l', 'a=b', '--label', 'c', 'busybox', 'echo'],
      ['--root', '/x', '--runroot=/y', '--config', '/z', 'run', '-q', 'busybox'],
      ['run', '--security-opt', 'no-new-privileges', '--cap-add=NET_ADMIN', '--cap-drop', 'ALL', 'busybox'],
    ];
    for (const argv of lines) assert.ok(await check(argv), `the quick path took ${JSON.stringify(argv)}`);
  });

  test('declines what commander must answer: help, unknown flags, bad booleans, missing values, no image', async () => {
    const lines = [
      ['run', '--help'],
      ['run', '--bogus', 'busybox'],
      ['run', '-Z', 'busybox'],
      ['run', '--rm=maybe', 'busybox'],
      ['run', '-d=2', 'busybox'],
      ['run', '--name'],
      ['run', '-e'],
      ['run', '--rm'],
      ['run', '--', 'busybox'],
      ['run', '-', 'busybox'],
      ['run', '--healthcheck', 'busybox'],
      ['run', '--no-name', 'x', 'busybox'],
      ['create', '-d', 'busybox'],
      ['create', '--sig-proxy', 'busybox'],
      ['-v', 'run', 'busybox'],
      ['--root', 'run', 'busybox'],
      ['--root'],
      ['ps', '-a'],
      ['container', 'ls'],
      [],
    ];
    for (const argv of lines) assert.equal(quickArgs(argv), undefined, JSON.stringify(argv));
  });

  test('agrees with commander over generated command lines', async () => {
    // xorshift32: the same lines at every run, so a failure repeats
    let seed = 0x2545f491;
    const rnd = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
    const VALUES = ['1', '-1', '0', '64m', 'a=b', 'A', '', '=x', '--rm', '-d', 'none', 'host', '1.5', 'always', 'on-failure:3', '/a:/b', 'x y', 'nofile=10:20'];
    // flags that read files: their contents are not what this test compares
    const FILES = new Set(['--env-file', '--label-file']);
    const spell = (spec: FlagSpec): string[] => {
      if (spec.kind === 'bool') {
        const forms = [[spec.long], [`${spec.long}=${pick(['true', 'false', '1', '0', 'T', 'no'])}`]];
        if (!spec.long.startsWith('--no-')) forms.push([`--no-${spec.long.slice(2)}`], [`--no-${spec.long.slice(2)}=${pick(['true', 'false'])}`]);
        if (spec.short) forms.push([spec.short], [`${spec.short}=${pick(['true', 'false'])}`]);
        return pick(forms);
      }
      const v = pick(VALUES);
      const forms = [[spec.long, v], [`${spec.long}=${v}`]];
      if (spec.short) forms.push([spec.short, v], [`${spec.short}${v}`], [`${spec.short}=${v}`]);
      return pick(forms);
    };
    let taken = 0;
    const total = 1500;
    for (let n = 0; n < total; n++) {
      const verb = pick(['run', 'run', 'create'] as const);
      const specs = containerFlagSpecs(verb).filter((s) => !FILES.has(s.long));
      const shortBools = specs.filter((s) => s.short && s.kind === 'bool');
      const shortValues = specs.filter((s) => s.short && s.kind !== 'bool');
      const argv: string[] = [];
      if (rnd(4) === 0) argv.push(...pick([['--root', '/r'], ['--root=/r2'], ['--runroot', '/rr'], ['--config=/c']]));
      if (rnd(4) === 0) argv.push('container');
      argv.push(verb);
      for (let k = rnd(7); k > 0; k--) {
        if (rnd(5) === 0 && shortBools.length > 1) {
          // a cluster of short booleans, maybe ending in a short flag that takes a value
          let cluster = '-' + pick(shortBools).short!.slice(1) + pick(shortBools).short!.slice(1);
          if (rnd(2) === 0) {
            cluster += pick(shortValues).short!.slice(1);
            const v = pick(VALUES);
            if (rnd(2) === 0) argv.push(cluster, v);
            else argv.push(cluster + pick(['', '=']) + v);
          } else argv.push(cluster);
        } else argv.push(...spell(pick(specs)));
      }
      if (rnd(20) === 0) argv.push(pick(['--', '-', '--bogus']));
      if (rnd(12) !== 0) argv.push('busybox', ...pick([[], ['true'], ['ls', '-la'], ['--rm'], ['--', 'x'], ['-h'], ['sh', '-c', 'echo $A']]));
      if (await check(argv)) taken++;
    }
    // most generated lines are well formed: a quick path that declined them all would pass the above
    assert.ok(taken > total / 2, `the quick path took ${taken} of ${total}`);
  });
});
