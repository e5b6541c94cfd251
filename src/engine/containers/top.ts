// `top`: the host's ps, narrowed to the processes in the container's cgroup, as docker's daemon
// runs it: ps's own columns (default `-ef`), the rows whose PID is the container's, and the
// titles and rows as the Engine API's ContainerTopOKBody carries them.
import { childProcess } from '../../child-process.ts';
import { cgroupPids } from '../../runtime/cgroups/manager.ts';
import type { ContainerEnv } from './lifecycle.ts';
import type { Container } from './model.ts';
import { runtimeState } from './runtime-state.ts';

export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

/** A running container, or docker's error for one that is not. */
export function requireRunning(c: Container): void {
  if (c.State.Restarting) throw new Error(`Container ${c.Id} is restarting, wait until the container is running`);
  if (!c.State.Running) throw new Error(`Container ${c.Id} is not running`);
}

/**
 * docker refuses a `-o` list that renames a column to the PID title (`-o user=PID`): the PID
 * column must stay the real pid, which is how the container's rows are found.
 */
export function checkPsArgs(psArgs: string): void {
  for (const m of psArgs.matchAll(/\s+(\S*)=\s*(PID\S*)/g)) {
    if (m[1] !== 'pid') throw new Error(`specifying "${m[1]}=${m[2]}" is not allowed`);
  }
}

/** Go's strings.Fields for ASCII whitespace (a title or a command may hold other spaces). */
function fields(line: string): string[] {
  return line.split(/[ \t\n\v\f\r]+/).filter(Boolean);
}

/** ps's output as titles and the container's rows; a thread line ("-" pid) follows its process. */
export function parsePsOutput(output: string, pids: Set<number>): TopResult {
  const lines = output.split('\n');
  const titles = fields(lines[0] ?? '');
  const at = titles.indexOf('PID');
  if (at < 0) throw new Error("Couldn't find PID field in ps output");
  const processes: string[][] = [];
  const row = (f: string[]) => [...f.slice(0, titles.length - 1), f.slice(titles.length - 1).join(' ')];
  let lastWasOurs = false;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const f = fields(line);
    const pid = f[at];
    if (pid === '-') {
      if (lastWasOurs) processes.push(row(f));
      continue;
    }
    if (pid === undefined || !/^[+-]?\d+$/.test(pid)) throw new Error(`Unexpected pid '${pid ?? ''}': strconv.Atoi: parsing ${JSON.stringify(pid ?? '')}: invalid syntax`);
    lastWasOurs = pids.has(Number(pid));
    if (lastWasOurs) processes.push(row(f));
  }
  return { Titles: titles, Processes: processes };
}

function runPs(args: string[]): { ok: true; stdout: string } | { ok: false; error: string } {
  const r = childProcess().spawnSync('ps', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) return { ok: false, error: r.error.message };
  if (r.status !== 0) {
    const first = (r.stderr ?? '').split('\n')[0];
    return { ok: false, error: first || `exit status ${r.status ?? r.signal}` };
  }
  return { ok: true, stdout: r.stdout };
}

/** docker top: `ps <psArgs> -q <pids>`, or without -q when ps refuses the pair (some options do). */
export function containerTop(env: ContainerEnv, c: Container, psArgs = ''): TopResult {
  const argText = psArgs === '' ? '-ef' : psArgs;
  checkPsArgs(argText);
  requireRunning(c);
  const saved = runtimeState(env, c.Id);
  if (!saved) throw new Error(`Container ${c.Id} is not running`);
  const pids = cgroupPids(saved.cgroupDirs);
  // as docker: the arguments are split at single spaces, exactly as given
  const args = argText.split(' ');
  let out = runPs([...args, `-q${pids.join(',')}`]);
  if (!out.ok) out = runPs(args);
  if (!out.ok) throw new Error(`ps: ${out.error}`);
  return parsePsOutput(out.stdout, new Set(pids));
}
