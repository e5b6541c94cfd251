// `hull attach [--no-stdin] [--sig-proxy=false] [--detach-keys KEYS] CONTAINER`: the terminal
// joins a running container's stdio through its shim's attach socket, until the container exits
// (with its exit code) or the user types the detach keys.
import type { Command } from 'commander';
import { killContainer, waitStopped } from '../../engine/containers/lifecycle.ts';
import { ContainerPaths } from '../../engine/containers/paths.ts';
import { AttachClient } from '../../engine/containers/shim.ts';
import { detachSequence, streamContainer } from '../container-io.ts';
import { CliError } from '../context.ts';
import { pflagBooleans } from '../pflag-bool.ts';
import { clientError, daemonError } from './daemon-error.ts';
import type { Verb } from './verb.ts';

const BOOLEANS = new Map([['--sig-proxy', 'Proxy all received signals to the process'], ['--no-stdin', 'Do not attach STDIN']]);

export const attach: Verb = {
  names: ['attach', 'container attach'],
  define(cmd: Command) {
    cmd
      .description('Attach local standard input, output, and error streams to a running container')
      .argument('<container>')
      .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
      .option('--no-stdin', BOOLEANS.get('--no-stdin')!)
      .option('--sig-proxy', BOOLEANS.get('--sig-proxy')!, true)
      .option('--no-sig-proxy', 'Do not proxy signals');
    // "--no-stdin=false" is no flag at all
    pflagBooleans(cmd, {
      '--sig-proxy': { label: '--sig-proxy', on: '--sig-proxy', off: '--no-sig-proxy' },
      '--no-stdin': { label: '--no-stdin', on: '--no-stdin', off: null },
    });
  },
  async run(ctx, args, opts) {
    const env = ctx.containerEnv();
    let c;
    try {
      c = env.containers.find(args[0]!);
    } catch (e) {
      throw daemonError(e);
    }
    // the docker CLI's own checks, before it attaches
    if (!c.State.Running) throw clientError('You cannot attach to a stopped container, start it first');
    if (c.State.Paused) throw clientError('You cannot attach to a paused container, unpause it first');
    if (c.State.Restarting) throw clientError('You cannot attach to a restarting container, wait until it is running');
    const wantStdin = opts.stdin !== false;
    if (wantStdin && c.Config.Tty && !process.stdin.isTTY) throw clientError('the input device is not a TTY');
    const stdin = wantStdin && c.Config.OpenStdin;
    let client: AttachClient;
    try {
      if (opts.detachKeys !== undefined) detachSequence(opts.detachKeys as string);
      client = await AttachClient.connect(new ContainerPaths(env.roots, c.Id).runDir, { stdin });
    } catch (e) {
      throw daemonError(e);
    }
    const id = c.Id;
    const ref = c;
    let code: number | undefined;
    try {
      if (c.Config.Tty) {
        code = await streamContainer(client, {
          tty: true,
          stdin,
          ...(opts.detachKeys !== undefined ? { detachKeys: opts.detachKeys as string } : {}),
        });
      } else {
        // Without a terminal, the end of our input closes the container's only if it was made
        // to close with its first attach (StdinOnce), as docker's daemon does.
        let feed: ((d: Buffer) => void) | undefined;
        if (stdin) {
          feed = (d: Buffer) => client.writeStdin(d);
          process.stdin.on('data', feed);
          process.stdin.once('end', () => {
            if (ref.Config.StdinOnce) client.closeStdin();
          });
        }
        try {
          code = await streamContainer(client, {
            tty: false,
            stdin: false,
            ...(opts.sigProxy !== false
              ? { proxySignal: (sig: NodeJS.Signals) => void killContainer(env, env.containers.get(id) ?? ref, sig).catch(() => {}) }
              : {}),
          });
        } finally {
          if (feed) {
            process.stdin.off('data', feed);
            process.stdin.pause();
            (process.stdin as { unref?: () => void }).unref?.();
          }
        }
      }
    } finally {
      client.close();
    }
    if (code === undefined) throw clientError('read escape sequence');
    // docker's attach ends with the container's wait: its state has caught up with the exit
    const policy = c.HostConfig.RestartPolicy.Name;
    if (!policy || policy === 'no') await waitStopped(env, id, 10_000);
    if (code !== 0) throw new CliError('', code);
  },
};
