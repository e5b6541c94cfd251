// Device access rules: the v1 devices cgroup, and on v2 an eBPF program compiled here.
// (Interface fixed so the resources code can call it; the body is being written.)
import type { DeviceRule, Spec } from '../spec/types.ts';
import type { CgroupLayout } from './hierarchy.ts';

/** The rules a container's cgroup gets: linux.resources.devices plus what create needs. */
export function effectiveDeviceRules(spec: Spec): DeviceRule[] {
  return spec.linux?.resources?.devices ?? [];
}

/** Applies rules to the container's cgroup directories (one per hierarchy, as saved). */
export async function applyDevices(dirs: string[], rules: DeviceRule[], lay: CgroupLayout): Promise<void> {
  void dirs;
  void lay;
  if (rules.length > 0) throw new Error('linux.resources.devices: not applied yet');
}
