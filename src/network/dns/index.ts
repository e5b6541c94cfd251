// The embedded DNS of user-defined networks: the files hull-dns reads, starting and waking it,
// and the host's resolvers it forwards to.
export { dnsNetworks, isDnsName, removeNetworkDns, writeNetworkDns, type DnsRecord, type NetworkDns } from './config-file.ts';
export { hostForwarders } from './host-resolvers.ts';
export { dnsBinary, dnsServerPid, notifyDns, type NotifyOptions } from './server-control.ts';
