// `hull login [SERVER]`: checks the credentials against the registry, then stores them where
// docker does (~/.docker/config.json, or its credential helper).
import { createInterface } from 'node:readline/promises';
import { login } from '../../registry/credentials.ts';
import { CliError, write } from '../context.ts';
import type { Verb } from './verb.ts';

export const loginVerb: Verb = {
  names: ['login'],
  define(cmd) {
    cmd
      .description('Log in to a registry')
      .argument('[server]', 'registry (default: Docker Hub)')
      .option('-u, --username <username>', 'username')
      .option('-p, --password <password>', 'password')
      .option('--password-stdin', 'take the password from stdin');
  },
  async run(ctx, args, opts) {
    const server = serverDomain(args[0]);
    let username = opts.username as string | undefined;
    let password = opts.password as string | undefined;
    if (password && opts.passwordStdin) throw new CliError('--password and --password-stdin are mutually exclusive');
    if (opts.passwordStdin) {
      if (!username) throw new CliError('Must provide --username with --password-stdin');
      password = (await readAll(process.stdin)).replace(/\r?\n$/, '');
    } else if (password) {
      process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    }
    if (!username || !password) {
      if (!process.stdin.isTTY) throw new CliError('Cannot perform an interactive login from a non TTY device');
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      username ||= (await rl.question('Username: ')).trim();
      password ||= await rl.question('Password: ');
      rl.close();
    }
    if (!username) throw new CliError('Username is required');
    if (!password) throw new CliError('Password is required');
    const cfg = ctx.engineSettings();
    await login(server, username, password, { configDir: ctx.dockerConfigDir(), insecureRegistries: cfg.insecureRegistries });
    write('Login Succeeded');
  },
};

/** docker accepts "https://host/v1/" and friends; the credential key is the host. */
export function serverDomain(arg: string | undefined): string {
  if (!arg) return 'docker.io';
  return arg.replace(/^https?:\/\//i, '').split('/')[0]!;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let s = '';
  for await (const chunk of stream) s += String(chunk);
  return s;
}
