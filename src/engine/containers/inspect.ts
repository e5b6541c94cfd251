// `docker container inspect`'s document for a container.
import type { ContainerEnv } from './lifecycle.ts';
import type { Container } from './model.ts';
import { ContainerPaths } from './paths.ts';
import { diskUsage } from '../../image/store/disk-usage.ts';

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
    NetworkSettings: {
      Bridge: '', SandboxID: '', SandboxKey: '', Ports: {}, HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
      SecondaryIPAddresses: null, SecondaryIPv6Addresses: null, EndpointID: '', Gateway: '', GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0, IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', MacAddress: '',
      Networks: { [c.HostConfig.NetworkMode || 'none']: { IPAMConfig: null, Links: null, Aliases: null, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: null } },
    },
  };
  if (withSize) {
    const rw = diskUsage(p.upper);
    out.SizeRw = rw;
    out.SizeRootFs = rw + (image?.size ?? 0);
  }
  return out;
}
