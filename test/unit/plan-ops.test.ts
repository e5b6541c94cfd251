// native/plan.h and src/runtime/plan/ops.ts are two halves of one contract.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Msg, Op, PLAN_MAGIC, PLAN_VERSION } from '../../src/runtime/plan/ops.ts';

const header = readFileSync(new URL('../../native/plan.h', import.meta.url), 'utf8');

function cEnum(prefix: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of header.matchAll(new RegExp(`\\b${prefix}([A-Z_]+)\\s*=\\s*(\\d+)`, 'g'))) out.set(m[1]!, Number(m[2]));
  return out;
}

test('every opcode has the same number in C and TypeScript', () => {
  const c = cEnum('OP_');
  c.delete('MAX');
  assert.deepEqual(Object.fromEntries(c), { ...Op });
});

test('sync message types agree', () => {
  assert.deepEqual(Object.fromEntries(cEnum('MSG_')), { ...Msg });
});

test('magic and version agree', () => {
  assert.match(header, new RegExp(`PLAN_MAGIC 0x${PLAN_MAGIC.toString(16)}u`));
  assert.match(header, new RegExp(`PLAN_VERSION ${PLAN_VERSION}u`));
});
