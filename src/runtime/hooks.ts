// OCI hooks: each gets the state on stdin, runs with its own env and an optional timeout.
import { childProcess } from '../child-process.ts';
import type { Hook, NamespaceType, State } from './spec/types.ts';
import { launch } from './launch.ts';
import { compileHookPlan } from './plan/compile.ts';

export type HookKind = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

export class HookError extends Error {}

function describeExit(kind: HookKind, hook: Hook, code: number | null, signal: string | null, stderr: string, timedOut: boolean): string {
  const why = timedOut
    ? `timed out after ${hook.timeout}s`
    : signal
      ? `killed by ${signal}`
      : `exit status ${code}`;
  const tail = stderr.trim() ? `: ${stderr.trim().slice(-500)}` : '';
  return `${kind} hook ${hook.path} failed: ${why}${tail}`;
}

/** A hook run in the runtime's namespaces. */
export function runHostHook(kind: HookKind, hook: Hook, state: State): Promise<void> {
  return new Promise((resolve, reject) => {
    const argv = hook.args && hook.args.length > 0 ? hook.args : [hook.path];
    const env: Record<string, string> = {};
    for (const e of hook.env ?? []) {
      const i = e.indexOf('=');
      if (i > 0) env[e.slice(0, i)] = e.slice(i + 1);
    }
    // Its own process group, so that a timeout kills the hook's children too: a shell script's
    // `sleep` would otherwise live on, holding the stderr pipe and the runtime with it.
    const child = childProcess().spawn(hook.path, argv.slice(1), { argv0: argv[0], env, stdio: ['pipe', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    let timedOut = false;
    const timer = hook.timeout
      ? setTimeout(() => {
          timedOut = true;
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
        }, hook.timeout * 1000)
      : undefined;
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString();
    });
    child.stdin!.on('error', () => {});
    child.stdin!.end(JSON.stringify(state));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new HookError(`${kind} hook ${hook.path} failed: ${e.message}`));
    });
    let settled = false;
    let grace: NodeJS.Timeout | undefined;
    const settle = (code: number | null, signal: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      if (code === 0 && !timedOut) resolve();
      else reject(new HookError(describeExit(kind, hook, code, signal, stderr, timedOut)));
    };
    child.on('close', settle);
    // A hook may leave a daemon behind that keeps its stderr open: once the hook itself has
    // exited, take what stderr has and go on rather than wait for the daemon.
    child.on('exit', (code, signal) => {
      grace = setTimeout(() => {
        child.stderr!.destroy();
        settle(code, signal);
      }, 200);
    });
  });
}

/** A hook run inside the container's namespaces (createContainer, startContainer). */
export async function runContainerHook(kind: HookKind, hook: Hook, state: State, pid: number, namespaces: NamespaceType[]): Promise<void> {
  const plan = compileHookPlan({ pid, namespaces, path: hook.path, args: hook.args ?? [], env: hook.env ?? [] });
  const launched = await launch({ plan, stdio: ['pipe', 'ignore', 'pipe'] }).catch((e: Error) => {
    throw new HookError(`${kind} hook ${hook.path} failed: ${e.message}`);
  });
  let stderr = '';
  const err = launched.stderr!;
  err.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  const drained = new Promise<void>((resolve) => err.on('end', resolve).on('close', resolve));
  const stdin = launched.stdin as NodeJS.WritableStream & { on(e: 'error', f: () => void): void };
  stdin.on('error', () => {});
  stdin.end(JSON.stringify(state));
  let timedOut = false;
  const timer = hook.timeout
    ? setTimeout(() => {
        timedOut = true;
        try {
          process.kill(launched.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, hook.timeout * 1000)
    : undefined;
  const code = await launched.exited;
  clearTimeout(timer);
  // The status can come before the last of stderr; a daemon the hook left may hold it open.
  await Promise.race([drained, new Promise((r) => setTimeout(r, 200))]);
  if (code !== 0 || timedOut) throw new HookError(describeExit(kind, hook, code, null, stderr, timedOut));
}

/** Runs hooks in order; the first failure stops the rest. */
export async function runHooks(
  kind: HookKind,
  hooks: Hook[] | undefined,
  state: State,
  where?: { pid: number; namespaces: NamespaceType[] },
): Promise<void> {
  for (const hook of hooks ?? []) {
    if (where) await runContainerHook(kind, hook, state, where.pid, where.namespaces);
    else await runHostHook(kind, hook, state);
  }
}
