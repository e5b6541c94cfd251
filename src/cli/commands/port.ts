// `hull port CONTAINER [PRIVATE_PORT[/PROTO]]`: the host addresses a running container's ports
// are published on, as docker prints them ("80/tcp -> 0.0.0.0:8080", in natural order; with a
// port, only the addresses).
import { CliError, write } from '../context.ts';
import { parseUint } from '../go-strconv.ts';
import { daemonError } from './daemon-error.ts';
import { networkEnv } from './network-common.ts';
import type { Verb } from './verb.ts';
import { naturalLess } from './volume-ls.ts';

/** Go's net.JoinHostPort: an IPv6 host goes in brackets. */
function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export const port: Verb = {
  names: ['port', 'container port'],
  define(cmd) {
    cmd
      .description('List port mappings or a specific mapping for the container')
      .argument('<container>', 'CONTAINER')
      .argument('[port]', 'PRIVATE_PORT[/PROTO]');
  },
  async run(ctx, args) {
    const [ref, asked] = args as [string, string | undefined];
    const env = await networkEnv(ctx);
    let ports;
    try {
      ports = env.containers.find(ref).Ports ?? {};
    } catch (err) {
      throw daemonError(err);
    }
    const out: string[] = [];
    if (asked !== undefined && asked !== '') {
      const slash = asked.indexOf('/');
      const number = slash < 0 ? asked : asked.slice(0, slash);
      const proto = (slash < 0 ? '' : asked.slice(slash + 1)) || 'tcp';
      try {
        parseUint(number, 10, 16);
      } catch (err) {
        throw new CliError(`invalid port (${number}): ${(err as Error).message}`, 1);
      }
      const bindings = ports[`${number}/${proto}`] ?? [];
      if (!bindings.length) throw new CliError(`No public port '${asked}' published for ${ref}`, 1);
      for (const b of bindings) out.push(joinHostPort(b.HostIp, b.HostPort));
    } else {
      for (const [key, bindings] of Object.entries(ports)) {
        for (const b of bindings ?? []) out.push(`${key} -> ${joinHostPort(b.HostIp, b.HostPort)}`);
      }
    }
    out.sort((a, b) => (naturalLess(a, b) ? -1 : naturalLess(b, a) ? 1 : 0));
    if (out.length) write(out.join('\n'));
  },
};
