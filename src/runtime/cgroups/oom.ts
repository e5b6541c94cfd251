// Noticing the OOM killer at work in a container's cgroup, for `events`.
//
// runc registers an eventfd on v1's memory.oom_control through cgroup.event_control, which
// Node cannot create. Both versions count OOM kills instead (oom_kill in v1's
// memory.oom_control since Linux 4.13, in v2's memory.events), so a rise in that counter is
// an OOM event. v2 signals changes to memory.events through inotify (fs.watch); v1 files do
// not, so they are polled.
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { containerCgroup } from './controllers.ts';
import { readCgroupFile, type Reader } from './stats.ts';
import { valueOf } from './stats-parse.ts';

export interface OomCounter {
  /** The file that counts OOM kills, and whether it notifies changes. */
  file: string;
  watchable: boolean;
  read(): bigint | undefined;
}

/** Where the container's OOM kills are counted, or undefined without a memory controller. */
export function oomCounter(dirs: string[], read: Reader = readCgroupFile): OomCounter | undefined {
  const cg = containerCgroup(dirs);
  const v1 = cg.v1.get('memory');
  const [dir, name, watchable] = v1 !== undefined ? [v1, 'memory.oom_control', false] : [cg.unified, 'memory.events', true];
  if (dir === undefined || read(dir, name) === undefined) return undefined;
  const file = join(dir, name);
  return {
    file,
    watchable,
    read() {
      try {
        const text = read(dir, name);
        return text === undefined ? undefined : valueOf(text, 'oom_kill', file);
      } catch {
        return undefined; // the cgroup is being removed
      }
    },
  };
}

export interface OomWatch {
  /** Looks at the counter now (the caller does so once more before it stops). */
  check(): void;
  close(): void;
}

/**
 * Calls onOom each time the counter is seen to have risen since the last look; kills
 * before the watch started do not count.
 */
export function watchOom(counter: OomCounter, onOom: () => void, pollMs = 100): OomWatch {
  let last = counter.read() ?? 0n;
  const check = () => {
    const now = counter.read();
    if (now !== undefined && now > last) {
      last = now;
      onOom();
    }
  };
  let watcher: FSWatcher | undefined;
  if (counter.watchable) {
    try {
      watcher = watch(counter.file, { persistent: false }, check);
      watcher.on('error', () => watcher?.close());
    } catch {
      // polling still sees it, a little later
    }
  }
  const timer = setInterval(check, pollMs);
  return {
    check,
    close() {
      clearInterval(timer);
      watcher?.close();
    },
  };
}
