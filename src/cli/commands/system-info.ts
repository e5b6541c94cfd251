// `hull info` / `hull system info [--format]`: docker info's layout, for the parts that mean
// something for hull (no swarm, plugins beyond the built-in ones, or separate containerd/runc).
import { reconcile } from '../../engine/containers/lifecycle.ts';
import { systemInfo, type SystemInfo } from '../../engine/system/info.ts';
import { HULL_VERSION } from '../../runtime/features.ts';
import { FormatError, renderOne } from '../format/render.ts';
import { CliError } from '../context.ts';
import { bytesSize } from './stats.ts';
import type { Verb } from './verb.ts';

interface ClientInfo {
  Debug: boolean;
  Version: string;
  Context: string;
  Plugins: never[];
  Warnings: null;
}

function text(info: SystemInfo, client: ClientInfo): string {
  const out: string[] = [
    'Client:',
    ` Version:    ${client.Version}`,
    ` Context:    ${client.Context}`,
    ` Debug Mode: ${client.Debug}`,
    '',
    'Server:',
    ` Containers: ${info.Containers}`,
    `  Running: ${info.ContainersRunning}`,
    `  Paused: ${info.ContainersPaused}`,
    `  Stopped: ${info.ContainersStopped}`,
    ` Images: ${info.Images}`,
    ` Server Version: ${info.ServerVersion}`,
    ` Storage Driver: ${info.Driver}`,
    ...info.DriverStatus.map(([k, v]) => `  ${k}: ${v}`),
    ` Logging Driver: ${info.LoggingDriver}`,
    ` Cgroup Driver: ${info.CgroupDriver}`,
    ` Cgroup Version: ${info.CgroupVersion}`,
    ' Plugins:',
    `  Volume: ${info.Plugins.Volume.join(' ')}`,
    `  Network: ${info.Plugins.Network.join(' ')}`,
    `  Log: ${info.Plugins.Log.join(' ')}`,
    ` Swarm: ${info.Swarm.LocalNodeState}`,
    ` Runtimes: ${Object.keys(info.Runtimes).sort().join(' ')}`,
    ` Default Runtime: ${info.DefaultRuntime}`,
    ` Init Binary: ${info.InitBinary}`,
    ' Security Options:',
  ];
  for (const opt of info.SecurityOptions) {
    // "name=seccomp,profile=builtin": the name, then its other keys below it, as docker prints them
    const kv = opt.split(',').map((p) => p.split('=') as [string, string]);
    out.push(`  ${kv.find(([k]) => k === 'name')?.[1] ?? opt}`);
    for (const [k, v] of kv) if (k !== 'name') out.push(`   ${k[0]!.toUpperCase()}${k.slice(1)}: ${v}`);
  }
  out.push(
    ` Kernel Version: ${info.KernelVersion}`,
    ` Operating System: ${info.OperatingSystem}`,
    ` OSType: ${info.OSType}`,
    ` Architecture: ${info.Architecture}`,
    ` CPUs: ${info.NCPU}`,
    ` Total Memory: ${bytesSize(info.MemTotal)}`,
    ` Name: ${info.Name}`,
  );
  if (info.ID) out.push(` ID: ${info.ID}`);
  out.push(` Docker Root Dir: ${info.DockerRootDir}`, ` Debug Mode: ${info.Debug}`, ` Experimental: ${info.ExperimentalBuild}`);
  const insecure = [
    ...Object.values(info.RegistryConfig.IndexConfigs).filter((c) => !c.Secure).map((c) => c.Name),
    ...info.RegistryConfig.InsecureRegistryCIDRs,
  ];
  if (insecure.length) out.push(' Insecure Registries:', ...insecure.map((r) => `  ${r}`));
  if (info.RegistryConfig.Mirrors.length) out.push(' Registry Mirrors:', ...info.RegistryConfig.Mirrors.map((m) => `  ${m}`));
  out.push(` Live Restore Enabled: ${info.LiveRestoreEnabled}`);
  return `${out.join('\n')}\n\n`;
}

export const systemInfoVerb: Verb = {
  names: ['info', 'system info'],
  define(cmd) {
    cmd.description('Display system-wide information').option('-f, --format <format>', 'format output using a custom template');
  },
  async run(ctx, _args, opts) {
    const env = ctx.containerEnv();
    await reconcile(env);
    const info = systemInfo(env, ctx.engineSettings());
    const client: ClientInfo = { Debug: false, Version: HULL_VERSION, Context: 'default', Plugins: [], Warnings: null };
    const format = opts.format as string | undefined;
    if (format === undefined || format === '') {
      process.stdout.write(text(info, client));
      return;
    }
    try {
      process.stdout.write(`${renderOne(format === 'json' ? '{{json .}}' : format, { ...info, ClientInfo: client })}\n`);
    } catch (e) {
      if (e instanceof FormatError) throw new CliError(e.message, 1);
      throw e;
    }
  },
};
