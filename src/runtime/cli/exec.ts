import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { exec } from '../container.ts';
import type { Process } from '../spec/types.ts';
import { validateProcess } from '../spec/validate.ts';
import type { Context } from './context.ts';
import { collect, uint } from './parse.ts';

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

export function register(program: Command, ctx: () => Context): void {
  program
    .command('exec')
    .argument('<container-id>')
    .argument('[command...]')
    .description('run a new process inside a running container')
    .passThroughOptions()
    .option('--console-socket <path>', 'unix socket that receives the pty master')
    .option('--cwd <path>', 'working directory of the process')
    .option('-e, --env <var>', 'set an environment variable (repeatable)', collect, [])
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('-u, --user <uid[:gid]>', 'user to run the process as')
    .option('-g, --additional-gids <gid>', 'additional group (repeatable)', collect, [])
    .option('-p, --process <path>', 'path to a process.json that describes the process')
    .option('-d, --detach', 'detach from the process')
    .option('--pid-file <path>', 'file to write the process id to')
    .option('--no-new-privs', 'set no_new_privs for the process')
    .option('-c, --cap <cap>', 'add a capability (repeatable)', collect, [])
    .option('--preserve-fds <n>', 'pass this many extra fds (from 3 up)', uint, 0)
    .action(async (id: string, argv: string[], f: ExecFlags) => {
      const { store } = ctx();
      const saved = store.load(id);
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
      process.exitCode = await exec(store, id, {
        process: proc,
        ...(f.consoleSocket ? { consoleSocket: f.consoleSocket } : {}),
        ...(f.pidFile ? { pidFile: f.pidFile } : {}),
        detach: !!f.detach,
        preserveFds: f.preserveFds,
      });
    });
}
