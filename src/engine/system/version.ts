// `version`: what hull is, in the Engine API's SystemVersion shape (GET /version), so that the CLI
// and the API server report the same. hull has no separate daemon: client and engine are the same
// build, and the OCI runtime and monitor are its own binaries.
import { statSync } from 'node:fs';
import { arch as nodeArch, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { HULL_VERSION } from '../../runtime/features.ts';

/** The Engine API versions hull answers to (the swagger files it follows are 1.47's). */
export const API_VERSION = '1.47';
export const MIN_API_VERSION = '1.24';

export interface ComponentVersion {
  Name: string;
  Version: string;
  Details?: Record<string, string>;
}

export interface SystemVersion {
  Platform: { Name: string };
  Components: ComponentVersion[];
  Version: string;
  ApiVersion: string;
  MinAPIVersion: string;
  GitCommit: string;
  /** docker's field for its toolchain; hull's is the Node.js that runs it. */
  GoVersion: string;
  Os: string;
  Arch: string;
  KernelVersion: string;
  BuildTime: string;
}

/** Go's GOARCH for Node's process.arch, as docker reports its architecture. */
export function goArch(a: string = nodeArch()): string {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' };
  return map[a] ?? a;
}

/** When this build was made: the bundle's modification time (empty when running from source). */
export function buildTime(): string {
  try {
    const self = fileURLToPath(import.meta.url);
    if (self.endsWith('.ts')) return '';
    return statSync(self).mtime.toISOString();
  } catch {
    return '';
  }
}

export function systemVersion(): SystemVersion {
  const built = buildTime();
  const details: Record<string, string> = {
    ApiVersion: API_VERSION,
    Arch: goArch(),
    BuildTime: built,
    Experimental: 'false',
    GitCommit: '',
    GoVersion: process.version,
    KernelVersion: release(),
    MinAPIVersion: MIN_API_VERSION,
    Os: 'linux',
  };
  return {
    Platform: { Name: '' },
    Components: [
      { Name: 'Engine', Version: HULL_VERSION, Details: details },
      { Name: 'hull-runtime', Version: HULL_VERSION },
      { Name: 'hull-shim', Version: HULL_VERSION },
    ],
    Version: HULL_VERSION,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: '',
    GoVersion: process.version,
    Os: 'linux',
    Arch: goArch(),
    KernelVersion: release(),
    BuildTime: built,
  };
}
