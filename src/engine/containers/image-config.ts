// A new container's config: what `run`/`create` asked for, completed from the image's config the
// way dockerd does it (moby's daemon/commit.go merge and create.go mergeAndVerifyConfig), so that
// `inspect` shows what docker would show.
import type { ContainerConfig as ImageRuntimeConfig, HealthConfig } from '../../image/manifest.ts';
import type { ContainerConfig } from './model.ts';

/** The "config" object of an image config (OCI, with docker's Healthcheck): manifest.ts's type. */
export type { ImageRuntimeConfig };

const envKey = (e: string): string => {
  const at = e.indexOf('=');
  return at < 0 ? e : e.slice(0, at);
};

function mergeHealthcheck(user: HealthConfig | undefined, image: HealthConfig): HealthConfig {
  if (!user) return structuredClone(image);
  const out = { ...user };
  if (!out.Test?.length && image.Test) out.Test = [...image.Test];
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) {
    if (!out[k] && image[k]) out[k] = image[k];
  }
  return out;
}

/**
 * The container's config: `config` as given, with what it leaves unset taken from the image.
 * - Env: the user's variables, then the image's whose names the user did not set.
 * - Cmd: the image's unless the user gave one, and only when the user gave no Entrypoint:
 *   a new entrypoint means the image's arguments no longer fit.
 * - Entrypoint: the image's when null; `--entrypoint ""` ([""]) clears it (and the image's Cmd).
 * - User, WorkingDir, StopSignal: the user's, else the image's.
 * - Labels: both, the user's winning. ExposedPorts, Volumes: the union.
 * - Healthcheck: the image's, with the fields the user set replacing it.
 * A PATH is not added here: like docker, `inspect` shows only what user and image set; the
 * process gets the default PATH in the spec (spec.ts).
 */
export function mergeImageConfig(config: ContainerConfig, image: ImageRuntimeConfig | null | undefined): ContainerConfig {
  const out: ContainerConfig = structuredClone(config);
  const img = image ?? {};

  if (!out.User) out.User = img.User ?? '';

  const imagePorts = img.ExposedPorts ?? null;
  if (!out.ExposedPorts || Object.keys(out.ExposedPorts).length === 0) {
    if (imagePorts) out.ExposedPorts = Object.fromEntries(Object.keys(imagePorts).map((p) => [p, {}]));
  } else if (imagePorts) {
    for (const p of Object.keys(imagePorts)) if (!(p in out.ExposedPorts)) out.ExposedPorts[p] = {};
  }

  const imageEnv = img.Env ?? [];
  if (!out.Env || out.Env.length === 0) {
    out.Env = [...imageEnv];
  } else {
    const set = new Set(out.Env.map(envKey));
    for (const e of imageEnv) if (!set.has(envKey(e))) out.Env.push(e);
  }

  out.Labels = { ...(img.Labels ?? {}), ...(out.Labels ?? {}) };

  if (!out.Entrypoint || out.Entrypoint.length === 0) {
    if (!out.Cmd || out.Cmd.length === 0) out.Cmd = img.Cmd ? [...img.Cmd] : out.Cmd;
    if (out.Entrypoint === null || out.Entrypoint === undefined) out.Entrypoint = img.Entrypoint ? [...img.Entrypoint] : null;
  }
  // `--entrypoint ""`: no entrypoint at all, and (above) not the image's Cmd either.
  if (out.Entrypoint?.length === 1 && out.Entrypoint[0] === '') out.Entrypoint = null;

  if (img.Healthcheck) out.Healthcheck = mergeHealthcheck(out.Healthcheck, img.Healthcheck);

  if (!out.WorkingDir) out.WorkingDir = img.WorkingDir ?? '';

  const imageVolumes = img.Volumes ?? null;
  if (!out.Volumes || Object.keys(out.Volumes).length === 0) {
    out.Volumes = imageVolumes ? Object.fromEntries(Object.keys(imageVolumes).map((v) => [v, {}])) : out.Volumes ?? null;
  } else if (imageVolumes) {
    for (const v of Object.keys(imageVolumes)) out.Volumes[v] = {};
  }

  if (!out.StopSignal && img.StopSignal) out.StopSignal = img.StopSignal;
  return out;
}

/** docker's check after the merge: something must be run. */
export function checkCommand(config: ContainerConfig): void {
  if ((config.Entrypoint?.length ?? 0) === 0 && (config.Cmd?.length ?? 0) === 0) throw new Error('no command specified');
}
