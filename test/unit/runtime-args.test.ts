// hull-runtime's runc-style argument grammar.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError, parse, type Program, type Verb } from '../../src/runtime/cli/args.ts';

const noop = () => {};
const verbs: Verb[] = [
  {
    name: 'create', args: '<id>', help: '', min: 1, max: 1, run: noop,
    flags: [
      { name: 'bundle', short: 'b', kind: 'string', default: '.', help: '' },
      { name: 'no-pivot', kind: 'bool', help: '' },
      { name: 'preserve-fds', kind: 'uint', default: 0, help: '' },
    ],
  },
  { name: 'kill', args: '<id> [signal]', help: '', min: 1, max: 2, run: noop, flags: [{ name: 'all', short: 'a', kind: 'bool', help: '' }] },
  {
    name: 'exec', args: '<id> <cmd>', help: '', min: 1, stopAtFirstArg: true, run: noop,
    flags: [
      { name: 'env', short: 'e', kind: 'list', help: '' },
      { name: 'tty', short: 't', kind: 'bool', help: '' },
    ],
  },
  { name: 'list', aliases: ['ls'], args: '', help: '', min: 0, max: 0, run: noop, flags: [] },
];
const program: Program = {
  name: 'rt', version: 'rt 1', verbs,
  globals: [
    { name: 'root', kind: 'string', default: '/run/x', help: '' },
    { name: 'debug', kind: 'bool', help: '' },
  ],
};

test('global flags come before the verb, in both spellings', () => {
  const p = parse(program, ['--root', '/r', '--debug', 'create', 'c1']);
  assert.equal(p.globals.root, '/r');
  assert.equal(p.globals.debug, true);
  assert.equal(p.verb!.name, 'create');
  assert.deepEqual(p.args, ['c1']);
  assert.equal(parse(program, ['--root=/s', 'list']).globals.root, '/s');
  assert.equal(parse(program, ['list']).globals.root, '/run/x', 'default');
});

test('verb flags: long, short, =value, single dash, defaults, uint', () => {
  const p = parse(program, ['create', '-b', '/b', '--no-pivot', '--preserve-fds=2', 'c1']);
  assert.deepEqual(p.flags, { bundle: '/b', noPivot: true, preserveFds: 2 });
  assert.equal(parse(program, ['create', '-bundle', '/x', 'c']).flags.bundle, '/x');
  assert.deepEqual(parse(program, ['create', 'c']).flags, { bundle: '.', noPivot: undefined, preserveFds: 0 });
  assert.throws(() => parse(program, ['create', '--preserve-fds', 'x', 'c']), /non-negative integer/);
});

test('exec stops at the first argument: the command keeps its own flags', () => {
  const p = parse(program, ['exec', '-e', 'A=1', '--env', 'B=2', '-t', 'c1', 'ls', '-la', '--tty']);
  assert.deepEqual(p.args, ['c1', 'ls', '-la', '--tty']);
  assert.deepEqual(p.flags.env, ['A=1', 'B=2']);
  assert.equal(p.flags.tty, true);
});

test('kill takes a signal, also written as -9', () => {
  assert.deepEqual(parse(program, ['kill', '--all', 'c1', 'KILL']).args, ['c1', 'KILL']);
  assert.deepEqual(parse(program, ['kill', 'c1', '-9']).args, ['c1', '-9']);
  assert.equal(parse(program, ['kill', 'c1', 'TERM', '-a']).flags.all, true);
});

test('errors: unknown verb, unknown flag, missing value, wrong argument count', () => {
  assert.throws(() => parse(program, ['nope']), UsageError);
  assert.throws(() => parse(program, ['create', '--bogus', 'c']), /flag provided but not defined: --bogus/);
  assert.throws(() => parse(program, ['create', 'c', '--bundle']), /needs an argument/);
  assert.throws(() => parse(program, ['create']), /takes 1 argument/);
  assert.throws(() => parse(program, ['kill', 'a', 'b', 'c']), /takes 1 to 2/);
  assert.throws(() => parse(program, ['create', '--no-pivot=maybe', 'c']), /takes no value/);
});

test('help and version print instead of running', () => {
  assert.match(parse(program, ['--help']).print!, /COMMANDS:[\s\S]*create/);
  assert.match(parse(program, ['create', '--help']).print!, /--preserve-fds/);
  assert.match(parse(program, ['help', 'kill']).print!, /--all/);
  assert.equal(parse(program, ['-v']).print, 'rt 1\n');
  assert.ok(parse(program, []).print, 'no verb shows help');
  assert.equal(parse(program, ['exec', 'c1', 'grep', '--help']).print, undefined, "the command's own --help");
  assert.equal(parse(program, ['ls']).verb!.name, 'list');
});
