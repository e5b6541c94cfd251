// `run` without -d and `start -a`: start with the shim's attach socket already connected, stream
// until the container exits, and clean up here (a Node start saved) unless a restart policy needs
// the shim's exit command to outlive us. A non-zero exit becomes the CLI's status.
import { cleanupContainer, killContainer, startContainer, waitStopped, type ContainerEnv } from '../../engine/containers/lifecycle.ts';
import type { Container } from '../../engine/containers/model.ts';
import { streamContainer } from '../container-io.ts';
import { CliError } from '../context.ts';

export async function startAttached(env: ContainerEnv, c: Container, o: { stdin: boolean; detachKeys?: string; sigProxy: boolean }): Promise<void> {
  const policy = c.HostConfig.RestartPolicy.Name;
  const claim = !policy || policy === 'no';
  const client = await startContainer(env, c, { attach: { stdin: o.stdin, claimCleanup: claim } });
  if (!client) throw new CliError(`container ${c.Id} is already running`, 1);
  const code = await streamContainer(client, {
    tty: c.Config.Tty,
    stdin: o.stdin,
    ...(o.detachKeys !== undefined ? { detachKeys: o.detachKeys } : {}),
    ...(o.sigProxy ? { proxySignal: (sig: NodeJS.Signals) => void killContainer(env, env.containers.get(c.Id) ?? c, sig).catch(() => {}) } : {}),
  }).catch(async (e: unknown) => {
    // the shim went away without an exit record: record how the container ended before saying so
    await waitStopped(env, c.Id, 2000).catch(() => {});
    throw e;
  });
  if (code === undefined) return client.close();
  if (claim) {
    await cleanupContainer(env, c.Id);
    client.cleanupDone();
  }
  client.close();
  if (code !== 0) throw new CliError('', code);
}
