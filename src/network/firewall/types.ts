// What the engine tells the firewall: a network's bridge and subnets, and a container's
// published ports. Plain data, checked by validate.ts before any script is made.

export type IpFamily = 4 | 6;

export interface NetworkFirewall {
  id: string;
  bridge: string;
  /** CIDRs, IPv4 and/or IPv6. */
  subnets: string[];
  /** No way out: no masquerade, and nothing crosses the bridge in either direction. */
  internal: boolean;
}

export interface PortForward {
  proto: 'tcp' | 'udp';
  /** '' (or 0.0.0.0 / ::) for every local address of the container address's family, else one address. */
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
  /** The bridge the container's address is on. */
  bridge: string;
  /** Optional: when given, it must be the container address's family. */
  family?: IpFamily;
}

export interface FirewallOwners {
  networks: string[];
  containers: string[];
}
