// dockerd with iptables rewrites the host's ip and ip6 filter and nat tables and leaves its
// chains and a FORWARD drop policy behind when it stops: a scenario that starts it saves the
// tables first and puts them back afterwards.
import { spawnSync } from 'node:child_process';

/** Saves the iptables state now; the function returned restores it. */
export function saveIptables(): () => void {
  const save = (cmd: string) => {
    const r = spawnSync(cmd, [], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout : '';
  };
  const v4 = save('iptables-save');
  const v6 = save('ip6tables-save');
  return () => {
    if (v4) spawnSync('iptables-restore', [], { input: v4 });
    if (v6) spawnSync('ip6tables-restore', [], { input: v6 });
  };
}
