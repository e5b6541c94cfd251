// `hull-runtime features`: the runtime-spec features document (features.md), which
// tells containerd, CRI-O and Podman what this runtime can do before they ask for it.
// It states what hull implements, not what this host's kernel offers, as runc does.

import { CAPABILITIES } from './capabilities.ts';
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
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
      // Not yet implemented; each flips to true with the issue that adds it.
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: { 'io.github.hull.version': HULL_VERSION },
  };
}
