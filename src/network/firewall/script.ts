// The nft scripts for hull's own table. Pure functions: checked input in, script text out.
//
// Layout: every owner (a network, or a container with published ports) has its own BASE chains,
// hooked straight into netfilter, named "net-<id>-<hook>" or "ctr-<id>-<hook>". Why base
// chains per owner rather than named sets or maps:
//  - removing an owner needs only its id: "add chain; flush chain; delete chain" for each of its
//    chain names is one transaction that works whether or not the chain exists, so removal is
//    idempotent and never lists handles. Set or map elements are deleted by key, and removePorts
//    knows only the container id, so it would have to list the set first.
//  - adding a new owner only adds ("create chain", "add rule"), which the kernel commits without
//    waiting (see Presence below).
//  - no jump rules point at an owner's chains, so nothing else has to change when one goes.
//  - owners() is the list of chain names, which also tells the engine what to reconcile.
// The cost is that netfilter walks every owner's chain at its hook. The NAT chains see only the
// first packet of each connection; the per-network filter chains see every forwarded or input
// packet, but a network's chain begins with its bridge name, so a foreign packet leaves each
// chain after one comparison. A few hundred networks stay cheap.
import type { CheckedForward, CheckedNetwork, Subnet } from './validate.ts';

export type NetworkHook = 'forward' | 'input' | 'postrouting';
export type ContainerHook = 'prerouting' | 'output';

export const NETWORK_HOOKS: readonly NetworkHook[] = ['forward', 'input', 'postrouting'];
export const CONTAINER_HOOKS: readonly ContainerHook[] = ['prerouting', 'output'];

export function networkChain(id: string, hook: NetworkHook): string {
  return `net-${id}-${hook}`;
}

export function containerChain(id: string, hook: ContainerHook): string {
  return `ctr-${id}-${hook}`;
}

/** The owner a chain of hull's table belongs to, or undefined for a chain hull did not name. */
export function chainOwner(name: string): { kind: 'network' | 'container'; id: string } | undefined {
  const m = /^(net|ctr)-(.+)-(forward|input|postrouting|prerouting|output)$/.exec(name);
  if (!m) return undefined;
  const kind = m[1] === 'net' ? 'network' : 'container';
  const hooks: readonly string[] = kind === 'network' ? NETWORK_HOOKS : CONTAINER_HOOKS;
  return hooks.includes(m[3]!) ? { kind, id: m[2]! } : undefined;
}

// Base chain types. The output hook has no symbolic NAT priority in nft 1.0.6, so -100 (dstnat).
const SPEC: Record<NetworkHook | ContainerHook, string> = {
  forward: 'type filter hook forward priority filter',
  input: 'type filter hook input priority filter',
  postrouting: 'type nat hook postrouting priority srcnat',
  prerouting: 'type nat hook prerouting priority dstnat',
  output: 'type nat hook output priority -100',
};

/**
 * What the script's author knows of a chain: "absent" and "present" come from reading the
 * ruleset (a wrong guess, after a race, fails the whole transaction and nothing changes);
 * "unknown" makes lines that work either way.
 *
 * Why it matters: measured on kernel 6.18, a transaction that deletes anything (a rule, a
 * chain, a set element, even a chain the same transaction created) takes about 10 ms longer to
 * commit (it looks like an RCU grace period), while one that only adds costs no more than the
 * nft process itself (about 4 ms). So a new owner's chains are made with "create" and no
 * removal lines.
 */
export type Presence = 'absent' | 'present' | 'unknown';

/** Lines that remove a chain of hull's table (for "unknown", whether or not it exists). */
export function dropChain(table: string, name: string, presence: Presence = 'unknown'): string[] {
  const remove = [`flush chain inet ${table} ${name}`, `delete chain inet ${table} ${name}`];
  if (presence === 'absent') return [];
  return presence === 'present' ? remove : [`add chain inet ${table} ${name}`, ...remove];
}

/** Lines that make a base chain with its rules, replacing whatever chain had the name. */
function makeChain(
  table: string,
  name: string,
  hook: NetworkHook | ContainerHook,
  comment: string,
  rules: string[],
  presence: Presence,
): string[] {
  // "create" fails if the chain appeared after all: better than two copies of its rules.
  const verb = presence === 'absent' ? 'create' : 'add';
  return [
    ...dropChain(table, name, presence),
    `${verb} chain inet ${table} ${name} { ${SPEC[hook]}; policy accept; comment "${comment}"; }`,
    ...rules.map((r) => `add rule inet ${table} ${name} ${r}`),
  ];
}

/** Where a script is made from a read of the ruleset, the chains of hull's table found there. */
export type ChainPresence = (name: string) => Presence;

export const UNKNOWN: ChainPresence = () => 'unknown';
export const ABSENT: ChainPresence = () => 'absent';

export function presenceIn(chains: readonly string[]): ChainPresence {
  const set = new Set(chains);
  return (name) => (set.has(name) ? 'present' : 'absent');
}

function saddr(s: Subnet): string {
  return `${s.family === 4 ? 'ip' : 'ip6'} saddr ${s.text}`;
}

function forwardRules(n: CheckedNetwork): string[] {
  const br = `"${n.bridge}"`;
  if (n.internal) {
    // Nothing leaves the bridge and nothing enters it, published or not.
    return [`iifname ${br} oifname != ${br} drop`, `oifname ${br} iifname != ${br} drop`];
  }
  // Out is free (the policy accepts). In: replies, traffic within the bridge (seen here when
  // br_netfilter is loaded), and connections to published ports (DNATed by a container chain).
  // Everything else is dropped, and that includes every other bridge: networks are isolated.
  return [
    `oifname ${br} ct state established,related accept`,
    `oifname ${br} iifname ${br} accept`,
    `oifname ${br} ct status dnat accept`,
    `oifname ${br} drop`,
  ];
}

function postroutingRules(n: CheckedNetwork): string[] {
  const br = `"${n.bridge}"`;
  const rules: string[] = [];
  for (const s of n.subnets) {
    // Hairpin: a container reaching a published port of its own bridge through a host address.
    // The server must answer through the host, so the client's address is replaced.
    rules.push(`${saddr(s)} oifname ${br} ct status dnat masquerade`);
    // Out. Not a connection to a published port on another bridge: its server answers through
    // the host anyway, so it sees the client's real address. The price: a connection that some
    // other program DNATs to an address outside the host is not masqueraded by hull (kube-proxy
    // and netavark masquerade what they DNAT themselves). ("ct status != dnat" would compare
    // the whole status word; the mask tests the one bit.)
    rules.push(`${saddr(s)} oifname != ${br} ct status & dnat == 0 masquerade`);
  }
  if (n.subnets.some((s) => s.family === 4)) {
    // The host itself through 127.0.0.1: the container could not answer a loopback source.
    rules.push(`ip saddr 127.0.0.0/8 oifname ${br} ct status dnat masquerade`);
  }
  return rules;
}

/** The script that makes (or remakes) a network's chains in hull's table. */
export function networkScript(table: string, n: CheckedNetwork, present: ChainPresence = UNKNOWN): string[] {
  const comment = `${table} network ${n.id} bridge ${n.bridge}`;
  const rules: Record<NetworkHook, string[]> = {
    forward: forwardRules(n),
    // route_localnet on the bridge (needed for 127.0.0.1 published ports) would also let a
    // container send to the host's loopback services through its gateway: refuse that. Only
    // replies may come in that way: those of the host's own 127.0.0.1 connections to published
    // ports, whose destination the masquerade's undoing turns back into 127.0.0.1.
    input: [
      `iifname "${n.bridge}" ip daddr 127.0.0.0/8 ct direction reply accept`,
      `iifname "${n.bridge}" ip daddr 127.0.0.0/8 drop`,
    ],
    postrouting: n.internal ? [] : postroutingRules(n),
  };
  const lines = [`add table inet ${table}`];
  for (const hook of NETWORK_HOOKS) {
    const name = networkChain(n.id, hook);
    lines.push(
      ...(rules[hook].length
        ? makeChain(table, name, hook, comment, rules[hook], present(name))
        : dropChain(table, name, present(name))),
    );
  }
  return lines;
}

/** Lines that remove a network's chains (none at all when the read found none). */
export function removeNetworkScript(table: string, id: string, present: ChainPresence = UNKNOWN): string[] {
  const lines = NETWORK_HOOKS.flatMap((h) => dropChain(table, networkChain(id, h), present(networkChain(id, h))));
  return lines.length ? [`add table inet ${table}`, ...lines] : [];
}

interface ForwardGroup {
  family: 4 | 6;
  proto: 'tcp' | 'udp';
  hostIp: string;
  forwards: CheckedForward[];
}

/** Forwards that share a match (family, protocol, host address) become one rule with a port map. */
function groups(forwards: CheckedForward[]): ForwardGroup[] {
  const byKey = new Map<string, ForwardGroup>();
  for (const f of forwards) {
    const key = `${f.family}/${f.proto}/${f.hostIp}`;
    let g = byKey.get(key);
    if (!g) byKey.set(key, (g = { family: f.family, proto: f.proto, hostIp: f.hostIp, forwards: [] }));
    g.forwards.push(f);
  }
  // One address before every address, so that a specific mapping wins over a general one.
  return [...byKey.values()].sort((a, b) => Number(a.hostIp === '') - Number(b.hostIp === ''));
}

/** The group's port match and its translation: one port as is, several through a map. */
function translation(g: ForwardGroup): { ports: string; dnat: string } {
  const ip = g.family === 4 ? 'ip' : 'ip6';
  const one = g.forwards.length === 1 ? g.forwards[0] : undefined;
  if (one) {
    const addr = g.family === 4 ? one.containerIp : `[${one.containerIp}]`;
    return { ports: `${g.proto} dport ${one.hostPort}`, dnat: `dnat ${ip} to ${addr}:${one.containerPort}` };
  }
  const ports = g.forwards.map((f) => f.hostPort).join(', ');
  const map = g.forwards.map((f) => `${f.hostPort} : ${f.containerIp} . ${f.containerPort}`).join(', ');
  return { ports: `${g.proto} dport { ${ports} }`, dnat: `dnat ${ip} to ${g.proto} dport map { ${map} }` };
}

/**
 * The match for a group's destination. From outside (prerouting) a loopback destination is
 * never translated: a neighbour could otherwise send to 127.0.0.1 and reach a container.
 */
function destination(g: ForwardGroup, hook: ContainerHook): string {
  const ip = g.family === 4 ? 'ip' : 'ip6';
  if (g.hostIp !== '') return `${ip} daddr ${g.hostIp}`;
  // The kernel cannot forward from ::1 (IPv6 has no route_localnet), so it is never translated.
  const loopback = g.family === 4 ? (hook === 'prerouting' ? ' ip daddr != 127.0.0.0/8' : '') : ' ip6 daddr != ::1';
  return `fib daddr type local${loopback}`;
}

function portRules(forwards: CheckedForward[], hook: ContainerHook): string[] {
  return groups(forwards)
    .filter((g) => hook === 'output' || !g.forwards[0]!.hostLoopback)
    .map((g) => {
      const { ports, dnat } = translation(g);
      // Port first: it is the cheapest test, and fib (a route lookup) only runs when it matches.
      return `meta nfproto ipv${g.family} ${ports} ${destination(g, hook)} ${dnat}`;
    });
}

/**
 * The script that sets a container's published ports. With ABSENT (the usual case: a container
 * that starts has no chains) it only adds, and fails if a chain exists; with UNKNOWN it
 * replaces whatever the container had.
 */
export function portsScript(
  table: string,
  containerId: string,
  forwards: CheckedForward[],
  present: ChainPresence = UNKNOWN,
): string[] {
  if (forwards.length === 0) return removePortsScript(table, containerId);
  const comment = `${table} container ${containerId}`;
  const lines = [`add table inet ${table}`];
  for (const hook of CONTAINER_HOOKS) {
    const rules = portRules(forwards, hook);
    const name = containerChain(containerId, hook);
    lines.push(
      ...(rules.length
        ? makeChain(table, name, hook, comment, rules, present(name))
        : dropChain(table, name, present(name))),
    );
  }
  return lines;
}

export function removePortsScript(table: string, containerId: string): string[] {
  return [`add table inet ${table}`, ...CONTAINER_HOOKS.flatMap((h) => dropChain(table, containerChain(containerId, h)))];
}

export function removeTableScript(table: string, present: boolean): string[] {
  return present ? [`delete table inet ${table}`] : [];
}
