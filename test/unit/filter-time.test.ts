// docker's points in time for `until` filters: Go durations back from now, RFC 3339 dates and
// times (local without a zone), unix seconds; and the errors docker gives for the rest.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { FilterTimeError, parseFilterTime, parseGoDuration, rfc3339Nanos } from '../../src/engine/filter-time.ts';

const NOW = Date.parse('2024-01-10T12:00:00.750Z');
const ns = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;
const zone = process.env.TZ;

afterEach(() => {
  if (zone === undefined) delete process.env.TZ;
  else process.env.TZ = zone;
});

test('Go durations, in nanoseconds', () => {
  const cases: [string, bigint | undefined][] = [
    ['0', 0n],
    ['-0', 0n],
    ['300ms', 300_000_000n],
    ['1.5h', 5_400_000_000_000n],
    ['.5m', 30_000_000_000n],
    ['5.s', 5_000_000_000n],
    ['1h30m10s', 5_410_000_000_000n],
    ['-2m', -120_000_000_000n],
    ['+3us', 3_000n],
    ['2µs', 2_000n],
    ['7ns', 7n],
    ['', undefined],
    ['h', undefined],
    ['.h', undefined],
    ['10', undefined],
    ['1d', undefined],
    ['1h 2m', undefined],
    ['99999999999h', undefined],
  ];
  for (const [text, want] of cases) assert.equal(parseGoDuration(text), want, text);
});

test('durations count back from now, in whole seconds as docker does', () => {
  assert.equal(parseFilterTime('24h', NOW), ns('2024-01-09T12:00:00Z'));
  assert.equal(parseFilterTime('90m', NOW), ns('2024-01-10T10:30:00Z'));
  assert.equal(parseFilterTime('-1h', NOW), ns('2024-01-10T13:00:00Z'));
  // "0" is a unix time, not a duration
  assert.equal(parseFilterTime('0', NOW), 0n);
});

test('RFC 3339 dates and times with a zone, and each shorter layout docker accepts', () => {
  process.env.TZ = 'UTC';
  const cases: [string, bigint][] = [
    ['2024-01-02T03:04:05Z', ns('2024-01-02T03:04:05Z')],
    ['2024-01-02T03:04:05.123456789Z', ns('2024-01-02T03:04:05Z') + 123_456_789n],
    ['2024-01-02T03:04:05.5+02:00', ns('2024-01-02T01:04:05.500Z')],
    ['2024-01-02T03:04:05-07:00', ns('2024-01-02T10:04:05Z')],
    ['2024-01-02T03:04+01:00', ns('2024-01-02T02:04:00Z')],
    ['2024-01-02T03Z', ns('2024-01-02T03:00:00Z')],
    ['2024-01-02Z', ns('2024-01-02T00:00:00Z')],
    ['2024-01-02-05:00', ns('2024-01-02T05:00:00Z')],
    ['2024-01-02T3:04:05Z', ns('2024-01-02T03:04:05Z')],
    ['2024-02-29', ns('2024-02-29T00:00:00Z')],
    ['2024-01-02T03:04:05.1234567891Z', ns('2024-01-02T03:04:05Z') + 123_456_789n],
  ];
  for (const [text, want] of cases) assert.equal(parseFilterTime(text, NOW), want, text);
});

test('a time without a zone is in the local zone (its offset as of now, as docker takes it)', () => {
  process.env.TZ = 'Asia/Kolkata'; // +05:30, no daylight saving
  assert.equal(parseFilterTime('2024-01-02T03:04:05', NOW), ns('2024-01-01T21:34:05Z'));
  assert.equal(parseFilterTime('2024-01-02T03:04', NOW), ns('2024-01-01T21:34:00Z'));
  assert.equal(parseFilterTime('2024-01-02T03', NOW), ns('2024-01-01T21:30:00Z'));
  assert.equal(parseFilterTime('2024-01-02', NOW), ns('2024-01-01T18:30:00Z'));
  assert.equal(parseFilterTime('2024-01-02T03:04:05.25', NOW), ns('2024-01-01T21:34:05.250Z'));
  process.env.TZ = 'America/Los_Angeles';
  // in January the offset is -08:00; a July date still gets January's offset, as docker's FixedZone(now) gives
  assert.equal(parseFilterTime('2024-07-01T00:00:00', NOW), ns('2024-07-01T08:00:00Z'));
  // a zone in the value wins
  assert.equal(parseFilterTime('2024-07-01T00:00:00Z', NOW), ns('2024-07-01T00:00:00Z'));
});

test('unix seconds, with a fraction scaled as docker scales it', () => {
  assert.equal(parseFilterTime('1700000000', NOW), 1_700_000_000_000_000_000n);
  assert.equal(parseFilterTime('1700000000.5', NOW), 1_700_000_000_500_000_000n);
  assert.equal(parseFilterTime('1700000000.000000001', NOW), 1_700_000_000_000_000_001n);
  assert.equal(parseFilterTime('10', NOW), 10_000_000_000n);
});

test('what is neither: docker\'s messages', () => {
  const bad: [string, RegExp][] = [
    ['yesterday', /^failed to parse value as time or duration: "yesterday"$/],
    ['1x', /^failed to parse value as time or duration: "1x"$/],
    ['1.2.3', /^failed to parse value as time or duration: "1\.2\.3"$/],
    ['', /^failed to parse value as time or duration: ""$/],
    ['-5', /^parsing time "-5" as "2006-01-02": /],
    ['2024-13-01', /^parsing time "2024-13-01": month out of range$/],
    ['2023-02-29', /^parsing time "2023-02-29": day out of range$/],
    ['2024-04-31T00:00:00Z', /^parsing time "2024-04-31T00:00:00Z": day out of range$/],
    ['2024-01-01T24:00:00Z', /^parsing time "2024-01-01T24:00:00Z": hour out of range$/],
    ['2024-01-01T23:60', /^parsing time "2024-01-01T23:60": minute out of range$/],
    ['2024-01-01T23:59:60', /^parsing time "2024-01-01T23:59:60": second out of range$/],
    ['2024-01-01T10:00:00+25:00', /^parsing time "2024-01-01T10:00:00\+25:00": time zone offset out of range$/],
    ['2024-01-01 10:00:00', /^parsing time "2024-01-01 10:00:00" as "2006-01-02": /],
  ];
  for (const [text, re] of bad) assert.throws(() => parseFilterTime(text, NOW), (e: unknown) => e instanceof FilterTimeError && re.test(e.message), text);
});

test('image configs\' created times, to the nanosecond', () => {
  assert.equal(rfc3339Nanos('2024-01-02T03:04:05.123456789Z'), ns('2024-01-02T03:04:05Z') + 123_456_789n);
  assert.equal(rfc3339Nanos('2024-01-02T03:04:05+01:00'), ns('2024-01-02T02:04:05Z'));
  assert.equal(rfc3339Nanos('2024-01-02'), undefined);
  assert.equal(rfc3339Nanos('not a time'), undefined);
});
