// The upstream resolvers of a network's DNS: the host's own. hull-dns runs in the host's network
// namespace, so a loopback resolver (systemd-resolved's 127.0.0.53, a local dnsmasq) works as
// well as any, unlike in docker, whose DNS proxy runs inside each container.
import { readFileSync } from 'node:fs';
import { isForwarder } from './config-file.ts';

/** glibc reads at most this many nameserver lines. */
const MAXNS = 3;

/**
 * The nameservers of resolv.conf text (the host's /etc/resolv.conf when none is given), in order,
 * as glibc uses them; with none, glibc asks the local machine, and so does this.
 */
export function hostForwarders(resolvConf?: string): string[] {
  let text = resolvConf;
  if (text === undefined) {
    try {
      text = readFileSync('/etc/resolv.conf', 'utf8');
    } catch {
      text = '';
    }
  }
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const words = raw.replace(/[#;].*/, '').trim().split(/\s+/);
    if (words[0] !== 'nameserver' || words[1] === undefined) continue;
    const ns = words[1];
    // "#" starts a comment above, so no port can come here: an address, v6 maybe with %scope
    if (!isForwarder(ns) || out.includes(ns)) continue;
    if (out.length < MAXNS) out.push(ns);
  }
  return out.length > 0 ? out : ['127.0.0.1'];
}
