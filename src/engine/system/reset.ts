// `hull system reset` (podman's verb): everything the engine made goes — containers, networks with
// their bridges and the firewall table, volumes and images — leaving the host as before hull ran.
import { listImages, removeImage } from '../images.ts';
import { removeContainer, type ContainerEnv } from '../containers/lifecycle.ts';
import { firewall, removeBridge } from '../networks/plumbing.ts';

export interface ResetResult {
  errors: string[];
}

export async function systemReset(env: ContainerEnv): Promise<ResetResult> {
  const errors: string[] = [];
  const attempt = async (what: string, fn: () => unknown) => {
    try {
      await fn();
    } catch (e) {
      errors.push(`${what}: ${(e as Error).message}`);
    }
  };
  await Promise.all(env.containers.list().map((c) => attempt(`container ${c.Id}`, () => removeContainer(env, c.Id, { force: true, volumes: true }))));
  for (const n of env.networks.list()) {
    await attempt(`network ${n.Name}`, () => {
      removeBridge(env, n);
      env.networks.delete(n.Id);
    });
  }
  await attempt('firewall', () => firewall(env).removeAll());
  for (const v of env.volumes.list()) await attempt(`volume ${v.Name}`, () => env.volumes.remove(v.Name, true));
  for (const img of listImages(env.images)) await attempt(`image ${img.id}`, () => removeImage(env.images, img.id, { force: true }));
  return { errors };
}
