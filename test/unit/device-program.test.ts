// Device rules: the eBPF device filter run through an interpreter written here, and the v1
// state, both against a plain reading of the rules (each access letter decided by the last
// rule that names the device and that letter; deny before any rule).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyDevices, effectiveDeviceRules, parseDevicesList, v1Writes } from '../../src/runtime/cgroups/devices.ts';
import { ACC, ANY, deviceProgram, deviceState, type DeviceState } from '../../src/runtime/cgroups/device-program.ts';
import { Alu, Jmp, R0, R2, alu32, alu64, assemble, exit, jmp32, label, ldx, Size } from '../../src/runtime/cgroups/ebpf.ts';
import { defaultSpec } from '../../src/runtime/spec/default.ts';
import type { Device, DeviceRule, Spec } from '../../src/runtime/spec/types.ts';

// ---- the interpreter ----------------------------------------------------------------------

const CTX = 0x10000000n;
const M64 = (1n << 64n) - 1n;
const M32 = (1n << 32n) - 1n;

/**
 * Runs a BPF_PROG_TYPE_CGROUP_DEVICE program on one request. Knows exactly the instructions
 * a device filter needs and throws on any other, on a read outside the context, on an
 * uninitialised register, on a jump out of the program and on a return value other than 0/1.
 */
function run(program: Uint8Array, type: number, access: number, major: number, minor: number): 0 | 1 {
  assert.equal(program.length % 8, 0);
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const ctx = new DataView(new ArrayBuffer(12));
  ctx.setUint32(0, ((access << 16) | type) >>> 0, true);
  ctx.setUint32(4, major >>> 0, true);
  ctx.setUint32(8, minor >>> 0, true);
  const reg: (bigint | undefined)[] = new Array(11).fill(undefined);
  reg[1] = CTX;
  reg[10] = 0x20000000n;
  const get = (r: number) => {
    const v = reg[r];
    if (v === undefined) throw new Error(`read of uninitialised r${r}`);
    return v;
  };
  const n = program.length / 8;
  for (let pc = 0, steps = 0; ; pc++, steps++) {
    if (pc < 0 || pc >= n) throw new Error(`pc ${pc} outside the program`);
    if (steps > 100_000) throw new Error('no exit');
    const code = view.getUint8(pc * 8);
    const dst = view.getUint8(pc * 8 + 1) & 0xf;
    const src = view.getUint8(pc * 8 + 1) >> 4;
    const off = view.getInt16(pc * 8 + 2, true);
    const imm = view.getInt32(pc * 8 + 4, true);
    const cls = code & 7;
    const op = code & 0xf0;
    const useReg = (code & 8) !== 0;
    if (cls === 0x01) {
      if (code !== 0x61) throw new Error(`unsupported load 0x${code.toString(16)}`);
      const at = get(src) - CTX + BigInt(off);
      if (at < 0n || at + 4n > 12n || at % 4n !== 0n) throw new Error(`context read at ${at}`);
      reg[dst] = BigInt(ctx.getUint32(Number(at), true));
    } else if (cls === 0x04 || cls === 0x07) {
      const wide = cls === 0x07;
      const operand = useReg ? get(src) : BigInt(imm) & M64; // imm sign-extends
      const a = op === 0xb0 ? 0n : get(dst);
      let v: bigint;
      if (op === 0xb0) v = operand;
      else if (op === 0x50) v = a & operand;
      else if (op === 0x70) v = (wide ? a : a & M32) >> (operand & (wide ? 63n : 31n));
      else throw new Error(`unsupported alu op 0x${code.toString(16)}`);
      reg[dst] = wide ? v & M64 : v & M32;
    } else if (cls === 0x05 || cls === 0x06) {
      if (code === 0x95) {
        const r0 = get(0);
        if (r0 !== 0n && r0 !== 1n) throw new Error(`returns ${r0}`);
        return Number(r0) as 0 | 1;
      }
      if (code === 0x05) {
        pc += off;
        continue;
      }
      const narrow = cls === 0x06;
      const mask = narrow ? M32 : M64;
      const a = get(dst) & mask;
      const b = (useReg ? get(src) : BigInt(imm) & M64) & mask;
      let taken: boolean;
      if (op === Jmp.JEQ) taken = a === b;
      else if (op === Jmp.JNE) taken = a !== b;
      else if (op === Jmp.JSET) taken = (a & b) !== 0n;
      else throw new Error(`unsupported jump 0x${code.toString(16)}`);
      if (taken) pc += off;
    } else {
      throw new Error(`unsupported instruction class ${cls}`);
    }
  }
}

// ---- the reference ------------------------------------------------------------------------

const TYPES = { b: 1, c: 2 } as const;

/** Each letter asked for is decided by the last rule naming the device and that letter. */
function reference(rules: readonly DeviceRule[], type: 'b' | 'c', major: number, minor: number, access: string): boolean {
  for (const letter of access) {
    let allowed = false;
    for (const r of rules) {
      const t = r.type || 'a';
      if (t !== 'a' && t !== type) continue;
      if (r.major !== undefined && r.major !== -1 && r.major !== major) continue;
      if (r.minor !== undefined && r.minor !== -1 && r.minor !== minor) continue;
      if (!r.access!.includes(letter)) continue;
      allowed = r.allow;
    }
    if (!allowed) return false;
  }
  return true;
}

/** The v1 kernel's own check of a devices cgroup (security/device_cgroup.c). */
function kernelV1(s: DeviceState, type: 'b' | 'c', major: number, minor: number, access: number): boolean {
  const hits = s.exceptions.filter(
    (e) => e.type === type && (e.major === ANY || e.major === major) && (e.minor === ANY || e.minor === minor),
  );
  if (s.defaultAllow) return !hits.some((e) => (e.access & access) !== 0); // match_exception_partial
  return hits.some((e) => (access & ~e.access) === 0); // match_exception
}

const bits = (a: string) => (a.includes('r') ? ACC.r : 0) | (a.includes('w') ? ACC.w : 0) | (a.includes('m') ? ACC.m : 0);

const ACCESSES = ['r', 'w', 'm', 'rw', 'rm', 'wm', 'rwm'];
const MAJORS = [0, 1, 5, 7, 254, 4095, 0x7fffffff, 0xfffffffe];
const MINORS = [0, 3, 5, 9, 1048575];

/** Compares the program and the v1 state with the reference on every tuple of the grid. */
function checkAll(rules: DeviceRule[], what: string): void {
  const state = deviceState(rules);
  const program = deviceProgram(state);
  for (const type of ['b', 'c'] as const) {
    for (const major of MAJORS) {
      for (const minor of MINORS) {
        for (const access of ACCESSES) {
          const want = reference(rules, type, major, minor, access);
          const got = run(program, TYPES[type], bits(access), major, minor) === 1;
          const tuple = `${type} ${major}:${minor} ${access}`;
          assert.equal(got, want, `${what}: program says ${got ? 'allow' : 'deny'} for ${tuple}\n${JSON.stringify(rules)}`);
          assert.equal(kernelV1(state, type, major, minor, bits(access)), want, `${what}: v1 state is wrong for ${tuple}\n${JSON.stringify(rules)}`);
        }
      }
    }
  }
}

// A small deterministic generator, so a failure can be replayed.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomRule(rand: () => number): DeviceRule {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const x = rand();
  if (x < 0.08) return { allow: rand() < 0.5, access: 'rwm' }; // a reset
  const rule: DeviceRule = { allow: rand() < 0.5, access: pick(ACCESSES) };
  const t = pick(['a', 'b', 'c', 'c', '']);
  if (t) rule.type = t;
  const major = pick([undefined, -1, 1, 5, 254, 0xfffffffe]);
  const minor = pick([undefined, -1, 3, 5, 1048575]);
  if (major !== undefined) rule.major = major;
  if (minor !== undefined) rule.minor = minor;
  return rule;
}

// ---- tests --------------------------------------------------------------------------------

test('the assembler encodes instructions as struct bpf_insn and resolves labels forward', () => {
  const bytes = assemble([
    ldx(Size.W, R2, 1, 8),
    alu32(Alu.RSH, R2, 16),
    jmp32(Jmp.JNE, R2, 0xfffffffe, 'out'),
    alu64(Alu.MOV, R0, 1),
    exit(),
    label('out'),
    alu64(Alu.MOV, R0, 0),
    exit(),
  ]);
  const hex = Buffer.from(bytes).toString('hex').match(/.{16}/g);
  assert.deepEqual(hex, [
    '6112080000000000', // ldxw r2, [r1+8]
    '7402000010000000', // rsh32 r2, 16
    '56020200feffffff', // jne32 r2, 0xfffffffe, +2
    'b700000001000000', // mov r0, 1
    '9500000000000000', // exit
    'b700000000000000',
    '9500000000000000',
  ]);
  assert.throws(() => assemble([jmp32(Jmp.JEQ, R2, 0, 'nowhere'), exit()]), /undefined label nowhere/);
  assert.throws(() => assemble([label('back'), jmp32(Jmp.JEQ, R2, 0, 'back'), exit()]), /backward jump/);
  assert.throws(() => alu32(Alu.AND, R2, 2 ** 32), /does not fit 32 bits/);
});

test('examples: deny-all then allow, merged access, an allow-all base, wildcards and resets', () => {
  const cases: [string, DeviceRule[]][] = [
    ['nothing: all denied', []],
    ['podman style', [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 136, access: 'rwm' },
      { allow: true, type: 'b', major: 254, minor: 0, access: 'r' },
    ]],
    ['letters from two rules combine', [
      { allow: true, type: 'c', major: 1, minor: 3, access: 'r' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'w' },
    ]],
    ['a wide read and a narrow write combine for read-write', [
      { allow: true, type: 'c', access: 'r' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'w' },
      { allow: true, type: 'b', major: 7, access: 'm' },
      { allow: true, type: 'b', minor: 5, access: 'rw' },
    ]],
    ['allow all but some', [
      { allow: true, access: 'rwm' },
      { allow: false, type: 'b', access: 'w' },
      { allow: false, type: 'c', major: 5, minor: 0, access: 'rwm' },
    ]],
    ['a later deny of a wider range takes narrower grants with it', [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 1, access: 'r' },
      { allow: false, type: 'c', major: 1, access: 'rw' },
    ]],
    ['an allow-all reset in the middle forgets what came before', [
      { allow: false, type: 'c', major: 1, access: 'r' },
      { allow: true, access: 'rwm' },
      { allow: false, type: 'c', major: 1, minor: 5, access: 'm' },
    ]],
    ['type a with numbers names both types', [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'a', major: 7, access: 'rm' },
      { allow: true, major: 254, minor: 0, access: 'w' },
    ]],
    ['a reset makes what came before irrelevant, even a hole v1 could not make', [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, access: 'rw' },
      { allow: false, type: 'c', major: 1, minor: 3, access: 'w' },
      { allow: true, access: 'rwm' },
      { allow: false, type: 'b', access: 'w' },
    ]],
    ['a hole in a wide deny, expressed as an allow list', [
      { allow: true, access: 'rwm' },
      { allow: false, type: 'c', access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    ]],
    ['numbers up to the largest u32 but one', [
      { allow: true, type: 'c', major: 0xfffffffe, minor: 1048575, access: 'rw' },
      { allow: true, type: 'c', major: 0x7fffffff, access: 'm' },
    ]],
  ];
  for (const [what, rules] of cases) checkAll(rules, what);
  // the merged exception is one v1 line, as the kernel itself merges them
  assert.deepEqual(deviceState(cases[2]![1]).exceptions, [{ type: 'c', major: 1, minor: 3, access: ACC.r | ACC.w }]);
  assert.equal(deviceState(cases[9]![1]).defaultAllow, false);
  assert.equal(deviceState(cases[4]![1]).defaultAllow, true);
});

test('random rule lists: the program and the v1 state agree with the reference everywhere', () => {
  const rand = rng(20240611);
  let accepted = 0;
  let refused = 0;
  for (let n = 0; n < 400; n++) {
    const rules = Array.from({ length: 1 + Math.floor(rand() * 7) }, () => randomRule(rand));
    try {
      deviceState(rules);
    } catch (e) {
      // only a hole that no default can express is refused, and the error says which rule
      assert.match((e as Error).message, /^device rule \d+: ".*" would undo part of the earlier ".*", which a devices cgroup cannot express/);
      refused++;
      continue;
    }
    checkAll(rules, `list ${n}`);
    accepted++;
  }
  assert.ok(accepted > 300, `${accepted} of 400 random lists accepted (${refused} refused)`);
});

test('a hole neither default can express is refused, naming the rule', () => {
  const rules: DeviceRule[] = [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, access: 'rw' },
    { allow: false, type: 'c', major: 1, minor: 3, access: 'w' },
    { allow: true, type: 'b', minor: 7, access: 'r' },
    { allow: false, type: 'b', major: 8, access: 'r' },
  ];
  assert.throws(
    () => deviceState(rules, (i) => `linux.resources.devices[${i}]`),
    /linux\.resources\.devices\[2\]: "deny c 1:3 w" would undo part of the earlier "allow c 1:\* w"/,
  );
  // without the narrow deny the list is fine
  checkAll([rules[0]!, rules[1]!], 'wide allow');
});

test('bad rules are refused with the field that is wrong', () => {
  const bad: [DeviceRule, RegExp][] = [
    [{ allow: true, type: 'x', access: 'rwm' }, /\[0\]\.type: "x" is not one of a, b, c/],
    [{ allow: true, type: 'c', access: 'rwz' }, /\[0\]\.access: "rwz" may hold only r, w and m/],
    [{ allow: true, type: 'c', access: '' }, /\[0\]\.access: must not be empty/],
    [{ allow: true, type: 'c', major: -2, access: 'r' }, /\[0\]\.major: -2 is not a device number \(-1 or absent means any\)/],
    [{ allow: true, type: 'c', major: 1, minor: 1.5, access: 'r' }, /\[0\]\.minor: 1\.5 is not a device number/],
    [{ allow: true, type: 'b', major: 2 ** 32 - 1, access: 'r' }, /\[0\]\.major: 4294967295 is larger than a device number can be/],
    [{ allow: 'yes' as unknown as boolean, access: 'r' }, /\[0\]\.allow: must be true or false/],
  ];
  for (const [rule, message] of bad) {
    const spec = defaultSpec();
    spec.linux!.resources = { devices: [rule] };
    assert.throws(() => effectiveDeviceRules(spec), (e: Error) => /^linux\.resources\.devices\[0\]/.test(e.message) && message.test(e.message));
  }
  const spec = defaultSpec();
  spec.linux!.devices = [{ type: 'b', path: '/dev/x', major: -3, minor: 0 }];
  assert.throws(() => effectiveDeviceRules(spec), /linux\.devices\[0\]\.major: -3 is not a device number/);
});

function specWith(devices: DeviceRule[] | undefined, nodes?: Device[]): Spec {
  const spec = defaultSpec();
  if (devices) spec.linux!.resources = { devices };
  else delete spec.linux!.resources;
  if (nodes) spec.linux!.devices = nodes;
  return spec;
}

test('effective rules: the config\'s, then the default devices, then mknod of linux.devices', () => {
  const spec = specWith([{ allow: false, access: 'rwm' }], [
    { type: 'b', path: '/dev/vda', major: 254, minor: 0 },
    { type: 'u', path: '/dev/u', major: 4, minor: 64 },
    { type: 'p', path: '/dev/fifo' },
  ]);
  const rules = effectiveDeviceRules(spec);
  assert.deepEqual(rules[0], { allow: false, access: 'rwm' });
  const state = deviceState(rules);
  assert.equal(state.defaultAllow, false);
  const lines = state.exceptions.map((e) => `${e.type} ${e.major === ANY ? '*' : e.major}:${e.minor === ANY ? '*' : e.minor} ${e.access}`);
  // in rule order, as devices.list shows what was written: the defaults, then the nodes
  assert.deepEqual(lines, [
    'c 1:3 7', 'c 1:5 7', 'c 1:7 7', 'c 1:8 7', 'c 1:9 7',
    'c 5:0 7', 'c 136:* 7', 'c 5:2 7', 'c 10:200 7',
    'b 254:0 1', // mknod only: the node can be made, not opened
    'c 4:64 1',
  ]);
  // no rules at all: runc's answer, the defaults on a deny-all base
  assert.deepEqual(deviceState(effectiveDeviceRules(specWith(undefined))).exceptions.length, 9);
  // an allow-all config stays allow-all
  assert.deepEqual(deviceState(effectiveDeviceRules(specWith([{ allow: true, access: 'rwm' }]))), { defaultAllow: true, exceptions: [] });
  // a config that denies mknod cannot stop the runtime making its own nodes, nor take the defaults
  const denied = deviceState(effectiveDeviceRules(specWith([{ allow: true, access: 'rwm' }, { allow: false, type: 'c', access: 'm' }], [
    { type: 'c', path: '/dev/kmsg', major: 1, minor: 11 },
  ])));
  for (const [major, minor, ok] of [[1, 11, true], [1, 3, true], [1, 12, false]] as const) {
    assert.equal(kernelV1(denied, 'c', major, minor, ACC.m), ok, `mknod c ${major}:${minor}`);
  }
});

test('devices.list parsing and the v1 writes between states', () => {
  const allowAll = parseDevicesList('a *:* rwm\n');
  assert.deepEqual(allowAll, { defaultAllow: true, exceptions: [], unknownDenies: true });
  const list = parseDevicesList('c 1:3 rwm\nc 136:* rwm\nb *:* m\n');
  assert.deepEqual(list.exceptions[1], { type: 'c', major: 136, minor: ANY, access: 7 });
  assert.throws(() => parseDevicesList('x 1:3 rwm\n'), /unexpected line in devices.list/);

  const target = deviceState([{ allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }, { allow: true, type: 'c', major: 136, access: 'rwm' }]);
  // from a fresh (allow-all) cgroup: reset to deny-all, then the allows
  assert.deepEqual(v1Writes(allowAll, target), [
    ['devices.deny', 'a *:* rwm'],
    ['devices.allow', 'c 1:3 rw'],
    ['devices.allow', 'c 136:* rwm'],
  ]);
  // an update: only the differences, and no reset
  assert.deepEqual(v1Writes(list, target), [
    ['devices.deny', 'c 1:3 m'],
    ['devices.deny', 'b *:* m'],
  ]);
  // to allow-all-but: always a reset (old deny exceptions cannot be read back), then the denies
  assert.deepEqual(v1Writes(list, deviceState([{ allow: true, access: 'rwm' }, { allow: false, type: 'b', access: 'w' }])), [
    ['devices.allow', 'a *:* rwm'],
    ['devices.deny', 'b *:* w'],
  ]);
});

test('applyDevices with no rules does nothing, and on v1 without the controller refuses to pretend', async () => {
  await applyDevices(['/nonexistent'], [], { mode: 'v1', hierarchies: [] });
  await assert.rejects(
    applyDevices(['/nonexistent'], [{ allow: false, access: 'rwm' }], { mode: 'v1', hierarchies: [] }),
    /the devices cgroup controller is not mounted/,
  );
  // allowing everything needs no controller
  await applyDevices(['/nonexistent'], [{ allow: true, access: 'rwm' }], { mode: 'v1', hierarchies: [] });
});

test('every program the unit tests make ends with an exit and only returns 0 or 1', () => {
  for (const s of [{ defaultAllow: true, exceptions: [] }, { defaultAllow: false, exceptions: [] }] as DeviceState[]) {
    const p = deviceProgram(s);
    assert.equal(run(p, 2, ACC.r, 1, 3), s.defaultAllow ? 1 : 0);
    assert.equal(Buffer.from(p.subarray(p.length - 8)).toString('hex'), '9500000000000000');
  }
  // an access bit the kernel does not define is never granted by an allow list
  const p = deviceProgram(deviceState([{ allow: true, type: 'c', access: 'rwm' }]));
  assert.equal(run(p, 2, ACC.r, 1, 3), 1);
  assert.equal(run(p, 2, ACC.r | 8, 1, 3), 0);
});
