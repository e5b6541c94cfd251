// AppArmor and SELinux: whether this host enforces them, and what hull-init writes to /proc so
// that the kernel confines the container's program from the moment it execs.
//
// A profile or label the host cannot apply is refused before anything is created: running the
// container unconfined when the config asked for confinement would be a silent downgrade.
//
// hull-init writes the exec attributes before it clones the container process (create) or
// joins the container's namespaces (exec), not right before exec as runc does. The attribute
// is inherited across fork and consumed only by the next execve, so the effect is the same,
// and /proc is then the host's own procfs, which a container's mounts cannot fake (the
// CVE-2019-19921 class, where a bind mount over /proc swallowed the write).
//
// SELinux's keycreate attribute is not written: it labels keys the process creates before
// exec (runc's new session keyring), hull creates none, and the kernel resets it at execve.
import { existsSync, readFileSync } from 'node:fs';
import type { Process, Spec } from '../spec/types.ts';
import { SpecError } from '../spec/validate.ts';

/** What this host's kernel enforces, as far as containers can ask for it. */
export interface LsmHost {
  apparmor: boolean;
  /** The file an AppArmor exec transition is written to: AppArmor's own attr directory, or the older shared one. */
  apparmorExecAttr: string;
  selinux: boolean;
}

/** One write hull-init makes to /proc before the container process exists. */
export interface AttrWrite {
  path: string;
  data: string;
  /** For error messages: what the write is for. */
  what: string;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** runc's test: the module says it is enabled and securityfs shows its policy directory. */
export function apparmorEnabled(): boolean {
  return (read('/sys/module/apparmor/parameters/enabled') ?? '').startsWith('Y') && existsSync('/sys/kernel/security/apparmor');
}

/**
 * SELinux is on when a writable selinuxfs is mounted with its enforce file (in either mode:
 * permissive still labels), and this process has a real context rather than "kernel".
 */
export function selinuxEnabled(mountinfo = read('/proc/self/mountinfo') ?? ''): boolean {
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fstype = line.slice(sep + 3).split(' ')[0];
    if (fstype !== 'selinuxfs') continue;
    const fields = line.slice(0, sep).split(' ');
    const mountpoint = (fields[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if ((fields[5] ?? '').split(',').includes('ro')) continue;
    if (!existsSync(`${mountpoint}/enforce`)) continue;
    const current = (read('/proc/self/attr/current') ?? '').replace(/\0/g, '').trim();
    return current !== '' && current !== 'kernel';
  }
  return false;
}

export function detectLsmHost(): LsmHost {
  return {
    apparmor: apparmorEnabled(),
    apparmorExecAttr: existsSync('/proc/thread-self/attr/apparmor/exec') ? '/proc/thread-self/attr/apparmor/exec' : '/proc/thread-self/attr/exec',
    selinux: selinuxEnabled(),
  };
}

const NO_APPARMOR = 'AppArmor is not enabled on this host (/sys/module/apparmor/parameters/enabled is not "Y" or /sys/kernel/security/apparmor is missing)';
const NO_SELINUX = 'SELinux is not enabled on this host (no writable selinuxfs with an enforce file is mounted)';

/**
 * The attribute writes that confine a process, in the order hull-init makes them. Throws a
 * SpecError naming the field when the host cannot apply what the process asks for.
 * `file` names the document in messages; `at` is the process's path in it ("process" or "").
 */
export function processAttrWrites(proc: Process, file: string, at: string, host: () => LsmHost = detectLsmHost): AttrWrite[] {
  const field = (name: string) => (at === '' ? name : `${at}.${name}`);
  const writes: AttrWrite[] = [];
  const profile = proc.apparmorProfile ?? '';
  const label = proc.selinuxLabel ?? '';
  if (profile === '' && label === '') return writes;
  const h = host();
  if (profile !== '') {
    if (!h.apparmor) throw new SpecError(file, field('apparmorProfile'), `${JSON.stringify(profile)} cannot be applied: ${NO_APPARMOR}`, 'semantic');
    // libapparmor's aa_change_onexec: the profile takes effect at the next execve.
    writes.push({ path: h.apparmorExecAttr, data: `exec ${profile}`, what: `set AppArmor profile ${profile} for exec (is it loaded?)` });
  }
  if (label !== '') {
    if (!h.selinux) throw new SpecError(file, field('selinuxLabel'), `${JSON.stringify(label)} cannot be applied: ${NO_SELINUX}`, 'semantic');
    writes.push({ path: '/proc/thread-self/attr/exec', data: label, what: `set SELinux label ${label} for exec` });
  }
  return writes;
}

/** linux.mountLabel needs SELinux: the context= option means nothing to any other kernel. */
export function checkMountLabel(spec: Spec, host: () => LsmHost = detectLsmHost): void {
  const label = spec.linux?.mountLabel ?? '';
  if (label !== '' && !host().selinux) {
    throw new SpecError('config.json', 'linux.mountLabel', `${JSON.stringify(label)} cannot be applied: ${NO_SELINUX}`, 'semantic');
  }
}

/**
 * Mount types runc mounts without context=: proc and sysfs keep the kernel's labels, cgroupfs
 * too, and mqueue does not take the option (runc relabels its root with setxattr afterwards,
 * which hull does not do yet: an mqueue mount keeps the policy's default label).
 */
const UNLABELLED = new Set(['proc', 'sysfs', 'mqueue', 'cgroup', 'cgroup2']);

/**
 * The mount data for a filesystem hull mounts, with the SELinux context the config asks for
 * added, as runc does. Data that names a context already keeps it: the kernel refuses two.
 */
export function labelMountData(data: string, fstype: string, mountLabel: string | undefined): string {
  if (!mountLabel || UNLABELLED.has(fstype)) return data;
  if (/(^|,)(context|fscontext|defcontext|rootcontext)=/.test(data)) return data;
  const ctx = `context="${mountLabel}"`;
  return data === '' ? ctx : `${data},${ctx}`;
}
