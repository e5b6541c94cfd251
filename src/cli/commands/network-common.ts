// What the `hull network` verbs share: the engine's environment (reconciled, so that a container
// whose monitor died no longer holds its addresses), docker's flag types that commander lacks
// (pflag's string slices, maps and `--flag=false` booleans), and a network as docker's
// NetworkResource shows it.
import { Option, type Command } from 'commander';
import type { ContainerEnv } from '../../engine/containers/lifecycle.ts';
import { reconcile } from '../../engine/containers/lifecycle.ts';
import { ensureBuiltinNetworks, inspectNetwork } from '../../engine/networks/manage.ts';
import type { Network } from '../../engine/networks/model.ts';
import { goMap } from '../format/render.ts';
import { goQuote, readCsvRecord } from '../go-strconv.ts';
import { pflagBooleans } from '../pflag-bool.ts';
import { CliError, type Context } from '../context.ts';

/** The stores, after the reconcile every command does first, with bridge, host and none in place. */
export async function networkEnv(ctx: Context): Promise<ContainerEnv> {
  const env = ctx.containerEnv();
  await reconcile(env);
  ensureBuiltinNetworks(env, ctx.engineSettings());
  return env;
}

/** pflag's complaint about a flag's value; docker exits 125 for it. */
export function flagError(value: string, flag: string, why: string): CliError {
  return new CliError(`invalid argument ${goQuote(value)} for ${goQuote(flag)} flag: ${why}`, 125);
}

/** A pflag StringSlice flag: each value is a CSV record, and the values add up. */
export function sliceFlag(flag: string): (value: string, previous?: string[]) => string[] {
  return (value, previous = []) => {
    if (value === '') return previous;
    try {
      return [...previous, ...readCsvRecord(value)];
    } catch (err) {
      throw flagError(value, flag, (err as Error).message);
    }
  };
}

/** docker's MapOpts without a validator: "k=v" sets k, "k" sets k to "", a later k wins. */
export function mapFlag(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  return { ...previous, [eq < 0 ? value : value.slice(0, eq)]: eq < 0 ? '' : value.slice(eq + 1) };
}

/**
 * Adds pflag booleans to cmd: `--name`, `--name=true|false|1|0|...` (pflag's spellings), read
 * back as true, false, or undefined when not given (docker's flag.Changed).
 */
export function boolFlags(cmd: Command, flags: { name: string; help: string }[]): void {
  for (const f of flags) {
    cmd.option(`--${f.name}`, f.help);
    cmd.addOption(new Option(`--no-${f.name}`).hideHelp());
  }
  pflagBooleans(cmd, Object.fromEntries(flags.map((f) => [`--${f.name}`, { label: `--${f.name}`, on: `--${f.name}`, off: `--no-${f.name}` }])));
}

/** Go's time.Time in JSON (RFC 3339 with nanoseconds, trailing zeros dropped), from an ISO string. */
function rfc3339Nano(iso: string): string {
  return iso.replace(/(\.\d*?)0*Z$/, '$1Z').replace(/\.Z$/, 'Z');
}

/** A Date that templates print as Go's time.Time and JSON as the daemon's RFC 3339 text. */
export function goTime(iso: string): Date {
  const d = new Date(iso);
  Object.defineProperty(d, 'toJSON', { value: () => rfc3339Nano(iso), enumerable: false });
  return d;
}

/** `network inspect`'s document: docker's NetworkResource fields in docker's order, maps as Go maps. */
export function networkView(env: ContainerEnv, n: Network): Record<string, unknown> {
  const doc = inspectNetwork(env, n) as unknown as Network & { Containers: Record<string, unknown> };
  return {
    Name: doc.Name,
    Id: doc.Id,
    Created: goTime(doc.Created),
    Scope: doc.Scope,
    Driver: doc.Driver,
    EnableIPv4: doc.EnableIPv4,
    EnableIPv6: doc.EnableIPv6,
    IPAM: {
      Driver: doc.IPAM.Driver,
      Options: doc.IPAM.Options === null ? null : goMap({ ...doc.IPAM.Options }, ''),
      Config: doc.IPAM.Config.map((p) => ({
        Subnet: p.Subnet,
        ...(p.IPRange ? { IPRange: p.IPRange } : {}),
        ...(p.Gateway ? { Gateway: p.Gateway } : {}),
      })),
    },
    Internal: doc.Internal,
    Attachable: doc.Attachable,
    Ingress: doc.Ingress,
    ConfigFrom: { Network: doc.ConfigFrom.Network },
    ConfigOnly: doc.ConfigOnly,
    Containers: goMap({ ...doc.Containers }),
    Options: goMap({ ...doc.Options }, ''),
    Labels: goMap({ ...doc.Labels }, ''),
  };
}
