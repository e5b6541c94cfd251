// `hull network connect NETWORK CONTAINER`: docker's flags (--alias, --ip, --ip6, --driver-opt);
// a created container only records the network, a running one joins it at once. Legacy links,
// link-local addresses and gateway priorities are refused: hull's networks have none of them.
import { connectContainer } from '../../engine/networks/connect.ts';
import type { EndpointSettings } from '../../engine/networks/model.ts';
import { parseFlagInt } from '../go-strconv.ts';
import { clientError, daemonError } from './daemon-error.ts';
import { flagError, networkEnv, sliceFlag } from './network-common.ts';
import { collect, type Verb } from './verb.ts';

/** docker's convertDriverOpt: "k=v" pairs, trimmed; a pair without "=" or a key is refused. */
export function driverOpts(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    const key = eq < 0 ? '' : v.slice(0, eq).trim();
    if (key === '') throw new Error('invalid key/value pair format in driver options');
    out[key] = v.slice(eq + 1).trim();
  }
  return out;
}

export const networkConnect: Verb = {
  names: ['network connect'],
  define(cmd) {
    cmd
      .description('Connect a container to a network')
      .argument('<network>', 'NETWORK')
      .argument('<container>', 'CONTAINER')
      .option('--alias <strings>', 'Add network-scoped alias for the container', sliceFlag('--alias'))
      .option('--driver-opt <strings>', 'driver options for the network', sliceFlag('--driver-opt'))
      .option('--gw-priority <int>', 'Highest gw-priority provides the default gateway. Accepts positive and negative values.', (v: string) => {
        try {
          return parseFlagInt(v);
        } catch (err) {
          throw flagError(v, '--gw-priority', (err as Error).message);
        }
      })
      .option('--ip <string>', 'IPv4 address (e.g., "172.30.100.104")')
      .option('--ip6 <string>', 'IPv6 address (e.g., "2001:db8::33")')
      .option('--link <list>', 'Add link to another container', collect)
      .option('--link-local-ip <strings>', 'Add a link-local address for the container', sliceFlag('--link-local-ip'));
  },
  async run(ctx, args, opts) {
    const [network, container] = args as [string, string];
    const list = (key: string) => (opts[key] as string[] | undefined) ?? [];
    let options: Record<string, string>;
    try {
      options = driverOpts(list('driverOpt'));
    } catch (err) {
      throw clientError((err as Error).message);
    }
    const refused = [
      list('link').length ? '--link: legacy links (containers on a user-defined network reach each other by name)' : '',
      list('linkLocalIp').length ? '--link-local-ip: link-local addresses' : '',
      opts.gwPriority ? '--gw-priority: the first network that leads out gives the default route' : '',
    ].filter(Boolean);
    if (refused.length) throw daemonError(new Error(`not supported by hull: ${refused.join('; ')}`));
    const asked: Partial<EndpointSettings> = {};
    const aliases = list('alias');
    if (aliases.length) asked.Aliases = aliases;
    const ip = (opts.ip as string | undefined) ?? '';
    const ip6 = (opts.ip6 as string | undefined) ?? '';
    if (ip || ip6) asked.IPAMConfig = { ...(ip ? { IPv4Address: ip } : {}), ...(ip6 ? { IPv6Address: ip6 } : {}) };
    if (Object.keys(options).length) asked.DriverOpts = options;
    const env = await networkEnv(ctx);
    try {
      connectContainer(env, network, container, asked);
    } catch (err) {
      throw daemonError(err);
    }
  },
};
