// hull's nftables firewall: what the engine imports. See firewall.ts.
export { DEFAULT_TABLE, Firewall, type FirewallOptions } from './firewall.ts';
export { checkNftables } from './nft.ts';
export { enableForwarding, enableRouteLocalnet } from './sysctl.ts';
export { FirewallError } from './validate.ts';
export type { FirewallOwners, IpFamily, NetworkFirewall, PortForward } from './types.ts';
