// Device access rules: the v1 devices cgroup, and on v2 an eBPF program compiled here.
// What the rules mean, and the one state both versions are given, is in device-program.ts.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { launch } from '../launch.ts';
import { DEFAULT_DEVICES } from '../plan/compile.ts';
import { Op } from '../plan/ops.ts';
import type { DeviceRule, Spec } from '../spec/types.ts';
import {
  ACC_ALL, ANY, DEVICE_PROGRAM_LICENSE, allowsAll, deviceProgram, deviceState, exceptionLine, parseAccess,
  type DeviceException, type DeviceState,
} from './device-program.ts';
import type { CgroupLayout } from './hierarchy.ts';

/**
 * Devices every container may use, appended after the config's rules as runc does: the
 * runtime-spec's default devices, the ptys behind /dev/pts, /dev/ptmx and a terminal's
 * /dev/console, and /dev/net/tun (runc dropped it once and restored it for the users it broke).
 * Unlike runc this gives no "mknod any device" (c *:* m, b *:* m): a config must be able to
 * deny mknod.
 */
function defaultRules(): { rule: DeviceRule; what: string }[] {
  const allow = (type: string, major: number, minor: number, what: string) => ({ rule: { allow: true, type, major, minor, access: 'rwm' }, what });
  return [
    ...DEFAULT_DEVICES.map((d) => allow(d.type, d.major!, d.minor!, `the default device ${d.path}`)),
    allow('c', 136, ANY, 'the default devices /dev/pts/*'),
    allow('c', 5, 2, 'the default device /dev/ptmx'),
    allow('c', 10, 200, 'the default device /dev/net/tun'),
  ];
}

/**
 * The rules a container's cgroup gets: linux.resources.devices in order, then the default
 * devices, then mknod (only) of each linux.devices node, which hull-init makes inside the
 * cgroup: runc makes them before it applies the rules, and like runc this lets no node be
 * read or written unless a rule says so. As with runc, a config without rules still gets
 * the defaults on a deny-all base. Throws, naming the field, for a rule that is invalid or
 * that the cgroup cannot express.
 */
export function effectiveDeviceRules(spec: Spec): DeviceRule[] {
  const own = spec.linux?.resources?.devices ?? [];
  // Only root can write the devices cgroup; runc skips the rules it was not given rootless.
  if (own.length === 0 && process.geteuid?.() !== 0) return [];
  const all: { rule: DeviceRule; what: string }[] = own.map((rule, i) => ({ rule, what: `linux.resources.devices[${i}]` }));
  all.push(...defaultRules());
  spec.linux?.devices?.forEach((d, i) => {
    if (d.type !== 'c' && d.type !== 'u' && d.type !== 'b') return; // a fifo is no device to the cgroup
    all.push({ rule: { allow: true, type: d.type === 'b' ? 'b' : 'c', major: d.major ?? 0, minor: d.minor ?? 0, access: 'm' }, what: `linux.devices[${i}]` });
  });
  const rules = all.map((r) => r.rule);
  deviceState(rules, (i) => all[i]!.what);
  return rules;
}

/** Applies rules to the container's cgroup directories (one per hierarchy, as saved). */
export async function applyDevices(dirs: string[], rules: DeviceRule[], lay: CgroupLayout): Promise<void> {
  if (rules.length === 0) return;
  const state = deviceState(rules, (i) => `linux.resources.devices: rule ${i}`);
  if (lay.mode === 'v1') {
    const h = lay.hierarchies.find((x) => x.version === 1 && x.controllers.includes('devices'));
    const dir = h && dirs.find((d) => within(d, h.mountpoint));
    if (!dir) {
      if (allowsAll(state)) return;
      throw new Error(
        h
          ? `linux.resources.devices: the container has no directory in the devices cgroup hierarchy at ${h.mountpoint}`
          : 'linux.resources.devices: the devices cgroup controller is not mounted, so device access cannot be restricted',
      );
    }
    applyV1(dir, state);
    return;
  }
  const h = lay.hierarchies.find((x) => x.version === 2);
  const dir = h && dirs.find((d) => within(d, h.mountpoint));
  if (!dir) throw new Error('linux.resources.devices: the container has no directory in the cgroup2 tree to attach a device filter to');
  await installDeviceProgram(dir, deviceProgram(state));
}

function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith('/') ? dir : dir + '/');
}

// ---- v2 -----------------------------------------------------------------------------------

/** Loads the program and makes it the cgroup's only device filter, through hull-init. */
export async function installDeviceProgram(dir: string, program: Uint8Array): Promise<void> {
  const launched = await launch({
    plan: [
      { op: Op.BPF_DEVICES, args: [dir, program, DEVICE_PROGRAM_LICENSE], what: `linux.resources.devices: install the device filter on ${dir}` },
      { op: Op.READY, args: [], what: 'report the device filter installed' },
    ],
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  await launched.exited;
}

// ---- v1 -----------------------------------------------------------------------------------

/**
 * The state devices.list shows. In allow-all mode the kernel prints only "a *:* rwm" and
 * keeps its deny exceptions to itself, so those are unknown (unknownDenies).
 */
export function parseDevicesList(text: string): DeviceState & { unknownDenies: boolean } {
  const exceptions: DeviceException[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const m = /^([abc]) (\*|\d+):(\*|\d+) ([rwm]+)$/.exec(line.trim());
    if (!m) throw new Error(`unexpected line in devices.list: ${JSON.stringify(line)}`);
    if (m[1] === 'a') return { defaultAllow: true, exceptions: [], unknownDenies: true };
    const n = (v: string) => (v === '*' ? ANY : Number(v));
    exceptions.push({ type: m[1] as 'b' | 'c', major: n(m[2]!), minor: n(m[3]!), access: parseAccess(m[4]!) });
  }
  return { defaultAllow: false, exceptions, unknownDenies: false };
}

const ek = (e: DeviceException) => `${e.type} ${e.major}:${e.minor}`;

/**
 * The writes that take the cgroup from what devices.list shows to the target. A change of
 * default is a reset ("a" written to devices.allow or devices.deny, which drops every
 * exception); otherwise only the differences are written, so an update never opens a moment
 * in which the container loses a device it keeps. An allow-all target always resets, since
 * its old deny exceptions cannot be read back.
 */
export function v1Writes(current: ReturnType<typeof parseDevicesList>, target: DeviceState): [file: string, line: string][] {
  const out: [string, string][] = [];
  if (target.defaultAllow) {
    out.push(['devices.allow', 'a *:* rwm']);
    for (const e of target.exceptions) out.push(['devices.deny', exceptionLine(e)]);
    return out;
  }
  let have = new Map(current.exceptions.map((e) => [ek(e), e.access]));
  if (current.defaultAllow) {
    out.push(['devices.deny', 'a *:* rwm']);
    have = new Map();
  }
  const want = new Map(target.exceptions.map((e) => [ek(e), e]));
  for (const e of current.defaultAllow ? [] : current.exceptions) {
    const dropped = e.access & ~(want.get(ek(e))?.access ?? 0);
    if (dropped) out.push(['devices.deny', exceptionLine({ ...e, access: dropped })]);
  }
  for (const e of target.exceptions) {
    const gained = e.access & ~(have.get(ek(e)) ?? 0) & ACC_ALL;
    if (gained) out.push(['devices.allow', exceptionLine({ ...e, access: gained })]);
  }
  return out;
}

function readList(dir: string): ReturnType<typeof parseDevicesList> {
  const path = posix.join(dir, 'devices.list');
  try {
    return parseDevicesList(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`linux.resources.devices: cannot read ${path}: ${(e as Error).message}`);
  }
}

function hasChildren(dir: string): boolean {
  try {
    return readdirSync(dir, { withFileTypes: true }).some((d) => d.isDirectory());
  } catch {
    return false;
  }
}

function applyV1(dir: string, target: DeviceState): void {
  for (const [file, line] of v1Writes(readList(dir), target)) {
    const path = posix.join(dir, file);
    try {
      writeFileSync(path, line);
    } catch (e) {
      const why = (e as Error).message;
      // The kernel refuses to change the default of a devices cgroup that has children.
      const hint = line.startsWith('a ') && hasChildren(dir)
        ? ' (the kernel cannot switch a devices cgroup between allow-all and deny-all while it has child cgroups)'
        : '';
      throw new Error(`linux.resources.devices: cannot write "${line}" to ${path}: ${why}${hint}`);
    }
  }
  // Read back what the kernel now holds; a parent cgroup that denies a device makes it refuse.
  const after = readList(dir);
  const shown = (s: DeviceState) => (s.defaultAllow ? 'a *:* rwm' : s.exceptions.map(exceptionLine).sort().join(', ') || 'nothing');
  const same = target.defaultAllow
    ? after.defaultAllow
    : !after.defaultAllow && shown(after) === shown(target);
  if (!same) {
    throw new Error(`linux.resources.devices: ${posix.join(dir, 'devices.list')} shows ${shown(after)} where the rules mean ${shown(target)}`);
  }
}
