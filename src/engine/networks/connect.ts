// `network connect` and `network disconnect`: a created container only changes its record; a
// running one also gets (or loses) its veth, address and DNS names at once.
import { transaction } from '../../image/store/metadata.ts';
import { parsePrefix } from '../../network/cidr.ts';
import { detachVeth } from '../../network/veth.ts';
import type { ContainerEnv } from '../containers/lifecycle.ts';
import type { Container } from '../containers/model.ts';
import { joinEndpoint } from './join.ts';
import { NetworkError } from './manage.ts';
import { BRIDGE_NAME_OPTION, MTU_OPTION, type EndpointSettings } from './model.ts';
import { addressEndpoints, attachFresh, bridgeUp, hasDns, netnsPath, refreshDns, releaseAddresses, vethName } from './plumbing.ts';

function checkMode(c: Container): void {
  const mode = c.HostConfig.NetworkMode;
  if (mode === 'host') throw new NetworkError('container cannot be disconnected from host network or connected to host network', 403);
  if (mode === 'none') throw new NetworkError('container cannot be connected to multiple networks with one of the networks in private (none) mode', 403);
  if (mode.startsWith('container:')) throw new NetworkError('container sharing network namespace with another container or host cannot be connected to any other network', 403);
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
    const addresses = n.IPAM.Config.map((p) => {
      const fam = parsePrefix(p.Subnet).family;
      return `${fam === 6 ? addressed!.ip6 : addressed!.ip4}/${parsePrefix(p.Subnet).bits}`;
    });
    const taken = env.networks.containerEndpoints(c.Id).length - 1;
    attachFresh({
      hostName: vethName(c.Id, n.Id), bridge: n.Options[BRIDGE_NAME_OPTION]!, netnsPath: netnsPath(env, c.Id),
      ifname: `eth${taken}`, mtu: Number(n.Options[MTU_OPTION] ?? 1500), mac: addressed!.settings.MacAddress,
      addresses, gateways: [],
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
