// `hull-runtime features`: the runtime-spec features document (features.md), which
// tells containerd, CRI-O and Podman what this runtime can do before they ask for it.
// It states what hull implements, not what this host's kernel offers, as runc does.

import { CAPABILITIES } from './capabilities.ts';
import { SUPPORTED_ARCHES } from './seccomp/arch.ts';
import { ACTIONS, FLAGS, OPERATORS } from './seccomp/compile.ts';
import { OCI_VERSION } from './spec/default.ts';
import { MOUNT_OPTIONS } from './spec/mount-options.ts';
import { HOOK_STAGES, NAMESPACE_TYPES } from './spec/validate.ts';

/** hull's version, as reported in the features annotations. */
export const HULL_VERSION = '0.1.0';

export function features(): object {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: [...HOOK_STAGES],
    mountOptions: [...MOUNT_OPTIONS],
    linux: {
      namespaces: [...NAMESPACE_TYPES],
      capabilities: [...CAPABILITIES],
      // rdma: linux.resources.rdma is written to rdma.max where the controller is (cgroups/v1.ts)
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true },
      // Compiled to BPF by hull itself (src/runtime/seccomp/); flags are all the kernel's.
      seccomp: {
        enabled: true,
        actions: [...ACTIONS],
        operators: [...OPERATORS],
        archs: [...SUPPORTED_ARCHES],
        knownFlags: [...FLAGS],
        supportedFlags: [...FLAGS],
      },
      // Implemented, whatever this host has (features.md: "unrelated to whether the host
      // supports" it, and runc says the same): a profile, label or CLOS group is applied where
      // the host has AppArmor, SELinux or resctrl, and refused at create where it has not.
      // security/lsm.ts and intel-rdt.ts; monitoring is enableMonitoring's mon_groups.
      apparmor: { enabled: true },
      selinux: { enabled: true },
      intelRdt: { enabled: true, schemata: true, monitoring: true },
      // Id-mapped mounts are refused at create (plan/compile.ts).
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: { 'io.github.hull.version': HULL_VERSION },
  };
}
