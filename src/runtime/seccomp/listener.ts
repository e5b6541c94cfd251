// The runtime-spec's "container process state": what a seccomp agent listening on
// linux.seccomp.listenerPath receives with the listener fd (hull-init sends both).
import { OCI_VERSION } from '../spec/default.ts';
import type { Seccomp, State } from '../spec/types.ts';

export function listenerState(s: Seccomp | undefined, state: State, pid: number): Uint8Array {
  const doc: Record<string, unknown> = { ociVersion: OCI_VERSION, fds: ['seccompFd'], pid };
  if (s?.listenerMetadata) doc.metadata = s.listenerMetadata;
  doc.state = state;
  return Buffer.from(JSON.stringify(doc));
}
