import { readFileSync } from 'node:fs';
import { exec } from '../container.ts';
import type { Process } from '../spec/types.ts';
import { validateProcess } from '../spec/validate.ts';
import type { Context } from './context.ts';
import type { Verb } from './args.ts';

interface ExecFlags {
  consoleSocket?: string;
  cwd?: string;
  env: string[];
  tty?: boolean;
  user?: string;
  additionalGids: string[];
  process?: string;
  detach?: boolean;
  pidFile?: string;
  noNewPrivs?: boolean;
  cap: string[];
  preserveFds: number;
}

function parseUser(spec: string): { uid: number; gid?: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(spec);
  if (!m) throw new Error(`--user: ${JSON.stringify(spec)} is not uid[:gid] with numeric ids`);
  return { uid: Number(m[1]), ...(m[2] !== undefined ? { gid: Number(m[2]) } : {}) };
}

/** runc's rules: start from the container's process, then apply the flags. */
function processFromFlags(base: Process | undefined, argv: string[], f: ExecFlags): Process {
  if (argv.length === 0) throw new Error('exec: a command to run is required');
  const p: Process = structuredClone(base ?? { cwd: '/', user: { uid: 0, gid: 0 } });
  p.args = argv;
  delete p.commandLine;
  p.env = [...(p.env ?? []), ...f.env];
  if (f.cwd) p.cwd = f.cwd;
  p.terminal = !!f.tty;
  if (f.user) {
    const u = parseUser(f.user);
    p.user = { ...p.user, uid: u.uid, gid: u.gid ?? 0 };
  }
  if (f.additionalGids.length > 0) p.user.additionalGids = f.additionalGids.map(Number);
  if (f.noNewPrivs) p.noNewPrivileges = true;
  if (f.cap.length > 0) {
    const caps = (p.capabilities ??= {});
    const add = f.cap.map((c) => (c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : `CAP_${c.toUpperCase()}`));
    for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...new Set([...(caps[set] ?? []), ...add])];
  }
  return p;
}

export function verb(ctx: () => Context): Verb {
  return {
    name: 'exec',
    args: '<container-id> <command> [args...]',
    help: 'run a new process inside a running container',
    flags: [
      { name: 'console-socket', kind: 'string', value: '<path>', help: 'unix socket that receives the pty master' },
      { name: 'cwd', kind: 'string', value: '<path>', help: 'working directory of the process' },
      { name: 'env', short: 'e', kind: 'list', value: '<var>', help: 'set an environment variable (repeatable)' },
      { name: 'tty', short: 't', kind: 'bool', help: 'allocate a pseudo-TTY' },
      { name: 'user', short: 'u', kind: 'string', value: '<uid[:gid]>', help: 'user to run the process as' },
      { name: 'additional-gids', short: 'g', kind: 'list', value: '<gid>', help: 'additional group (repeatable)' },
      { name: 'process', short: 'p', kind: 'string', value: '<path>', help: 'path to a process.json that describes the process' },
      { name: 'detach', short: 'd', kind: 'bool', help: 'detach from the process' },
      { name: 'pid-file', kind: 'string', value: '<path>', help: 'file to write the process id to' },
      { name: 'no-new-privs', kind: 'bool', help: 'set no_new_privs for the process' },
      { name: 'cap', short: 'c', kind: 'list', value: '<cap>', help: 'add a capability (repeatable)' },
      { name: 'preserve-fds', kind: 'uint', value: '<n>', default: 0, help: 'pass this many extra fds (from 3 up)' },
    ],
    min: 1,
    stopAtFirstArg: true,
    async run([id, ...argv], values) {
      const f = values as unknown as ExecFlags;
      const { store } = ctx();
      const saved = store.load(id!);
      let proc: Process;
      if (f.process) {
        let json: unknown;
        try {
          json = JSON.parse(readFileSync(f.process, 'utf8'));
        } catch (e) {
          throw new Error(`--process ${f.process}: ${(e as Error).message}`);
        }
        proc = validateProcess(json, 'process.json');
      } else {
        proc = processFromFlags(saved.config.process, argv, f);
        proc = validateProcess(proc, 'exec');
      }
      process.exitCode = await exec(store, id!, {
        process: proc,
        ...(f.consoleSocket ? { consoleSocket: f.consoleSocket } : {}),
        ...(f.pidFile ? { pidFile: f.pidFile } : {}),
        detach: !!f.detach,
        preserveFds: f.preserveFds,
      });
    },
  };
}
