// Running nft: one process per change, the script on stdin, so that a change is one
// transaction (nft -f applies a whole script or nothing). With a network namespace (tests, or a
// rootless setup one day) nft runs inside it through nsenter.
import { childProcess } from '../../child-process.ts';
import { existsSync } from 'node:fs';
import { FirewallError } from './validate.ts';

const NFT_PATHS = ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'];

let nftPath: string | undefined;

/** nft lives in sbin, which a non-login PATH may lack; fall back on PATH for other layouts. */
function nft(): string {
  return (nftPath ??= NFT_PATHS.find((p) => existsSync(p)) ?? 'nft');
}

function command(netns: string | undefined, args: string[]): { file: string; args: string[] } {
  if (netns === undefined) return { file: nft(), args };
  return { file: 'nsenter', args: [`--net=${netns}`, '--', nft(), ...args] };
}

// Error text from nft can repeat the whole script; a few lines say what went wrong.
function excerpt(text: string): string {
  const lines = text.trim().split('\n').slice(0, 6).join('\n');
  return lines.length > 1200 ? `${lines.slice(0, 1200)}...` : lines;
}

export interface NftResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runNft(netns: string | undefined, args: string[], input?: string): NftResult {
  const c = command(netns, args);
  const r = childProcess().spawnSync(c.file, c.args, { input: input ?? '', encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  // a command that exits before reading its script (nsenter failing) breaks the pipe: its status says why
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'EPIPE' && r.status !== null) return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new FirewallError(
        c.file === 'nsenter'
          ? 'nsenter was not found: it runs nft inside a network namespace (Debian package util-linux)'
          : 'hull requires nftables: the nft command was not found (Debian package nftables)',
      );
    }
    throw new FirewallError(`cannot run ${c.file}: ${r.error.message}`);
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Applies a script as one transaction; `what` says which change failed. */
export function applyScript(netns: string | undefined, lines: string[], what: string): void {
  const r = runNft(netns, ['-f', '-'], `${lines.join('\n')}\n`);
  if (r.status !== 0) {
    throw new FirewallError(`${what}: nft failed (exit ${r.status ?? 'by signal'}), nothing was changed: ${excerpt(r.stderr)}`);
  }
}

/** The whole ruleset as nft's JSON, set elements left out (-t): hull needs chains and rules only. */
export function readRulesetJson(netns: string | undefined, what: string): string {
  const r = runNft(netns, ['-j', '-t', 'list', 'ruleset']);
  if (r.status !== 0) throw new FirewallError(`${what}: nft cannot list the ruleset: ${excerpt(r.stderr)}`);
  return r.stdout;
}

/**
 * Throws a clear error unless nft runs and the kernel's nf_tables answers it: hull requires
 * nftables (a host with only iptables-legacy is not supported).
 */
export function checkNftables(netns?: string): void {
  const r = runNft(netns, ['list', 'tables']);
  if (r.status === 0) return;
  const why = excerpt(r.stderr);
  if (/Operation not permitted/i.test(why)) {
    throw new FirewallError(`hull requires nftables, and changing it needs root (CAP_NET_ADMIN): ${why}`);
  }
  throw new FirewallError(`hull requires nftables, and the kernel's nf_tables did not answer nft: ${why}`);
}
