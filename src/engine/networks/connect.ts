// `network connect` and `network disconnect`: a created container only changes its record; a
// running one also gets (or loses) its veth, address and DNS names at once.
import { transaction } from '../../image/store/metadata.ts';
import { RouteSocket } from '../../network/netlink/route.ts';
import { detachVeth } from '../../network/veth.ts';
import type { ContainerEnv } from '../containers/lifecycle.ts';
import type { Container } from '../containers/model.ts';
import { joinEndpoint } from './join.ts';
import { NetworkError } from './manage.ts';
import { BRIDGE_NAME_OPTION, MTU_OPTION, type EndpointSettings } from './model.ts';
import { addressEndpoints, attachFresh, endpointAddresses, bridgeUp, hasDns, netnsPath, refreshDns, releaseAddresses, vethName } from './plumbing.ts';

function checkMode(c: Container): void {
  const mode = c.HostConfig.NetworkMode;
  if (mode === 'host') throw new NetworkError('container cannot be disconnected from host network or connected to host network', 403);
  if (mode === 'none') throw new NetworkError('container cannot be connected to multiple networks with one of the networks in private (none) mode', 403);
  if (mode.startsWith('container:')) throw new NetworkError('container sharing network namespace with another container or host cannot be connected to any other network', 403);
}

/** The first ethN the container does not have: a disconnect may have left a gap. */
function freeEthName(netns: string): string {
  using s = RouteSocket.open(netns);
  const names = new Set(s.listLinks().map((l) => l.name));
  for (let i = 0; ; i++) if (!names.has(`eth${i}`)) return `eth${i}`;
}

export function connectContainer(env: ContainerEnv, netRef: string, containerRef: string, asked: Partial<EndpointSettings> = {}): void {
  const c = env.containers.find(containerRef);
  const n = env.networks.find(netRef);
  checkMode(c);
  if (n.Driver !== 'bridge') throw new NetworkError('container cannot be disconnected from host network or connected to host network', 403);
  const settings = joinEndpoint(n, asked);
  transaction(env.networks.db, () => {
    if (env.networks.containerEndpoints(c.Id).some((e) => e.network === n.Id)) throw new NetworkError(`endpoint with name ${c.Name} already exists in network ${n.Name}`, 403);
    env.networks.addEndpoint(n.Id, c.Id, settings);
  });
  if (!c.State.Running) return;
  try {
    bridgeUp(env, n);
    const e = env.networks.containerEndpoints(c.Id).find((x) => x.network === n.Id)!;
    const [addressed] = addressEndpoints(env, c, [e]);
    const netns = netnsPath(env, c.Id);
    attachFresh({
      hostName: vethName(c.Id, n.Id), bridge: n.Options[BRIDGE_NAME_OPTION]!, netnsPath: netns,
      ifname: freeEthName(netns), mtu: Number(n.Options[MTU_OPTION] ?? 1500), mac: addressed!.settings.MacAddress,
      addresses: endpointAddresses(n, addressed!), gateways: [],
    });
    if (hasDns(n)) refreshDns(env, [n]);
  } catch (err) {
    detachVeth(vethName(c.Id, n.Id));
    env.networks.removeEndpoint(n.Id, c.Id);
    throw err;
  }
}

export function disconnectContainer(env: ContainerEnv, netRef: string, containerRef: string, force = false): void {
  const c = env.containers.find(containerRef);
  let n;
  try {
    n = env.networks.find(netRef);
  } catch (err) {
    if (force) return;
    throw err;
  }
  if (n.Driver !== 'bridge') throw new NetworkError('container cannot be disconnected from host network or connected to host network', 403);
  const e = env.networks.containerEndpoints(c.Id).find((x) => x.network === n.Id);
  if (!e) throw new NetworkError(`container ${c.Id} is not connected to network ${n.Name}`, 403);
  if (c.State.Running) {
    detachVeth(vethName(c.Id, n.Id));
    releaseAddresses(env, [e]);
  }
  env.networks.removeEndpoint(n.Id, c.Id);
  if (c.State.Running && hasDns(n)) refreshDns(env, [n]);
}
