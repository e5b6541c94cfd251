// `hull logs` on real containers: the json-file log the shim writes (and rotates), read back
// with docker's flags, following a running container until it exits.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { waitFor } from './harness.ts';
import { background } from './helpers/cli-session.ts';
import { engine, type Engine } from './helpers/engine.ts';

let e: Engine;
before(() => {
  e = engine();
});
after(() => e.destroy());

function logPath(ref: string): string {
  return JSON.parse(e.ok(['inspect', ref]))[0].LogPath as string;
}

/** Runs a container to its end and returns its name (removed by the caller). */
function ran(name: string, args: string[]): string {
  const r = e.run(['run', '--name', name, ...args]);
  assert.ok(r.status !== null, `run ${name}: ${r.stderr}`);
  return name;
}

const STAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z /;

describe('logs of a finished container', () => {
  it('prints stdout entries to stdout and stderr entries to stderr', () => {
    ran('streams', ['busybox', 'sh', '-c', 'echo out1; echo err1 >&2; echo out2; printf last']);
    const r = e.run(['logs', 'streams']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'out1\nout2\nlast');
    assert.equal(r.stderr, 'err1\n');
    e.ok(['rm', 'streams']);
  });

  it('joins the pieces of a line longer than 16 KiB, each of which is one entry for --tail and -t', () => {
    // "<" is escaped as \u003c, so the first entry's line is longer than one read of the file
    ran('long', ['busybox', 'sh', '-c', "head -c 20000 /dev/zero | tr '\\0' '<'; echo; echo short"]);
    const raw = readFileSync(logPath('long'), 'utf8').trim().split('\n');
    assert.ok(raw[0]!.length > 64 * 1024);
    const lines = raw.map((l) => JSON.parse(l));
    assert.equal(lines.length, 3, 'the shim logs the long line in two entries');
    assert.equal(lines[0].log.length, 16384);
    assert.equal(e.ok(['logs', 'long']), `${'<'.repeat(20000)}\nshort`);
    assert.equal(e.run(['logs', '--tail', '2', 'long']).stdout, `${'<'.repeat(20000 - 16384)}\nshort\n`);
    const stamped = e.run(['logs', '-t', 'long']).stdout;
    const parts = stamped.match(/\d{4}-\d{2}-\d{2}T[\d:.]+Z /g) ?? [];
    assert.equal(parts.length, 3, 'every entry gets its own timestamp, as with docker');
    e.ok(['rm', 'long']);
  });

  it('--tail and -n count entries from the end; all, negative and non-numbers mean all', () => {
    ran('tail', ['busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo l$i; done']);
    assert.equal(e.run(['logs', '--tail', '2', 'tail']).stdout, 'l4\nl5\n');
    assert.equal(e.run(['logs', '-n', '1', 'tail']).stdout, 'l5\n');
    assert.equal(e.run(['logs', '-n', '0', 'tail']).stdout, '');
    assert.equal(e.run(['logs', '-n', '10', 'tail']).stdout, 'l1\nl2\nl3\nl4\nl5\n');
    for (const all of ['all', '-1', 'x']) assert.equal(e.run(['logs', '--tail', all, 'tail']).stdout, 'l1\nl2\nl3\nl4\nl5\n', all);
    e.ok(['rm', 'tail']);
  });

  it('-t prefixes docker\'s fixed RFC 3339 timestamps; --since and --until select by them', () => {
    // the second line is written once the first is in the log, so the two have different times
    ran('times', ['busybox', 'sh', '-c', 'echo first; sleep 0.2; echo second']);
    const stamped = e.ok(['logs', '-t', 'times']).split('\n');
    assert.equal(stamped.length, 2);
    for (const line of stamped) assert.match(line, STAMP);
    const [t1, t2] = stamped.map((l) => l.split(' ')[0]!) as [string, string];
    const raw = readFileSync(logPath('times'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).time as string);
    // the file keeps Go's RFC3339Nano (trailing zeros dropped); -t pads to nine digits
    assert.equal(Date.parse(raw[0]!), Date.parse(t1));
    assert.equal(e.run(['logs', '--since', t2, 'times']).stdout, 'second\n', 'since includes its own time');
    assert.equal(e.run(['logs', '--until', t1, 'times']).stdout, 'first\n', 'until includes its own time');
    const unix = (t: string) => `${Math.floor(Date.parse(t) / 1000)}.${t.split('.')[1]!.slice(0, 9)}`;
    assert.equal(e.run(['logs', '--since', unix(t2), 'times']).stdout, 'second\n', 'unix seconds with a fraction');
    assert.equal(e.run(['logs', '--since', '1h', 'times']).stdout, 'first\nsecond\n', 'a duration back from now');
    assert.equal(e.run(['logs', '--until', '1h', 'times']).stdout, '', 'until an hour ago: nothing yet');
    assert.equal(e.run(['logs', '--since', '2000-01-01', '--until', '2000-01-02T00:00:00Z', 'times']).stdout, '');
    assert.equal(e.run(['logs', '--since', '2000-01-01T00:00:00+01:00', '--tail', '1', 'times']).stdout, 'second\n');
    e.ok(['rm', 'times']);
  });

  it('--details puts the attributes of --log-opt labels/env first, sorted and query-escaped', () => {
    ran('details', [
      '--label', 'app=web', '--label', 'tier=a b&c', '--label', 'other=x',
      '-e', 'FOO=bar', '-e', 'ZED=1', '-e', 'SKIPPED=1',
      '--log-opt', 'labels=app,tier', '--log-opt', 'env=FOO', '--log-opt', 'env-regex=^Z',
      'busybox', 'echo', 'hi',
    ]);
    assert.equal(e.ok(['logs', '--details', 'details']), 'FOO=bar,ZED=1,app=web,tier=a+b%26c hi');
    const both = e.ok(['logs', '--details', '-t', 'details']);
    assert.match(both, /^\S+Z FOO=bar,ZED=1,app=web,tier=a\+b%26c hi$/);
    ran('nodetails', ['busybox', 'echo', 'hi']);
    assert.equal(e.run(['logs', '--details', 'nodetails']).stdout, ' hi\n', 'docker prints the separator even without attributes');
    e.ok(['rm', 'details', 'nodetails']);
  });

  it('shows a terminal container\'s output, all on stdout', () => {
    ran('ttyout', ['-t', 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
    const r = e.run(['logs', 'ttyout']);
    assert.equal(r.stdout, 'out\r\nerr\r\n');
    assert.equal(r.stderr, '');
    e.ok(['rm', 'ttyout']);
  });

  it('a created container has no logs yet', () => {
    e.ok(['create', '--name', 'fresh', 'busybox', 'true']);
    const r = e.run(['logs', 'fresh']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout + r.stderr, '');
    e.ok(['rm', 'fresh']);
  });
});

describe('rotation', () => {
  it('with max-size and max-file, logs shows the entries the files still hold, in order', () => {
    ran('rotated', ['--log-opt', 'max-size=1k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c',
      'i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done']);
    const live = logPath('rotated');
    assert.ok(existsSync(`${live}.1`) && existsSync(`${live}.2`), 'two rotated files beside the live one');
    assert.ok(!existsSync(`${live}.3`), 'max-file 3 keeps three files in all');
    const kept = [`${live}.2`, `${live}.1`, live].flatMap((f) => readFileSync(f, 'utf8').trim().split('\n')).map((l) => JSON.parse(l).log);
    const out = e.ok(['logs', 'rotated']).split('\n');
    assert.deepEqual(out.map((l) => `${l}\n`), kept);
    assert.equal(out.at(-1), 'line-299');
    const first = Number(out[0]!.slice(5));
    assert.ok(first > 0, 'the oldest entries were rotated away');
    assert.deepEqual(out, Array.from({ length: 300 - first }, (_, i) => `line-${first + i}`), 'no gap, no repeat');
    // a tail longer than the live file reaches into the rotated ones
    const liveCount = readFileSync(live, 'utf8').trim().split('\n').length;
    const tail = e.ok(['logs', '--tail', String(liveCount + 2), 'rotated']).split('\n');
    assert.deepEqual(tail, out.slice(-(liveCount + 2)));
    e.ok(['rm', 'rotated']);
  });

  it('with max-file 1 the log is cut back in place', () => {
    ran('onefile', ['--log-opt', 'max-size=1k', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 100 ]; do echo line-$i; i=$((i+1)); done']);
    const out = e.ok(['logs', 'onefile']).split('\n');
    assert.equal(out.at(-1), 'line-99');
    assert.ok(out.length < 100);
    assert.ok(!existsSync(`${logPath('onefile')}.1`));
    e.ok(['rm', 'onefile']);
  });
});

describe('follow', () => {
  it('-f prints entries as they come and ends when the container exits, across rotations', async () => {
    // the container waits for the follower to have printed its first line before it writes on
    // (paced, so that the follower never falls three files behind and loses entries, as docker's would)
    e.ok(['run', '-d', '--name', 'follow', '--log-opt', 'max-size=2k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c',
      'echo start; while [ ! -e /tmp/go ]; do sleep 0.05; done; i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); ' +
      '[ $((i % 10)) = 0 ] && sleep 0.05; done; echo bye >&2; exit 2']);
    const f = background(e, ['logs', '-f', 'follow']);
    await waitFor(() => f.stdout().includes('start\n'), 'the follower to print the first entry');
    e.ok(['exec', 'follow', 'touch', '/tmp/go']);
    const r = await f.done;
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, 'bye\n');
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines, ['start', ...Array.from({ length: 200 }, (_, i) => `line-${i}`)]);
    assert.equal(JSON.parse(e.ok(['inspect', 'follow']))[0].State.Status, 'exited');
    e.ok(['rm', 'follow']);
  });

  it('-f with --tail starts from the tail; long lines and a last line without its end come out whole', async () => {
    e.ok(['run', '-d', '--name', 'ftail', 'busybox', 'sh', '-c',
      'echo a; echo b; echo c; while [ ! -e /tmp/go ]; do sleep 0.05; done; ' +
      "head -c 40000 /dev/zero | tr '\\0' x; echo; printf \"par\"; sleep 0.1; printf tial; exit 0"]);
    await waitFor(() => e.run(['logs', 'ftail']).stdout === 'a\nb\nc\n', 'the first lines in the log');
    const f = background(e, ['logs', '-f', '-n', '1', 'ftail']);
    await waitFor(() => f.stdout() === 'c\n', 'the tail');
    e.ok(['exec', 'ftail', 'touch', '/tmp/go']);
    const r = await f.done;
    assert.equal(r.stdout, `c\n${'x'.repeat(40000)}\npartial`);
    e.ok(['rm', 'ftail']);
  });

  it('-f on a container that is not running prints what there is and ends', () => {
    ran('fstopped', ['busybox', 'echo', 'done']);
    const r = e.run(['logs', '-f', 'fstopped'], { timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'done\n');
    e.ok(['rm', 'fstopped']);
  });

  it('-f --until ends at the until time even while the container runs on', async () => {
    e.ok(['run', '-d', '--name', 'funtil', 'busybox', 'sh', '-c', 'echo early; sleep 1000']);
    await waitFor(() => e.run(['logs', 'funtil']).stdout === 'early\n', 'the first line');
    const until = new Date(Date.now() + 300).toISOString();
    const r = e.run(['logs', '-f', '--until', until, 'funtil'], { timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'early\n');
    e.ok(['rm', '-f', 'funtil']);
  });
});

describe('errors', () => {
  it('a container with log driver none: docker\'s error', () => {
    e.ok(['create', '--name', 'nolog', '--log-driver', 'none', 'busybox', 'true']);
    const r = e.run(['logs', 'nolog']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'Error response from daemon: configured logging driver does not support reading\n');
    e.ok(['rm', 'nolog']);
  });

  it('no such container; bad --since and --until values', () => {
    const r = e.run(['logs', 'nosuch']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'Error response from daemon: No such container: nosuch\n');
    const since = e.run(['logs', '--since', 'yesterday', 'nosuch']);
    assert.equal(since.status, 1);
    assert.equal(since.stderr, 'invalid value for "since": failed to parse value as time or duration: "yesterday"\n');
    const until = e.run(['logs', '--until', '2020-13-01', 'nosuch']);
    assert.equal(until.status, 1);
    assert.equal(until.stderr, 'invalid value for "until": parsing time "2020-13-01": month out of range\n');
  });

  it('a line of the log that is not an entry is reported with its place; the rest is printed', () => {
    ran('corrupt', ['busybox', 'echo', 'good']);
    const path = logPath('corrupt');
    const entry = (text: string) => `${JSON.stringify({ log: text, stream: 'stdout', time: '2024-01-01T00:00:00Z' })}\n`;
    appendFileSync(path, `{"log":"oops\n${entry('after\n')}${'x'.repeat(3 * 1024 * 1024)}\n${entry('end\n')}`);
    const r = e.run(['logs', 'corrupt']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, 'good\nafter\nend\n');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0]!, new RegExp(`^error from daemon in stream: Error grabbing logs: ${path}: line 2: not JSON`));
    assert.match(lines[1]!, /line 4: longer than 1048576 bytes/);
    e.ok(['rm', 'corrupt']);
  });
});
