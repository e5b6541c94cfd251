// `hull logs [-f] [-n N] [--since T] [--until T] [-t] [--details] CONTAINER`
import { parseLogTime, parseTail, readContainerLogs, type LogSink } from '../../engine/containers/logs.ts';
import { CliError } from '../context.ts';
import { clientError, daemonError } from './daemon-error.ts';
import type { Verb } from './verb.ts';

/** Output the way the reader hands it: entries of one stream gathered into larger writes. */
function terminalSink(signal: AbortSignal): LogSink & { close(): Promise<void> } {
  let stream: 1 | 2 = 1;
  let parts: Buffer[] = [];
  let size = 0;
  const flush = async (): Promise<void> => {
    if (size === 0) return;
    const out = stream === 2 ? process.stderr : process.stdout;
    const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    parts = [];
    size = 0;
    if (signal.aborted || out.write(data)) return;
    // a reader that takes its time holds the log reader back, not memory
    await new Promise<void>((resolve) => {
      const done = () => {
        out.off('drain', done);
        out.off('close', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      out.once('drain', done);
      out.once('close', done);
      signal.addEventListener('abort', done, { once: true });
    });
  };
  return {
    async write(s, data) {
      if (s !== stream) {
        await flush();
        stream = s;
      }
      parts.push(data);
      size += data.length;
      if (size >= 64 * 1024) await flush();
    },
    flush,
    close: flush,
  };
}

export const logs: Verb = {
  names: ['logs', 'container logs'],
  define(cmd) {
    cmd
      .description('Fetch the logs of a container')
      .argument('<container>')
      .option('--details', 'Show extra details provided to logs')
      .option('-f, --follow', 'Follow log output')
      .option('--since <string>', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
      .option('-n, --tail <string>', 'Number of lines to show from the end of the logs', 'all')
      .option('-t, --timestamps', 'Show timestamps')
      .option('--until <string>', 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)');
  },
  async run(ctx, args, opts) {
    // the docker CLI reads the times before it asks the daemon anything
    let since: bigint | undefined;
    let until: bigint | undefined;
    try {
      since = parseLogTime('since', (opts.since as string | undefined) ?? '');
      until = parseLogTime('until', (opts.until as string | undefined) ?? '');
    } catch (e) {
      throw clientError((e as Error).message);
    }
    const env = ctx.containerEnv();
    let c;
    try {
      c = env.containers.find(args[0]!);
    } catch (e) {
      throw daemonError(e);
    }
    const abort = new AbortController();
    // a closed pipe (logs | head) ends the reading quietly
    for (const out of [process.stdout, process.stderr]) out.on('error', () => abort.abort());
    const sink = terminalSink(abort.signal);
    const tail = parseTail(opts.tail as string | undefined);
    let problems;
    try {
      problems = await readContainerLogs(env, c, {
        ...(tail !== undefined ? { tail } : {}),
        ...(since !== undefined ? { since } : {}),
        ...(until !== undefined ? { until } : {}),
        timestamps: Boolean(opts.timestamps),
        details: Boolean(opts.details),
        follow: Boolean(opts.follow),
        signal: abort.signal,
      }, sink);
      await sink.close();
    } catch (e) {
      await sink.close().catch(() => {});
      // LogsNotSupported included: docker's daemon refuses to read a "none" log
      throw daemonError(e);
    }
    if (problems.length > 0) {
      for (const p of problems.slice(0, 10)) {
        const where = p.from === undefined ? `line ${p.line}` : `line ${p.line} after byte ${p.from}`;
        process.stderr.write(`error from daemon in stream: Error grabbing logs: ${p.file}: ${where}: ${p.why}\n`);
      }
      if (problems.length > 10) process.stderr.write(`error from daemon in stream: Error grabbing logs: ${problems.length - 10} more bad lines\n`);
      throw new CliError('', 1);
    }
  },
};
