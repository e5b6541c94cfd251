// hull's firewall: its rules live in one nftables table of its own (family inet, so one set of
// chains serves IPv4 and IPv6), and every change is one `nft -f -` transaction. The layout of
// the table, and why, is in script.ts; the one place where hull writes outside its table (the
// iptables FORWARD chain when its policy is drop) is explained in ruleset.ts.
//
// Cost on the hot path: addPorts and removePorts are one nft process each and never read the
// ruleset; a container without published ports needs no nft process at all, since a network's
// rules cover all of its containers. addNetwork, removeNetwork, owners and removeAll read the
// ruleset once (one more process) because of the FORWARD chain.
import { isAbsolute } from 'node:path';
import { applyScript, readRulesetJson } from './nft.ts';
import {
  foreignNetworkScript,
  foreignRemoveAllScript,
  foreignRemoveScript,
  ownersOf,
  readRuleset,
  type RulesetView,
} from './ruleset.ts';
import {
  ABSENT,
  UNKNOWN,
  networkScript,
  portsScript,
  presenceIn,
  removeNetworkScript,
  removePortsScript,
  removeTableScript,
} from './script.ts';
import { enableRouteLocalnetIfPresent } from './sysctl.ts';
import { FirewallError, checkForwards, checkNetwork, checkOwnerId, checkTableName, quote } from './validate.ts';
import type { FirewallOwners, NetworkFirewall, PortForward } from './types.ts';

export const DEFAULT_TABLE = 'hull';

export interface FirewallOptions {
  /** nftables table (family inet) that holds hull's rules; default "hull". */
  table?: string;
  /** Path of a pinned network namespace (e.g. /run/netns/x): nft runs in it through nsenter. */
  netns?: string;
}

export class Firewall {
  readonly table: string;
  readonly netns: string | undefined;

  constructor(o: FirewallOptions = {}) {
    this.table = checkTableName(o.table ?? DEFAULT_TABLE);
    if (o.netns !== undefined && (typeof o.netns !== 'string' || !isAbsolute(o.netns) || o.netns.includes('\0'))) {
      throw new FirewallError(`invalid network namespace path ${quote(o.netns)}: expected an absolute path`);
    }
    this.netns = o.netns;
  }

  /**
   * Makes (or remakes: idempotent) a network's rules: NAT out, forwarding, isolation from other
   * networks, accept rules in a drop-policy FORWARD chain. Call it after the bridge exists, so
   * that route_localnet is turned on for it (or call enableRouteLocalnet later).
   */
  addNetwork(n: NetworkFirewall): void {
    const network = checkNetwork(n);
    const what = `adding the firewall rules of network ${network.id}`;
    this.applyWithRuleset(what, (view) => [
      ...networkScript(this.table, network, presenceIn(view.ownChains)),
      ...foreignNetworkScript(view, this.table, network),
    ]);
    if (!network.internal && network.subnets.some((s) => s.family === 4)) {
      enableRouteLocalnetIfPresent(network.bridge, this.netns);
    }
  }

  /** Removes every rule of a network, in hull's table and outside it. Idempotent. */
  removeNetwork(id: string): void {
    const networkId = checkOwnerId(id, 'network');
    this.applyWithRuleset(`removing the firewall rules of network ${networkId}`, (view) => [
      ...removeNetworkScript(this.table, networkId, presenceIn(view.ownChains)),
      ...foreignRemoveScript(view, this.table, networkId),
    ]);
  }

  /**
   * Sets a container's published ports: the list replaces whatever the container had (an empty
   * list removes them). One nft process that only adds, when the container has no chains yet
   * (the usual case); if it had some, the transaction fails whole and a second one replaces
   * them. Conflicts between containers are the engine's to prevent: the first chain would win.
   */
  addPorts(containerId: string, p: PortForward[]): void {
    const id = checkOwnerId(containerId, 'container');
    const forwards = checkForwards(id, p);
    const what = `publishing the ports of container ${id}`;
    if (forwards.length === 0) return this.removePorts(id);
    try {
      applyScript(this.netns, portsScript(this.table, id, forwards, ABSENT), what);
    } catch {
      applyScript(this.netns, portsScript(this.table, id, forwards, UNKNOWN), what);
    }
  }

  /** Removes a container's published ports. Idempotent; one nft process. */
  removePorts(containerId: string): void {
    const id = checkOwnerId(containerId, 'container');
    applyScript(this.netns, removePortsScript(this.table, id), `removing the published ports of container ${id}`);
  }

  /** The networks and containers that have rules, to find those whose owner no longer exists. */
  owners(): FirewallOwners {
    return ownersOf(this.ruleset('listing the firewall rules'), this.table);
  }

  /** Deletes hull's table and hull's rules in FORWARD chains. Idempotent. */
  removeAll(): void {
    this.applyWithRuleset(`removing the firewall table ${this.table}`, (view) => [
      ...removeTableScript(this.table, view.ownTable),
      ...foreignRemoveAllScript(view, this.table),
    ]);
  }

  private ruleset(what: string): RulesetView {
    return readRuleset(readRulesetJson(this.netns, what), this.table);
  }

  /**
   * Reads the ruleset, then applies the script made from it (nothing at all when there is
   * nothing to change). The script trusts the read: a chain it found, a handle in a foreign
   * chain. If another process changed one in between, the transaction fails as a whole, and
   * one fresh read and retry settles it.
   */
  private applyWithRuleset(what: string, script: (view: RulesetView) => string[]): void {
    const lines = script(this.ruleset(what));
    if (lines.length === 0) return;
    try {
      applyScript(this.netns, lines, what);
    } catch {
      const again = script(this.ruleset(what));
      if (again.length) applyScript(this.netns, again, what);
    }
  }
}
