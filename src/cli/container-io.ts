// The terminal side of an attached container: output to our stdout/stderr, our stdin to the
// container, raw mode and window size for a tty, signals passed on, and docker's detach keys.
import type { AttachClient } from '../engine/containers/shim.ts';

export interface StreamOptions {
  tty: boolean;
  stdin: boolean;
  /** Called for SIGINT/SIGTERM/... when not in a tty (docker's --sig-proxy). */
  proxySignal?: (signal: NodeJS.Signals) => void;
  /** Docker's ctrl-p,ctrl-q; "" disables. */
  detachKeys?: string;
}

const PROXIED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** Parses docker's --detach-keys ("ctrl-p,ctrl-q", "a,ctrl-@") into bytes. */
export function detachSequence(spec: string): Buffer {
  const bytes = spec.split(',').filter(Boolean).map((k) => {
    const m = /^ctrl-(.)$/i.exec(k);
    if (m) {
      const ch = m[1]!;
      if (ch === '@') return 0;
      if (/[a-z]/i.test(ch)) return ch.toLowerCase().charCodeAt(0) - 96;
      const special: Record<string, number> = { '[': 27, '\\': 28, ']': 29, '^': 30, '_': 31 };
      if (ch in special) return special[ch]!;
    } else if (k.length === 1) return k.charCodeAt(0);
    throw new Error(`Invalid detach keys (${k}) provided`);
  });
  return Buffer.from(bytes);
}

/**
 * Streams until the container exits (resolves its exit code) or the user detaches
 * (resolves undefined).
 */
export function streamContainer(client: AttachClient, o: StreamOptions): Promise<number | undefined> {
  client.onOutput((stream, data) => (stream === 2 ? process.stderr : process.stdout).write(data));
  const cleanups: (() => void)[] = [];
  let detached: (() => void) | undefined;
  const detach = new Promise<undefined>((resolve) => (detached = () => resolve(undefined)));
  if (o.tty && process.stdout.isTTY) {
    const resize = () => client.resize(process.stdout.rows, process.stdout.columns);
    resize();
    process.stdout.on('resize', resize);
    cleanups.push(() => process.stdout.off('resize', resize));
  }
  if (o.stdin) {
    const input = process.stdin;
    if (o.tty && input.isTTY) {
      input.setRawMode(true);
      cleanups.push(() => input.setRawMode(false));
    }
    const keys = o.tty ? detachSequence(o.detachKeys ?? 'ctrl-p,ctrl-q') : Buffer.alloc(0);
    let matched = 0;
    const onData = (chunk: Buffer) => {
      if (keys.length === 0) return client.writeStdin(chunk);
      // hold back a possible detach sequence until it completes or breaks
      const out: number[] = [];
      for (const b of chunk) {
        if (b === keys[matched]) {
          matched++;
          if (matched === keys.length) return (client.writeStdin(Buffer.from(out)), detached!());
          continue;
        }
        if (matched) out.push(...keys.subarray(0, matched));
        matched = b === keys[0] ? 1 : 0;
        if (!matched) out.push(b);
      }
      if (out.length) client.writeStdin(Buffer.from(out));
    };
    input.on('data', onData);
    input.once('end', () => client.closeStdin());
    cleanups.push(() => {
      input.off('data', onData);
      input.pause();
      input.unref?.();
    });
  }
  if (!o.tty && o.proxySignal) {
    for (const sig of PROXIED) {
      const handler = () => o.proxySignal!(sig);
      process.on(sig, handler);
      cleanups.push(() => process.off(sig, handler));
    }
  }
  return Promise.race([client.exited, detach]).finally(() => {
    for (const c of cleanups) c();
  });
}
