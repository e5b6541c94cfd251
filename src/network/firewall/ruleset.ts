// What hull needs to know of the live ruleset, read from `nft -j` output: the chains of its own
// table, and the FORWARD chains of iptables' filter tables with the rules hull put there.
//
// Why hull touches a chain it does not own at all: a packet that any base chain drops is gone,
// whatever the other tables said. Docker (when dockerd runs) and ufw set the policy of iptables'
// FORWARD chain to drop, so containers on hull's bridges would be cut off. hull then inserts
// "accept" rules for its bridge there, tagged with a comment that names hull's table and the
// network. They use only what iptables-nft itself writes (an interface match, a comment,
// accept), so `iptables -S` still reads the table and docker and ufw keep working with it.
// Those rules can only be deleted by handle, so adding or removing a network reads the ruleset
// first; the per-container hot path never does.
import { FirewallError } from './validate.ts';
import { chainOwner } from './script.ts';
import type { CheckedNetwork } from './validate.ts';
import type { FirewallOwners } from './types.ts';

export type IptablesFamily = 'ip' | 'ip6';

export interface ForeignForwardChain {
  family: IptablesFamily;
  policy: string;
  /** Rules of the chain that carry a comment: hull's tags are among them. */
  tagged: { handle: number; comment: string }[];
}

export interface RulesetView {
  ownTable: boolean;
  ownChains: string[];
  forward: ForeignForwardChain[];
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isForwardChain = (c: Obj): boolean =>
  (c.family === 'ip' || c.family === 'ip6') && c.table === 'filter' && c.name === 'FORWARD';

/** Parses `nft -j list ruleset` for hull's table `table`. */
export function readRuleset(json: string, table: string): RulesetView {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (e) {
    throw new FirewallError(`cannot read nft's JSON output: ${(e as Error).message}`);
  }
  const items = isObj(doc) && Array.isArray(doc.nftables) ? (doc.nftables as unknown[]) : undefined;
  if (!items) throw new FirewallError('cannot read nft\'s JSON output: no "nftables" list');
  const view: RulesetView = { ownTable: false, ownChains: [], forward: [] };
  const forward = new Map<string, ForeignForwardChain>();
  for (const item of items) {
    if (!isObj(item)) continue;
    if (isObj(item.table) && item.table.family === 'inet' && item.table.name === table) view.ownTable = true;
    const chain = item.chain;
    if (isObj(chain)) {
      if (chain.family === 'inet' && chain.table === table && typeof chain.name === 'string') {
        view.ownChains.push(chain.name);
      } else if (isForwardChain(chain) && chain.hook === 'forward') {
        const c: ForeignForwardChain = {
          family: chain.family as IptablesFamily,
          policy: typeof chain.policy === 'string' ? chain.policy : 'accept',
          tagged: [],
        };
        forward.set(c.family, c);
        view.forward.push(c);
      }
    }
    const rule = item.rule;
    if (isObj(rule) && typeof rule.chain === 'string' && typeof rule.comment === 'string') {
      const c = forward.get(String(rule.family));
      if (c && rule.table === 'filter' && rule.chain === 'FORWARD' && typeof rule.handle === 'number') {
        c.tagged.push({ handle: rule.handle, comment: rule.comment });
      }
    }
  }
  return view;
}

/** The comment that marks hull's rules for a network in a foreign chain. */
export function foreignTag(table: string, networkId: string): string {
  return `${table} network ${networkId}`;
}

function deleteTagged(view: RulesetView, keep: (comment: string) => boolean): string[] {
  return view.forward.flatMap((c) =>
    c.tagged.filter((r) => !keep(r.comment)).map((r) => `delete rule ${c.family} filter FORWARD handle ${r.handle}`),
  );
}

/**
 * Lines that put a network's accept rules in every FORWARD chain with a drop policy, for the
 * families it has subnets in, after deleting any it had there: a repeated add leaves one copy,
 * and a chain whose policy went back to accept loses them.
 */
export function foreignNetworkScript(view: RulesetView, table: string, n: CheckedNetwork): string[] {
  const tag = foreignTag(table, n.id);
  const lines = deleteTagged(view, (comment) => comment !== tag);
  for (const c of view.forward) {
    if (c.policy !== 'drop' || !n.subnets.some((s) => (s.family === 4) === (c.family === 'ip'))) continue;
    // Inserted at the top: a later rule of the host's (ufw's reject chains) must not see them.
    for (const dir of ['oifname', 'iifname']) {
      lines.push(`insert rule ${c.family} filter FORWARD ${dir} "${n.bridge}" accept comment "${tag}"`);
    }
  }
  return lines;
}

export function foreignRemoveScript(view: RulesetView, table: string, networkId: string): string[] {
  const tag = foreignTag(table, networkId);
  return deleteTagged(view, (comment) => comment !== tag);
}

export function foreignRemoveAllScript(view: RulesetView, table: string): string[] {
  const prefix = `${table} network `;
  return deleteTagged(view, (comment) => !comment.startsWith(prefix));
}

export function ownersOf(view: RulesetView, table: string): FirewallOwners {
  const networks = new Set<string>();
  const containers = new Set<string>();
  for (const name of view.ownChains) {
    const owner = chainOwner(name);
    if (owner?.kind === 'network') networks.add(owner.id);
    else if (owner?.kind === 'container') containers.add(owner.id);
  }
  const prefix = `${table} network `;
  for (const c of view.forward) {
    for (const r of c.tagged) if (r.comment.startsWith(prefix)) networks.add(r.comment.slice(prefix.length));
  }
  return { networks: [...networks].sort(), containers: [...containers].sort() };
}
