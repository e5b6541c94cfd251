// Starting and waking hull-dns (native/dns.c), the one DNS server of every user network on the
// host. It is on the hot path of `hull run`, so nothing here waits for the server: a live server
// gets a SIGHUP and re-reads the directory; otherwise a new one is started detached, and the
// first queries of a container may simply be retried by its resolver.
import { childProcess } from '../../child-process.ts';
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { dnsNetworks } from './config-file.ts';

/** Past this size the server's log is started again rather than appended to. */
const LOG_MAX_BYTES = 1 << 20;

/** dist/hull-dns beside the bundle or in the repo's dist/; HULL_DNS overrides. */
export function dnsBinary(): string {
  const override = process.env.HULL_DNS;
  if (override) return override;
  const here = dirname(new URL(import.meta.url).pathname);
  for (const candidate of [join(here, 'hull-dns'), join(here, '../../../dist/hull-dns')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`hull-dns not found next to ${here}: run "make -C native"`);
}

/**
 * True when pid holds an flock on a file with this inode, per /proc/locks. The device is not
 * compared: /proc/locks names the superblock's, which stat() does not give on btrfs subvolumes
 * or overlayfs; a pid that is hull-dns and holds a lock on this inode number is enough.
 */
function holdsFlock(pid: number, ino: number): boolean {
  let locks: string;
  try {
    locks = readFileSync('/proc/locks', 'utf8');
  } catch {
    return false;
  }
  for (const line of locks.split('\n')) {
    // "1: FLOCK  ADVISORY  WRITE 1234 00:2a:5678 0 EOF"; waiters are "1: -> FLOCK ..."
    const f = line.trim().split(/\s+/);
    if (f[1] === 'FLOCK' && f[4] === String(pid) && f[5]?.split(':')[2] === String(ino)) return true;
  }
  return false;
}

/** The pid of the hull-dns that serves dir, if one is alive and holds its lock. */
export function dnsServerPid(dir: string): number | undefined {
  const pidFile = join(dir, '.pid');
  let pid: number;
  let ino: number;
  try {
    const text = readFileSync(pidFile, 'utf8').trim();
    if (!/^[1-9][0-9]{0,9}$/.test(text)) return undefined;
    pid = Number(text);
    ino = statSync(pidFile).ino;
  } catch {
    return undefined;
  }
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    if (basename(argv0) !== 'hull-dns') return undefined;
  } catch {
    return undefined;
  }
  return holdsFlock(pid, ino) ? pid : undefined;
}

export interface NotifyOptions {
  /** The port to serve on instead of 53 (tests). */
  port?: number;
}

/**
 * Tells the server of dir that its files changed: a SIGHUP to the live one, or else a new one,
 * started detached if dir holds any network. Returns what it did.
 */
export function notifyDns(dir: string, binary: string, options: NotifyOptions = {}): 'signalled' | 'started' | 'none' {
  const pid = dnsServerPid(dir);
  if (pid !== undefined) {
    try {
      process.kill(pid, 'SIGHUP');
      return 'signalled';
    } catch (e) {
      // it exited between the look and the signal: start another below
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }
  if (dnsNetworks(dir).length === 0) return 'none';
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    throw new Error(`cannot start the DNS server: ${binary} is not an executable file`);
  }
  const args: string[] = [];
  if (options.port !== undefined) {
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
      throw new Error(`DNS: port ${options.port} is not between 1 and 65535`);
    }
    args.push('--port', String(options.port));
  }
  args.push(resolve(dir));
  const logPath = join(dir, '.log');
  let size = 0;
  try {
    size = statSync(logPath).size;
  } catch {
    // no log yet
  }
  const log = openSync(logPath, size > LOG_MAX_BYTES ? 'w' : 'a', 0o644);
  try {
    // detached: setsid, so it outlives this process and its terminal
    const child = childProcess().spawn(binary, args, { detached: true, stdio: ['ignore', log, log] });
    // A failed start shows as no live server: the next notify starts one again.
    child.on('error', () => {});
    child.unref();
  } finally {
    closeSync(log);
  }
  return 'started';
}
