// Where a container's files live. Persistent ones (the rw layer, logs, the bundle) are under the
// state root; those that die with the machine (the shim's sockets, the runtime's state) under runroot.
import { join } from 'node:path';

export interface EngineRoots {
  root: string;
  runroot: string;
}

export class ContainerPaths {
  readonly id: string;
  readonly dir: string;
  readonly runDir: string;
  /** The read-only init layer, shared by all containers (rootfs.ts): mount points and placeholders for the files bound over them. */
  readonly init: string;
  constructor(roots: EngineRoots, id: string) {
    this.id = id;
    this.init = join(roots.root, 'init-layer');
    this.dir = join(roots.root, 'containers', id);
    this.runDir = join(roots.runroot, 'containers', id);
  }
  get upper(): string { return join(this.dir, 'diff'); }
  get work(): string { return join(this.dir, 'work'); }
  get merged(): string { return join(this.dir, 'merged'); }
  get hosts(): string { return join(this.dir, 'hosts'); }
  get hostname(): string { return join(this.dir, 'hostname'); }
  get resolvConf(): string { return join(this.dir, 'resolv.conf'); }
  get log(): string { return join(this.dir, `${this.id}-json.log`); }
}

/** The runtime's state directory: `hull-runtime --root <runroot>/runtime list` shows hull's containers. */
export function runtimeRoot(roots: EngineRoots): string {
  return join(roots.runroot, 'runtime');
}
