// Writes src/runtime/seccomp/syscalls.ts: syscall name -> number for every architecture the
// seccomp compiler knows, read from the kernel headers of linux-libc-dev on this machine.
//
//   node scripts/gen-syscall-tables.ts            (rewrites the table)
//   node scripts/gen-syscall-tables.ts --check    (exits 1 if the committed table differs)
//
// x86_64, i386 and x32 come from the generated asm/unistd_{64,32,x32}.h. aarch64 has no header
// of its own: it is the asm-generic table, expanded by the C preprocessor with the switches
// arm64's asm/unistd.h sets, because the generic header decides several numbers with #if.
// Syscalls newer than those headers are taken from libseccomp (scmp_sys_resolver, Debian's
// "seccomp" package) where it knows them, so that hull knows what runc knows on this machine.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = root + 'src/runtime/seccomp/syscalls.ts';
const asm = '/usr/include/x86_64-linux-gnu/asm';

/** The #define lines of a header as name -> replacement text. */
function defines(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const d = /^#define\s+(\w+)\s+(.+?)\s*$/.exec(line);
    if (d) m.set(d[1]!, d[2]!);
  }
  return m;
}

/** Evaluates a macro body made of numbers, macro names, parentheses and "+". */
function evaluate(expr: string, defs: Map<string, string>, depth = 0): number | undefined {
  if (depth > 20) return undefined;
  let total = 0;
  for (const term of expr.replace(/[()]/g, ' ').split('+')) {
    const t = term.trim();
    if (/^\d+$/.test(t)) total += Number(t);
    else if (/^0x[0-9a-f]+$/i.test(t)) total += Number(t);
    else if (/^\w+$/.test(t) && defs.has(t)) {
      const v = evaluate(defs.get(t)!, defs, depth + 1);
      if (v === undefined) return undefined;
      total += v;
    } else return undefined;
  }
  return total;
}

function table(defs: Map<string, string>): Map<string, number> {
  const t = new Map<string, number>();
  for (const name of defs.keys()) {
    // __NR_syscalls is a count and __NR_arch_specific_syscall the base of a range, not calls
    if (!name.startsWith('__NR_') || name === '__NR_syscalls' || name === '__NR_arch_specific_syscall') continue;
    const nr = evaluate(defs.get(name)!, defs);
    if (nr !== undefined) t.set(name.slice(5), nr);
  }
  return new Map([...t].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)));
}

function header(path: string): Map<string, number> {
  const text = readFileSync(path, 'utf8');
  // unistd_x32.h writes its numbers as (__X32_SYSCALL_BIT + n)
  return table(defines('#define __X32_SYSCALL_BIT 0x40000000\n' + text));
}

function aarch64(): Map<string, number> {
  const src = [
    '#define __ARCH_WANT_RENAMEAT',
    '#define __ARCH_WANT_NEW_STAT',
    '#define __ARCH_WANT_SET_GET_RLIMIT',
    '#define __ARCH_WANT_TIME32_SYSCALLS',
    '#define __ARCH_WANT_SYS_CLONE3',
    '#define __ARCH_WANT_MEMFD_SECRET',
    '#include <asm-generic/unistd.h>',
  ].join('\n');
  const text = execFileSync('gcc', ['-E', '-dM', '-U__SYSCALL_COMPAT', '-x', 'c', '-'], { input: src, encoding: 'utf8' });
  return table(defines(text));
}

function libseccompVersion(): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libseccomp2'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function headersVersion(): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', 'linux-libc-dev'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Syscalls added after linux 6.1, asked of libseccomp by name. */
const NEWER = [
  'cachestat', 'fchmodat2', 'map_shadow_stack', 'futex_wake', 'futex_wait', 'futex_requeue', 'statmount',
  'listmount', 'lsm_get_self_attr', 'lsm_set_self_attr', 'lsm_list_modules', 'mseal', 'setxattrat',
  'getxattrat', 'listxattrat', 'removexattrat', 'open_tree_attr', 'uretprobe', 'file_getattr', 'file_setattr',
];

function addNewer(t: Map<string, number>, arch: string): Map<string, number> {
  for (const name of NEWER) {
    if (t.has(name)) continue;
    const out = execFileSync('scmp_sys_resolver', ['-a', arch, name], { encoding: 'utf8' }).trim();
    // negative: unknown, or not a syscall of this ABI
    if (/^\d+$/.test(out)) t.set(name, Number(out));
  }
  return new Map([...t].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)));
}

const tables: [string, string, Map<string, number>][] = [
  ['X86_64', 'asm/unistd_64.h', addNewer(header(`${asm}/unistd_64.h`), 'x86_64')],
  ['X86', 'asm/unistd_32.h', addNewer(header(`${asm}/unistd_32.h`), 'x86')],
  ['X32', 'asm/unistd_x32.h (numbers include the x32 bit 0x40000000)', addNewer(header(`${asm}/unistd_x32.h`), 'x32')],
  ['AARCH64', 'asm-generic/unistd.h as arm64 configures it', addNewer(aarch64(), 'aarch64')],
];

const lines = [
  `// Generated by scripts/gen-syscall-tables.ts from linux-libc-dev ${headersVersion()} and libseccomp ${libseccompVersion()}: do not edit.`,
  '// Syscall numbers per architecture, as "name number" pairs separated by spaces.',
  '',
];
for (const [name, source, t] of tables) {
  if (t.size < 250) throw new Error(`${name}: only ${t.size} syscalls found in ${source}`);
  lines.push(`/** ${source}: ${t.size} syscalls */`);
  const pairs = [...t].map(([n, nr]) => `${n} ${nr}`);
  const rows: string[] = [];
  for (let i = 0; i < pairs.length; i += 8) rows.push(pairs.slice(i, i + 8).join(' '));
  lines.push(`export const ${name} =`);
  lines.push(rows.map((r, i) => `  '${r}${i < rows.length - 1 ? ' ' : ''}'`).join(' +\n') + ';');
  lines.push('');
}
const text = lines.join('\n');

if (process.argv.includes('--check')) {
  // the first line names package versions; a security update of them changes no number
  const body = (t: string) => t.slice(t.indexOf('\n') + 1);
  const current = readFileSync(out, 'utf8');
  if (body(current) !== body(text)) {
    console.error(`${out} differs from what the headers give: run node scripts/gen-syscall-tables.ts`);
    process.exit(1);
  }
} else {
  writeFileSync(out, text);
  console.log(`wrote ${out}: ${tables.map(([n, , t]) => `${n} ${t.size}`).join(', ')}`);
}
