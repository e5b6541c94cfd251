// Running peers' commands from scenarios: find them, run them, fail loudly.
import { spawnSync } from 'node:child_process';
import type { StdioOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export class CommandError extends Error {
  readonly stderr: string;
  constructor(message: string, stderr: string) {
    super(message);
    this.name = 'CommandError';
    this.stderr = stderr;
  }
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of `name` on PATH (plus the sbin dirs, which a non-login root shell may lack). */
export function findOnPath(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const extra of ['/usr/local/sbin', '/usr/sbin', '/sbin']) if (!dirs.includes(extra)) dirs.push(extra);
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export interface RunOptions {
  stdio?: StdioOptions;
  cwd?: string;
  /** Kill the command after this many ms (default 60 s). */
  timeout?: number;
}

/**
 * Runs a command to completion and returns its stdout. Throws CommandError, carrying stderr,
 * if it cannot start, is killed, or exits non-zero.
 */
export function runChecked(file: string, args: string[], options: RunOptions = {}): string {
  const r = spawnSync(file, args, {
    encoding: 'utf8',
    stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
    cwd: options.cwd,
    timeout: options.timeout ?? 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const stderr = typeof r.stderr === 'string' ? r.stderr.trim() : '';
  const shown = [file, ...args].join(' ');
  if (r.error) throw new CommandError(`\`${shown}\` failed to run: ${r.error.message}`, stderr);
  if (r.signal) throw new CommandError(`\`${shown}\` was killed by ${r.signal}`, stderr);
  if (r.status !== 0) throw new CommandError(`\`${shown}\` exited with ${r.status}`, stderr);
  return typeof r.stdout === 'string' ? r.stdout : '';
}

/** First line of `file --version`, or undefined if that fails. */
export function versionOf(file: string): string | undefined {
  try {
    const out = runChecked(file, ['--version'], { timeout: 10_000 });
    const first = out.split('\n')[0]?.trim() ?? '';
    return first.replace(/^\S+ version\s+/i, '') || undefined;
  } catch {
    return undefined;
  }
}

export function describeError(err: unknown): string {
  if (err instanceof CommandError) return err.stderr ? `${err.message}: ${err.stderr}` : err.message;
  return err instanceof Error ? err.message : String(err);
}
