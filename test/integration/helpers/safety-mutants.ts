// hull-init variants with one protection taken out, for test/integration/safety.test.ts.
//
// A safety test that passes proves little unless it would fail without the protection it is
// about. So each safety test runs its probe twice: against the real hull-init, where the probe
// must find the container contained, and against a "mutant" built from the same
// native/hull-init.c with exactly that protection removed, where the same probe must find the
// hole. The runtime picks the binary from $HULL_INIT (src/runtime/launch.ts).
//
// If a patch no longer matches the source, the protection's code has moved: update the
// fragment here rather than weakening the test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../harness.ts';

export type Mutant =
  /** runs from the binary on disk: no sealed memfd copy (CVE-2019-5736) */
  | 'no-memfd'
  /** stays dumpable: the container's processes may open its /proc files */
  | 'dumpable'
  /** no close_range(CLOSE_RANGE_CLOEXEC) before exec: inherited fds reach the container */
  | 'no-close-fds'
  /**
   * no check of the cwd (CVE-2024-21626): neither the getcwd check after chdir nor the failure
   * of OP_MKDIR, which creates a missing cwd inside the rootfs and so refuses /proc magic links
   */
  | 'no-cwd-check'
  /** paths in the rootfs resolved like ordinary paths, without RESOLVE_IN_ROOT */
  | 'no-in-root';

const PATCHES: Record<Mutant, { find: RegExp; replace: string }[]> = {
  'no-memfd': [{ find: /\n\treexec_sealed\(argv\);\n/, replace: '\n\t(void)reexec_sealed;\n' }],
  dumpable: [{ find: /\n\tprctl\(PR_SET_DUMPABLE, 0, 0, 0, 0\);\n/, replace: '\n' }],
  'no-close-fds': [{ find: /syscall\(SYS_close_range, [^;]*\) < 0\)/, replace: '0)' }],
  'no-cwd-check': [
    { find: /if \(!getcwd\(buf, sizeof buf\) \|\| buf\[0\] != '\/'\)/, replace: 'if (0)' },
    { find: /fail\(errno, "mkdir %s", S\(op, 0\)\);/, replace: 'break;' },
  ],
  'no-in-root': [{ find: /RESOLVE_IN_ROOT \| /g, replace: '' }],
};

let workdir: string | undefined;
const built = new Map<string, string>();

function work(): string {
  if (!workdir) {
    const dir = mkdtempSync(join(tmpdir(), 'hull-safety-init-'));
    workdir = dir;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return workdir;
}

/** Builds native/hull-init.c with one protection removed; cached per test process. */
export function mutantInit(m: Mutant): string {
  const cached = built.get(m);
  if (cached) return cached;
  let src = readFileSync(join(REPO, 'native/hull-init.c'), 'utf8');
  for (const p of PATCHES[m]) {
    const before = src;
    src = src.replace(p.find, p.replace);
    assert.notEqual(src, before, `safety mutant ${m}: ${p.find} not found in native/hull-init.c; the protection moved, update helpers/safety-mutants.ts`);
  }
  const dir = work();
  const c = join(dir, `${m}.c`);
  const out = join(dir, `hull-init-${m}`);
  writeFileSync(c, src);
  const r = spawnSync('gcc', ['-O2', '-static', '-w', '-I', join(REPO, 'native'), '-o', out, c], { encoding: 'utf8' });
  assert.equal(r.status, 0, `building the ${m} mutant failed: ${r.stderr}`);
  built.set(m, out);
  return out;
}

/**
 * A private copy of the real dist/hull-init. Tests that check the binary is never written to
 * use it, so that a concurrent `npm run build` cannot change it under them, and so that a
 * failing test cannot damage the shared dist/.
 */
export function realInitCopy(): string {
  const cached = built.get('real');
  if (cached) return cached;
  const out = join(work(), 'hull-init-real');
  copyFileSync(join(REPO, 'dist/hull-init'), out);
  built.set('real', out);
  return out;
}

/** The environment that makes hull-runtime use the given hull-init. */
export function envWith(init: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HULL_INIT: init };
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  return env;
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
