// What a list of device rules means, as one state both cgroup versions can hold exactly, and
// that state as an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE (the v2 device filter).
//
// The meaning (runtime-spec "Device allowlist": rules apply in order): an access asks for one
// or more of r, w, m on one device; it is allowed when each of them is, and each is decided by
// the last rule that names the device (type, major, minor; "a", absent or -1 mean any) and that
// access. Before any rule everything is denied, as runc and crun have it.
//
// The state is the v1 devices cgroup's own model: a default (allow or deny everything) and
// exceptions (type, major or *, minor or *, access bits) that say the opposite. The v1 kernel
// applies a rule only to the exception with exactly its numbers, so a later rule cannot undo
// part of a wider one ("deny c *:* rwm" then "allow c 1:3 rwm" leaves 1:3 denied on v1). Such a
// hole is refused here, as runc refuses it, unless the other default can express the list.
import type { DeviceRule } from '../spec/types.ts';
import { Alu, Jmp, R0, R1, R2, R3, R4, R5, Size, alu32, alu32Reg, alu64, assemble, exit, jmp32, label, ldx, type Item } from './ebpf.ts';

/** Access bits, numbered as BPF_DEVCG_ACC_* (and the v1 file's "rwm" letters). */
export const ACC = { m: 1, r: 2, w: 4 } as const;
export const ACC_ALL = 7;

/** Device types as struct bpf_cgroup_dev_ctx gives them (BPF_DEVCG_DEV_*). */
export const DEV_TYPE = { b: 1, c: 2 } as const;

/** A major or minor that matches any number. */
export const ANY = -1;

/** Highest major/minor a rule may name: the v1 file reads a u32, and ~0 is its "*". */
const MAX_NUMBER = 0xfffffffe;

export interface DeviceException {
  type: 'b' | 'c';
  major: number;
  minor: number;
  /** ACC bits. */
  access: number;
}

export interface DeviceState {
  /** The verdict for what no exception names; each exception says the opposite. */
  defaultAllow: boolean;
  exceptions: DeviceException[];
}

export function parseAccess(access: string): number {
  let bits = 0;
  for (const ch of access) bits |= ACC[ch as keyof typeof ACC] ?? 0;
  return bits;
}

/** The letters in the order the kernel prints them. */
export function accessString(bits: number): string {
  return (bits & ACC.r ? 'r' : '') + (bits & ACC.w ? 'w' : '') + (bits & ACC.m ? 'm' : '');
}

/** "c 1:3 rwm", "b *:* m": a v1 devices.allow/devices.deny/devices.list line. */
export function exceptionLine(e: DeviceException): string {
  const n = (v: number) => (v === ANY ? '*' : String(v));
  return `${e.type} ${n(e.major)}:${n(e.minor)} ${accessString(e.access)}`;
}

/** A rule in the form the fold works on; type "a" splits into b and c. */
interface Norm {
  allow: boolean;
  types: ('b' | 'c')[];
  major: number;
  minor: number;
  access: number;
  /** "a *:* rwm": every device, every access — a reset. */
  all: boolean;
  text: string;
}

function number(v: number | undefined, at: string): number {
  if (v === undefined || v === ANY) return ANY;
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${at}: ${v} is not a device number (-1 or absent means any)`);
  if (v > MAX_NUMBER) throw new Error(`${at}: ${v} is larger than a device number can be (${MAX_NUMBER})`);
  return v;
}

/** Checks one rule; at names it in errors ("linux.resources.devices[2]"). */
export function normalizeRule(rule: DeviceRule, at: string): Norm {
  if (typeof rule.allow !== 'boolean') throw new Error(`${at}.allow: must be true or false`);
  const type = rule.type === undefined || rule.type === '' ? 'a' : rule.type;
  if (type !== 'a' && type !== 'b' && type !== 'c') throw new Error(`${at}.type: ${JSON.stringify(rule.type)} is not one of a, b, c`);
  if (typeof rule.access !== 'string' || rule.access === '') throw new Error(`${at}.access: must not be empty`);
  if (!/^[rwm]+$/.test(rule.access)) throw new Error(`${at}.access: ${JSON.stringify(rule.access)} may hold only r, w and m`);
  const major = number(rule.major, `${at}.major`);
  const minor = number(rule.minor, `${at}.minor`);
  const access = parseAccess(rule.access);
  const all = type === 'a' && major === ANY && minor === ANY && access === ACC_ALL;
  const n = (v: number) => (v === ANY ? '*' : String(v));
  const text = `${rule.allow ? 'allow' : 'deny'} ${type} ${n(major)}:${n(minor)} ${accessString(access)}`;
  return { allow: rule.allow, types: type === 'a' ? ['b', 'c'] : [type], major, minor, access, all, text };
}

type Pattern = Pick<DeviceException, 'type' | 'major' | 'minor'>;

const key = (p: Pattern) => `${p.type} ${p.major}:${p.minor}`;

/** Whether wide names every device narrow names. */
function covers(wide: Pattern, narrow: Pattern): boolean {
  return wide.type === narrow.type && (wide.major === ANY || wide.major === narrow.major) && (wide.minor === ANY || wide.minor === narrow.minor);
}

function overlaps(a: Pattern, b: Pattern): boolean {
  return a.type === b.type && (a.major === ANY || b.major === ANY || a.major === b.major) && (a.minor === ANY || b.minor === ANY || a.minor === b.minor);
}

class Hole extends Error {}

/** The rules folded onto a state with the given default; throws Hole where v1 cannot follow. */
function fold(rules: readonly Norm[], names: readonly string[], defaultAllow: boolean): Map<string, DeviceException> {
  const ex = new Map<string, DeviceException>();
  const reset = (allow: boolean) => {
    ex.clear();
    // The opposite of the default, spelled as exceptions that name everything.
    if (allow !== defaultAllow) for (const type of ['b', 'c'] as const) ex.set(key({ type, major: ANY, minor: ANY }), { type, major: ANY, minor: ANY, access: ACC_ALL });
  };
  reset(false);
  rules.forEach((r, i) => {
    if (r.all) return reset(r.allow);
    for (const type of r.types) {
      const p: Pattern = { type, major: r.major, minor: r.minor };
      if (r.allow !== defaultAllow) {
        // An exception for exactly these numbers, merged as the kernel merges them.
        const e = ex.get(key(p)) ?? { ...p, access: 0 };
        e.access |= r.access;
        ex.set(key(p), e);
        continue;
      }
      // Taking access away: from every exception inside the rule's range. One that is wider
      // than the rule but shares devices and access with it cannot be cut on v1.
      for (const e of ex.values()) {
        if (!covers(p, e) && overlaps(p, e) && e.access & r.access) {
          throw new Hole(
            `${names[i]}: "${r.text}" would undo part of the earlier "${defaultAllow ? 'deny' : 'allow'} ${exceptionLine({ ...e, access: e.access & r.access })}", ` +
              'which a devices cgroup cannot express (it only removes an exception with exactly the same numbers); ' +
              `list the ${defaultAllow ? 'denied' : 'allowed'} devices one by one instead of the wide rule`,
          );
        }
      }
      for (const [k, e] of ex) {
        if (!covers(p, e)) continue;
        e.access &= ~r.access;
        if (e.access === 0) ex.delete(k);
      }
    }
  });
  return ex;
}

/**
 * v1 grants an access only when one exception holds all of it ("c *:* r" and "c 1:3 w" do
 * not let 1:3 be opened read-write), while the meaning above decides each letter alone. So
 * each place where exceptions meet gets its own exception with all their access.
 */
function closeAllowList(ex: Map<string, DeviceException>): void {
  const all = [...ex.values()];
  for (const a of all) {
    for (const b of all) {
      if (a === b || !overlaps(a, b) || covers(a, b) || covers(b, a)) continue;
      const p: Pattern = { type: a.type, major: a.major === ANY ? b.major : a.major, minor: a.minor === ANY ? b.minor : a.minor };
      if (!ex.has(key(p))) ex.set(key(p), { ...p, access: 0 });
    }
  }
  for (const e of ex.values()) {
    for (const w of ex.values()) if (covers(w, e)) e.access |= w.access;
  }
}

/**
 * In the order the rules first named them: the kernel lists v1 exceptions in the order they
 * were written, and users (and runtime-tools) read devices.list against their config.
 */
function ordered(ex: Map<string, DeviceException>): DeviceException[] {
  return [...ex.values()];
}

/**
 * The state a rule list means. name(i) names rule i in errors. Throws for a bad rule, and for
 * a list that neither default can express (a later rule cutting into a wider earlier one).
 */
export function deviceState(rules: readonly DeviceRule[], name: (i: number) => string = (i) => `device rule ${i}`): DeviceState {
  const names = rules.map((_, i) => name(i));
  const norm = rules.map((r, i) => normalizeRule(r, names[i]!));
  // Nothing before the last "a *:* rwm" matters. Its verdict (else deny) is the natural
  // default; the other is tried when the natural one cannot express a hole the list makes.
  const from = Math.max(norm.findLastIndex((r) => r.all), 0);
  const natural = norm[from]?.all ? norm[from].allow : false;
  let first: Error | undefined;
  for (const defaultAllow of [natural, !natural]) {
    try {
      const ex = fold(norm.slice(from), names.slice(from), defaultAllow);
      if (!defaultAllow) closeAllowList(ex);
      return { defaultAllow, exceptions: ordered(ex) };
    } catch (e) {
      if (!(e instanceof Hole)) throw e;
      first ??= e;
    }
  }
  throw new Error(first!.message);
}

/** Whether the state lets everything through (nothing to restrict). */
export function allowsAll(s: DeviceState): boolean {
  return s.defaultAllow && s.exceptions.length === 0;
}

/** The license the program is loaded under: it calls no helper, so any string is accepted. */
export const DEVICE_PROGRAM_LICENSE = 'Apache-2.0';

/**
 * The state as a BPF_PROG_TYPE_CGROUP_DEVICE program. The context is struct
 * bpf_cgroup_dev_ctx { u32 access_type (access << 16 | type); u32 major; u32 minor; }, and
 * the program returns 1 to allow, 0 to deny. Allow-exceptions must hold all the access asked
 * for, deny-exceptions deny when they share any of it: the v1 kernel's own two checks.
 */
export function deviceProgram(state: DeviceState): Uint8Array {
  const TYPE = R2, ACCESS = R3, MAJOR = R4, MINOR = R5, TMP = R1;
  const items: Item[] = [
    ldx(Size.W, TYPE, R1, 0),
    alu32(Alu.AND, TYPE, 0xffff),
    ldx(Size.W, ACCESS, R1, 0),
    alu32(Alu.RSH, ACCESS, 16),
    ldx(Size.W, MAJOR, R1, 4),
    ldx(Size.W, MINOR, R1, 8),
  ];
  const verdict = state.defaultAllow ? 0 : 1;
  state.exceptions.forEach((e, i) => {
    const next = `next${i}`;
    items.push(jmp32(Jmp.JNE, TYPE, DEV_TYPE[e.type], next));
    if (e.major !== ANY) items.push(jmp32(Jmp.JNE, MAJOR, e.major, next));
    if (e.minor !== ANY) items.push(jmp32(Jmp.JNE, MINOR, e.minor, next));
    if (state.defaultAllow) {
      // deny only if it shares access with the request
      items.push(alu32Reg(Alu.MOV, TMP, ACCESS), alu32(Alu.AND, TMP, e.access), jmp32(Jmp.JEQ, TMP, 0, next));
    } else {
      // allow only if every bit asked for is here (unknown bits never are: fail closed)
      items.push(jmp32(Jmp.JSET, ACCESS, ~e.access & 0xffff, next));
    }
    items.push(alu64(Alu.MOV, R0, verdict), exit(), label(next));
  });
  items.push(alu64(Alu.MOV, R0, state.defaultAllow ? 1 : 0), exit());
  return assemble(items);
}
