// The runtime lifecycle of runtime-cycle with Docker's default seccomp profile in config.json:
// create + start + wait + delete of busybox /bin/true, for hull-runtime with its compiled-
// program cache cleared before every create (cold) and kept (cached), runc and crun.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, findOnPath, isExecutable, versionOf } from '../lib/command.ts';
import { OciCycle } from '../lib/oci-cycle.ts';
import type { Prepared, Scenario, Skipped, Subject } from '../lib/scenario.ts';
import { mobyToOci, type MobyProfile } from '../../src/runtime/seccomp/moby-profile.ts';

const PROFILE = join(import.meta.dirname, '../../../shared/specs/moby/seccomp-default.json');
const oci = new OciCycle(`hullsecc-${process.pid}-`);

const scenario: Scenario = {
  name: 'seccomp-startup',
  description: "runtime-cycle's lifecycle (`create`, `start`, `state` polled until stopped, `delete` of busybox `/bin/true`) " +
    "with Docker's default seccomp profile, converted to an OCI `linux.seccomp`, in config.json. hull-runtime twice: with " +
    'its cache of compiled programs cleared before each cycle (cold: the profile is compiled to BPF in TypeScript) and kept (cached).',
  baseline: 'runc',
  steps: ['create', 'start', 'wait', 'delete'],
  runs: 20,
  quickRuns: 5,

  async setup(ctx): Promise<Prepared> {
    if (process.getuid?.() !== 0) throw new Error('seccomp-startup needs root');
    const runc = findOnPath('runc');
    if (!runc) throw new Error('runc is needed to make the bundle and as the baseline');
    if (!existsSync(PROFILE)) throw new Error(`Docker's profile is not at ${PROFILE}`);
    const bundle = oci.makeBundle(ctx, runc, (config) => {
      const profile = JSON.parse(readFileSync(PROFILE, 'utf8')) as MobyProfile;
      config.linux.seccomp = mobyToOci(profile, { capabilities: config.process.capabilities?.bounding ?? [] });
    });
    const hull = join(ctx.repoRoot, 'dist/hull-runtime');
    const skipped: Skipped[] = [];
    const notes = [
      'runc compiles the profile with libseccomp at every create; crun 1.8 compiles it with libseccomp too. ' +
        'hull-runtime compiles it in TypeScript and keeps the program under <root>/.seccomp/<sha256>.',
    ];
    const candidates = [
      { name: 'hull-runtime (cold)', path: hull, cold: true },
      { name: 'hull-runtime (cached)', path: hull, cold: false },
      { name: 'runc', path: runc, cold: false },
      { name: 'crun', path: findOnPath('crun'), cold: false },
    ];
    const subjects: Subject[] = [];
    for (const c of candidates) {
      if (!c.path || !isExecutable(c.path)) {
        skipped.push({ name: c.name, reason: 'not installed or not built' });
        continue;
      }
      const rt = oci.addRuntime(ctx, c.name, c.path);
      if (c.cold) rt.before = () => rmSync(join(rt.stateRoot, '.seccomp'), { recursive: true, force: true });
      try {
        oci.cycle(rt, bundle);
      } catch (err) {
        skipped.push({ name: c.name, reason: `failed its trial cycle: ${describeError(err)}` });
        ctx.log(`${c.name} failed its trial cycle: ${describeError(err)}`);
        continue;
      }
      const version = versionOf(c.path);
      subjects.push({ name: c.name, ...(version ? { version } : {}), run: () => oci.cycle(rt, bundle) });
    }
    return { subjects, skipped, notes };
  },

  async teardown(ctx) {
    oci.teardown(ctx);
  },
};

export default scenario;
