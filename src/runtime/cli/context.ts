// What every verb gets: the state store and the global flags.
import { appendFileSync } from 'node:fs';
import { DEFAULT_ROOT, StateStore } from '../state.ts';

export interface GlobalOptions {
  root?: string;
  log?: string;
  logFormat?: string;
  debug?: boolean;
  systemdCgroup?: boolean;
}

export interface Context {
  store: StateStore;
  log(level: 'error' | 'warning' | 'debug', msg: string): void;
}

export function makeContext(g: GlobalOptions): Context {
  if (g.systemdCgroup) {
    throw new Error('--systemd-cgroup: the systemd cgroup driver is not supported by hull-runtime; use the cgroupfs driver');
  }
  const format = g.logFormat ?? 'text';
  if (format !== 'text' && format !== 'json') throw new Error(`--log-format: must be text or json, not ${JSON.stringify(format)}`);
  const log = (level: 'error' | 'warning' | 'debug', msg: string) => {
    if (level === 'debug' && !g.debug) return;
    const time = new Date().toISOString();
    if (g.log) {
      const line = format === 'json' ? JSON.stringify({ level, msg, time }) : `time="${time}" level=${level} msg=${JSON.stringify(msg)}`;
      try {
        appendFileSync(g.log, line + '\n');
      } catch {
        // the log is best effort; stderr still gets errors
      }
    }
    if (level !== 'debug' || !g.log) process.stderr.write(`hull-runtime: ${level === 'error' ? '' : level + ': '}${msg}\n`);
  };
  return { store: new StateStore(g.root ?? DEFAULT_ROOT), log };
}
