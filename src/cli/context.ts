// What every `hull` verb gets: the global options, the store opened on first use, and docker's
// conventions for errors and exit codes.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ImageStore } from '../image/store/image-store.ts';
import { loadEngineConfig, type EngineConfig } from '../engine/config.ts';
import type { ContainerEnv } from '../engine/containers/lifecycle.ts';
import { ContainerStore } from '../engine/containers/store.ts';
import { VolumeStore } from '../engine/volumes.ts';
import { NetworkStore } from '../engine/networks/store.ts';

export interface GlobalOptions {
  root: string;
  runroot: string;
  config: string;
}

/** The global options, each of which takes a value: what comes before the verb. */
export const GLOBAL_OPTIONS = new Set(['--root', '--runroot', '--config']);

export class Context {
  readonly options: GlobalOptions;
  private imageStore: ImageStore | undefined;
  private engineConfig: EngineConfig | undefined;
  private env: ContainerEnv | undefined;

  constructor(options: GlobalOptions) {
    this.options = options;
  }

  store(): ImageStore {
    this.imageStore ??= ImageStore.open(this.options.root);
    return this.imageStore;
  }

  /** What container verbs work with: the stores and the state roots. */
  containerEnv(): ContainerEnv {
    if (!this.env) {
      const images = this.store();
      this.env = {
        images,
        containers: new ContainerStore(images.db),
        volumes: new VolumeStore(images.db, this.options.root),
        networks: new NetworkStore(images.db),
        roots: { root: this.options.root, runroot: this.options.runroot },
      };
    }
    return this.env;
  }

  engineSettings(): EngineConfig {
    this.engineConfig ??= loadEngineConfig();
    return this.engineConfig;
  }

  /** The docker client config directory (credentials), as docker's --config / $DOCKER_CONFIG. */
  dockerConfigDir(): string {
    return this.options.config;
  }
}

export function defaultGlobalOptions(): GlobalOptions {
  return {
    root: process.env.HULL_ROOT ?? '/var/lib/hull',
    runroot: process.env.HULL_RUNROOT ?? '/run/hull',
    config: process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'),
  };
}

/** An error whose message the user sees as is, with docker's exit status for its kind. */
export class CliError extends Error {
  readonly status: number;
  constructor(message: string, status = 1) {
    super(message);
    this.status = status;
  }
}

export function write(text: string): void {
  if (text) process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}
