// `hull exec [-d] [-i] [-t] [-e K=V] [--env-file F] [-u USER] [-w DIR] [--privileged]
// [--detach-keys KEYS] CONTAINER COMMAND [ARG...]`
import { CommandError } from '../../engine/containers/lifecycle.ts';
import { execInContainer, type ExecConfig } from '../../engine/containers/exec.ts';
import { detachSequence, streamContainer } from '../container-io.ts';
import { CliError } from '../context.ts';
import { readKvFile } from '../kv-file.ts';
import { clientError, daemonError } from './daemon-error.ts';
import { collect, type Verb } from './verb.ts';

/** docker's -e: KEY=VALUE as is; KEY alone takes the value here, or stays alone (which unsets it). */
function envFlag(value: string): string {
  const eq = value.indexOf('=');
  const key = eq < 0 ? value : value.slice(0, eq);
  if (key === '') throw new CliError(`invalid argument "${value}" for "-e, --env" flag: invalid environment variable: ${value}`, 125);
  if (eq >= 0) return value;
  const here = process.env[key];
  return here === undefined ? value : `${key}=${here}`;
}

export const exec: Verb = {
  names: ['exec', 'container exec'],
  define(cmd) {
    cmd
      .description('Execute a command in a running container')
      .argument('<container>')
      .argument('<command...>')
      .option('-d, --detach', 'Detached mode: run command in the background')
      .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
      .option('-e, --env <list>', 'Set environment variables', collect)
      .option('--env-file <list>', 'Read in a file of environment variables', collect)
      .option('-i, --interactive', 'Keep STDIN open even if not attached')
      .option('--privileged', 'Give extended privileges to the command')
      .option('-t, --tty', 'Allocate a pseudo-TTY')
      .option('-u, --user <string>', 'Username or UID (format: "<name|uid>[:<group|gid>]")')
      .option('-w, --workdir <string>', 'Working directory inside the container')
      // everything after the container belongs to the command
      .passThroughOptions();
  },
  async run(ctx, args, opts) {
    const [ref, ...command] = args as [string, ...string[]];
    const detach = Boolean(opts.detach);
    const tty = Boolean(opts.tty);
    const interactive = Boolean(opts.interactive);
    const envFlags = ((opts.env as string[] | undefined) ?? []).map(envFlag);
    let env: string[];
    try {
      const files = (opts.envFile as string[] | undefined) ?? [];
      env = [...files.flatMap((f) => readKvFile(f, (k) => process.env[k])), ...envFlags];
    } catch (e) {
      throw clientError((e as Error).message);
    }
    const engine = ctx.containerEnv();
    let c;
    try {
      c = engine.containers.find(ref);
    } catch (e) {
      throw daemonError(e);
    }
    // a terminal is passed through only from a terminal
    if (!detach && tty && interactive && !process.stdin.isTTY) throw clientError('the input device is not a TTY');
    const keys = opts.detachKeys as string | undefined;
    if (keys !== undefined) {
      try {
        detachSequence(keys);
      } catch {
        throw daemonError(new Error(`Invalid escape keys (${keys}) provided`));
      }
    }
    const x: ExecConfig = {
      Cmd: command,
      Env: env,
      User: (opts.user as string | undefined) ?? '',
      WorkingDir: (opts.workdir as string | undefined) ?? '',
      Privileged: Boolean(opts.privileged),
      Tty: tty,
      AttachStdin: interactive && !detach,
      Detach: detach,
      ...(tty && process.stdout.isTTY ? { ConsoleSize: [process.stdout.rows, process.stdout.columns] as [number, number] } : {}),
    };
    let session;
    try {
      session = await execInContainer(engine, c, x, ref);
    } catch (e) {
      // in the foreground, docker reports the process's own failure on the stream, with its status
      if (e instanceof CommandError && !detach) {
        process.stderr.write(`${e.message}\n`);
        throw new CliError('', e.status);
      }
      throw daemonError(e);
    }
    if (detach) return;
    let code: number | undefined;
    if (session.client) {
      const client = session.client;
      try {
        code = await streamContainer(client, {
          tty: true,
          stdin: interactive,
          ...(opts.detachKeys !== undefined ? { detachKeys: opts.detachKeys as string } : {}),
        }).finally(() => client.close());
      } catch (e) {
        // the exec's shim went away without its exit record: its dir goes all the same
        session.finish();
        throw e;
      }
      if (code !== undefined) session.finish();
      else throw clientError('read escape sequence');
    } else {
      code = await session.exited!;
    }
    if (code !== 0) throw new CliError('', code);
  },
};
