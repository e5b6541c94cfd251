// Docker's seccomp profile format (moby's profiles/seccomp/default.json) -> an OCI
// linux.seccomp object, decided the way dockerd decides it for one container: the archMap
// entry of the native architecture gives the architectures; a rule is kept when its
// includes hold and its excludes do not, judged by the container's bounding capabilities,
// the native architecture and the running kernel's version.
import { release } from 'node:os';
import type { Seccomp } from '../spec/types.ts';

interface MobyFilter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

export interface MobyProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures: string[] | null }[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: {
    name?: string;
    names?: string[];
    action: string;
    errnoRet?: number;
    args?: { index: number; value: number; valueTwo?: number; op: string }[] | null;
    comment?: string;
    includes?: MobyFilter;
    excludes?: MobyFilter;
  }[];
}

export interface MobyContext {
  /** Go's name for the architecture ("amd64", "arm64"...): what includes/excludes.arches hold. */
  goArch?: string;
  /** The container's bounding capabilities ("CAP_SYS_ADMIN"...). */
  capabilities: string[];
  /** The kernel release, "6.1.0-18-amd64"; by default the running kernel's. */
  kernel?: string;
}

const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64', loong64: 'loong64' };

/** libseccomp's name of the architecture Go calls goArch. */
const SECCOMP_ARCH: Record<string, string> = {
  amd64: 'SCMP_ARCH_X86_64', '386': 'SCMP_ARCH_X86', arm64: 'SCMP_ARCH_AARCH64', arm: 'SCMP_ARCH_ARM',
  s390x: 'SCMP_ARCH_S390X', ppc64le: 'SCMP_ARCH_PPC64LE', riscv64: 'SCMP_ARCH_RISCV64', loong64: 'SCMP_ARCH_LOONGARCH64',
};

/** "6.1.0-18-amd64" -> [6, 1]; "4.8" -> [4, 8]. */
function version(v: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(v);
  if (!m) throw new Error(`seccomp profile: bad kernel version ${JSON.stringify(v)}`);
  return [Number(m[1]), Number(m[2])];
}

function atLeast(kernel: string, min: string): boolean {
  const [a, b] = version(kernel);
  const [c, d] = version(min);
  return a > c || (a === c && b >= d);
}

export function mobyToOci(p: MobyProfile, ctx: MobyContext): Seccomp {
  const goArch = ctx.goArch ?? GO_ARCH[process.arch] ?? process.arch;
  const kernel = ctx.kernel ?? release();
  const caps = new Set(ctx.capabilities);
  const out: Seccomp = { defaultAction: p.defaultAction };
  if (p.defaultErrnoRet !== undefined) out.defaultErrnoRet = p.defaultErrnoRet;
  if (p.flags) out.flags = [...p.flags];
  if (p.listenerPath) out.listenerPath = p.listenerPath;
  if (p.listenerMetadata) out.listenerMetadata = p.listenerMetadata;

  if (p.architectures?.length && p.archMap?.length) throw new Error('seccomp profile: architectures and archMap cannot both be set');
  const archs: string[] = [...(p.architectures ?? [])];
  const native = SECCOMP_ARCH[goArch];
  for (const m of p.archMap ?? []) {
    if (m.architecture === native) archs.push(m.architecture, ...(m.subArchitectures ?? []));
  }
  if (archs.length) out.architectures = archs;

  const keep = (inc: MobyFilter | undefined, exc: MobyFilter | undefined): boolean => {
    if (exc) {
      if (exc.arches?.includes(goArch)) return false;
      if (exc.caps?.some((c) => caps.has(c))) return false;
      if (exc.minKernel && atLeast(kernel, exc.minKernel)) return false;
    }
    if (inc) {
      if (inc.arches?.length && !inc.arches.includes(goArch)) return false;
      if (inc.caps?.length && !inc.caps.every((c) => caps.has(c))) return false;
      if (inc.minKernel && !atLeast(kernel, inc.minKernel)) return false;
    }
    return true;
  };

  out.syscalls = [];
  for (const s of p.syscalls ?? []) {
    if (!keep(s.includes, s.excludes)) continue;
    const names = [...(s.names ?? []), ...(s.name ? [s.name] : [])];
    if (names.length === 0) throw new Error('seccomp profile: a syscall entry names no syscall');
    const rule: NonNullable<Seccomp['syscalls']>[number] = { names, action: s.action };
    if (s.errnoRet !== undefined) rule.errnoRet = s.errnoRet;
    if (s.args?.length) rule.args = s.args.map((a) => ({ ...a }));
    out.syscalls.push(rule);
  }
  return out;
}
