// The worker-thread side of pool.ts: unpacks the layers it is sent, one at a time. Bundled as
// dist/hull-unpack-worker.cjs (scripts/bundle.ts).
import { parentPort } from 'node:worker_threads';
import { Readable } from 'node:stream';
import { followBlob } from './growing.ts';
import { unpackLayer } from './unpack.ts';
import type { JobMessage, ReplyMessage } from './pool.ts';

const port = parentPort;
if (!port) throw new Error('src/image/layer/worker.ts runs only as a worker thread (see pool.ts)');

const running = new Map<number, AbortController>();

port.on('message', (msg: JobMessage) => {
  if (msg.type === 'abort') {
    running.get(msg.id)?.abort(new DOMException('the unpack was aborted', 'AbortError'));
    return;
  }
  const controller = new AbortController();
  running.set(msg.id, controller);
  const source = typeof msg.source === 'string' ? msg.source : Readable.from(followBlob(msg.source.fd, msg.source.shared, controller.signal), { objectMode: false });
  unpackLayer(source, msg.dir, { ...msg.opts, signal: controller.signal }).then(
    (result) => {
      running.delete(msg.id);
      port.postMessage({ type: 'done', id: msg.id, result } satisfies ReplyMessage);
    },
    (e: unknown) => {
      running.delete(msg.id);
      const err = e instanceof Error ? e : new Error(String(e));
      const reply: ReplyMessage = {
        type: 'error',
        id: msg.id,
        error: {
          name: err.name,
          message: err.message,
          stack: err.stack ?? '',
          code: (err as NodeJS.ErrnoException).code,
          entry: (err as { entry?: string }).entry,
          offset: (err as { offset?: number }).offset,
        },
      };
      port.postMessage(reply);
    },
  );
});
