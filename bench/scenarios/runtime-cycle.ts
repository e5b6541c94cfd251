// One OCI runtime lifecycle of a busybox container running /bin/true:
// create + start + wait (poll `state` until stopped) + delete, one fresh container id per cycle.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, findOnPath, isExecutable, runChecked, versionOf } from '../lib/command.ts';
import { OciCycle } from '../lib/oci-cycle.ts';
import type { Prepared, Scenario, Skipped, Subject } from '../lib/scenario.ts';

const HYBRID_ERROR = 'cgroups in hybrid mode not supported';
const HUGETLB = '/sys/fs/cgroup/hugetlb';
const oci = new OciCycle(`hullbench-${process.pid}-`);

function hugetlbMountedV1(): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((line) => {
    const [, after] = line.split(' - ');
    if (!after) return false;
    const [fstype, , superOptions] = after.split(' ');
    return fstype === 'cgroup' && (superOptions ?? '').split(',').includes('hugetlb');
  });
}

const scenario: Scenario = {
  name: 'runtime-cycle',
  description: 'One OCI runtime lifecycle, as containerd or Podman drive it: `create` + `start` of a busybox bundle ' +
    'whose process runs `/bin/true` (no terminal, read-only rootfs, the namespaces `runc spec` makes), then `state` polled ' +
    'back to back until the container is stopped, then `delete`. A fresh container id each cycle, one state root per ' +
    'runtime, each command a separate process, as the callers run them.',
  baseline: 'runc',
  steps: ['create', 'start', 'wait', 'delete'],

  async setup(ctx): Promise<Prepared> {
    if (process.getuid?.() !== 0) throw new Error('runtime-cycle needs root (it creates real containers)');
    const runc = findOnPath('runc');
    if (!runc) throw new Error('runc is needed to make the bundle (`runc spec`) and as the baseline: apt-get install runc');
    ctx.log('making the busybox bundle');
    const bundle = oci.makeBundle(ctx, runc);
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    const namespaces = (config.linux?.namespaces ?? []).map((n: { type: string }) => n.type).join(', ');

    const skipped: Skipped[] = [];
    const notes: string[] = [`Bundle namespaces (from \`runc spec\`): ${namespaces}. No cgroupsPath, so each runtime picks its default.`];
    notes.push(
      'hull-runtime: start, state, kill and delete run in native/front.c, a static C program, from facts the TypeScript ' +
        'runtime recorded at create; create and exec run in Node 24, and about 25 ms of the create step is Node starting. ' +
        "A container's first cgroup move waits one RCU grace period (13-20 ms on this kernel; runc and crun pay it too); " +
        "hull-runtime's front overlaps that wait with Node's start-up (README, design notes).",
    );
    const candidates: { name: string; path: string | undefined; missing: string }[] = [
      { name: 'hull-runtime', path: join(ctx.repoRoot, 'dist/hull-runtime'), missing: 'dist/hull-runtime is not built yet (`npm run build`)' },
      { name: 'runc', path: runc, missing: '' },
      { name: 'crun', path: findOnPath('crun'), missing: 'crun is not on PATH (apt-get install crun)' },
    ];

    const subjects: Subject[] = [];
    for (const c of candidates) {
      if (!c.path || !isExecutable(c.path)) {
        skipped.push({ name: c.name, reason: c.missing });
        ctx.log(`skipping ${c.name}: ${c.missing}`);
        continue;
      }
      const rt = oci.addRuntime(ctx, c.name, c.path);
      // A trial cycle: a runtime that cannot run the bundle at all is reported, not fatal.
      try {
        oci.cycle(rt, bundle);
      } catch (err) {
        const message = describeError(err);
        if (c.name === 'crun' && message.includes(HYBRID_ERROR) && !hugetlbMountedV1()) {
          ctx.log(`crun refuses the hybrid cgroup layout; mounting hugetlb as v1 at ${HUGETLB} (the peers' workaround)`);
          runChecked('mkdir', ['-p', HUGETLB]);
          runChecked('mount', ['-t', 'cgroup', '-o', 'hugetlb', 'cgroup', HUGETLB]);
          notes.push(`crun 1.8 refused the hybrid cgroup layout ("${HYBRID_ERROR}"), so this run mounted hugetlb as a v1 ` +
            `hierarchy at ${HUGETLB} (\`mount -t cgroup -o hugetlb cgroup ${HUGETLB}\`) before measuring. All subjects ran ` +
            'with that layout. The mount stays until reboot: unmounting does not give hugetlb back to cgroup2.');
          try {
            oci.cycle(rt, bundle);
          } catch (err2) {
            skipped.push({ name: c.name, reason: `failed even with the hugetlb workaround: ${describeError(err2)}` });
            continue;
          }
        } else {
          skipped.push({ name: c.name, reason: `failed its trial cycle: ${message}` });
          ctx.log(`${c.name} failed its trial cycle: ${message}`);
          continue;
        }
      }
      const version = versionOf(c.path);
      subjects.push({ name: c.name, ...(version ? { version } : {}), run: () => oci.cycle(rt, bundle) });
    }
    if (hugetlbMountedV1() && !notes.some((n) => n.includes(HUGETLB))) {
      notes.push(`hugetlb was already mounted as a v1 hierarchy (the peers' workaround for crun 1.8 on the hybrid layout), ` +
        'so all subjects ran with cgroup2 holding no controllers.');
    }
    return { subjects, skipped, notes };
  },

  async teardown(ctx) {
    oci.teardown(ctx);
  },
};

export default scenario;
