// `docker container inspect`'s document for a container.
import type { ContainerEnv } from './lifecycle.ts';
import type { Container } from './model.ts';
import { ContainerPaths } from './paths.ts';
import { diskUsage } from '../../image/store/disk-usage.ts';
import { emptyEndpoint, type EndpointSettings } from '../networks/model.ts';
import { netnsPath } from '../networks/plumbing.ts';

export function inspectContainer(env: ContainerEnv, c: Container, withSize = false): Record<string, unknown> {
  const p = new ContainerPaths(env.roots, c.Id);
  const image = env.images.get(c.Image);
  let lower = '';
  try {
    const chain = image?.topChain;
    lower = [p.init, ...(chain ? env.images.snapshots.lowerDirs(chain) : [])].join(':');
  } catch {
    lower = p.init;
  }
  const state = { ...c.State, Status: c.State.Paused ? 'paused' : c.State.Status };
  const out: Record<string, unknown> = {
    Id: c.Id,
    Created: c.Created,
    Path: c.Path,
    Args: c.Args,
    State: state,
    Image: c.Image,
    ResolvConfPath: p.resolvConf,
    HostnamePath: p.hostname,
    HostsPath: p.hosts,
    LogPath: c.HostConfig.LogConfig.Type === 'none' ? '' : p.log,
    Name: `/${c.Name}`,
    RestartCount: c.RestartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: c.HostConfig,
    GraphDriver: { Data: { LowerDir: lower, MergedDir: p.merged, UpperDir: p.upper, WorkDir: p.work }, Name: 'overlay2' },
    Mounts: c.Mounts,
    Config: c.Config,
    NetworkSettings: networkSettings(env, c),
  };
  if (withSize) {
    const rw = diskUsage(p.upper);
    out.SizeRw = rw;
    out.SizeRootFs = rw + (image?.size ?? 0);
  }
  return out;
}

/** docker's NetworkSettings: each network's endpoint, and the top-level copy of the default bridge's. */
function networkSettings(env: ContainerEnv, c: Container): Record<string, unknown> {
  const networks: Record<string, EndpointSettings> = {};
  const endpoints = env.networks.containerEndpoints(c.Id);
  for (const e of endpoints) {
    const n = env.networks.get(e.network);
    if (n) networks[n.Name] = e.settings;
  }
  const mode = c.HostConfig.NetworkMode || 'none';
  // none and host show as a network with no endpoint, as docker's do
  if (!endpoints.length && !mode.startsWith('container:')) networks[mode] = emptyEndpoint(env.networks.byName(mode)?.Id ?? '');
  const sandbox = c.State.Running && endpoints.length > 0;
  const bridge: Partial<EndpointSettings> = networks.bridge ?? {};
  return {
    Bridge: '', SandboxID: sandbox ? c.Id : '', SandboxKey: sandbox ? netnsPath(env, c.Id) : '',
    Ports: c.Ports ?? {}, HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
    SecondaryIPAddresses: null, SecondaryIPv6Addresses: null,
    EndpointID: bridge.EndpointID ?? '', Gateway: bridge.Gateway ?? '', GlobalIPv6Address: bridge.GlobalIPv6Address ?? '',
    GlobalIPv6PrefixLen: bridge.GlobalIPv6PrefixLen ?? 0, IPAddress: bridge.IPAddress ?? '', IPPrefixLen: bridge.IPPrefixLen ?? 0,
    IPv6Gateway: bridge.IPv6Gateway ?? '', MacAddress: bridge.MacAddress ?? '',
    Networks: networks,
  };
}
