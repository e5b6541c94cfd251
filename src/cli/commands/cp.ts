// `hull cp [-a] [-L] [-q] CONTAINER:SRC_PATH DEST_PATH|-` and `hull cp [-a] [-L] [-q] SRC_PATH|- CONTAINER:DEST_PATH`
import { ContainerPathError, CopyError, copyFromContainer, copyToContainer, resolveLocalPath, validateOutputPath, type CopyResult } from '../../engine/containers/cp.ts';
import { NoSuchContainer } from '../../engine/containers/store.ts';
import { humanSize } from '../units.ts';
import { CliError } from '../context.ts';
import { clientError, daemonError } from './daemon-error.ts';
import type { Verb } from './verb.ts';

/** docker's splitCpArg: "ctr:path", unless the argument is an absolute path or starts with "." ("./a:b" is local). */
function splitCpArg(arg: string): [string, string] {
  if (arg.startsWith('/')) return ['', arg];
  const colon = arg.indexOf(':');
  if (colon < 0 || arg.startsWith('.')) return ['', arg];
  return [arg.slice(0, colon), arg.slice(colon + 1)];
}

function failure(e: unknown): Error {
  // the reader of `cp ... -` went away (| head): nothing to say, as docker's CLI dies of SIGPIPE
  if ((e as NodeJS.ErrnoException).code === 'EPIPE') return new CliError('', 1);
  if (e instanceof ContainerPathError || e instanceof NoSuchContainer) return daemonError(e);
  if (e instanceof CopyError) return clientError(e.message);
  return clientError((e as Error).message);
}

export const cp: Verb = {
  names: ['cp', 'container cp'],
  define(cmd) {
    cmd
      .description('Copy files/folders between a container and the local filesystem')
      .argument('<src>', 'CONTAINER:SRC_PATH, a local path, or - for a tar on stdin')
      .argument('<dest>', 'CONTAINER:DEST_PATH, a local path, or - for a tar on stdout')
      .option('-a, --archive', 'Archive mode (copy all uid/gid information)')
      .option('-L, --follow-link', 'Always follow symbol link in SRC_PATH')
      .option('-q, --quiet', 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached');
  },
  async run(ctx, args, opts) {
    const [source, destination] = args as [string, string];
    if (source === '') throw clientError('source can not be empty');
    if (destination === '') throw clientError('destination can not be empty');
    const [srcContainer, srcPath] = splitCpArg(source);
    const [dstContainer, dstPath] = splitCpArg(destination);
    if (srcContainer && dstContainer) throw clientError('copying between containers is not supported');
    if (!srcContainer && !dstContainer) throw clientError('must specify at least one container source');
    const options = { followLink: Boolean(opts.followLink), archive: Boolean(opts.archive) };
    const env = ctx.containerEnv();
    let result: CopyResult;
    try {
      if (srcContainer) {
        const local = dstPath === '-' ? dstPath : resolveLocalPath(dstPath);
        validateOutputPath(local);
        result = await copyFromContainer(env, srcContainer, srcPath, local === '-' ? process.stdout : local, options);
      } else {
        const local = srcPath === '-' ? srcPath : resolveLocalPath(srcPath);
        result = await copyToContainer(env, local === '-' ? process.stdin : local, dstContainer, dstPath, options);
      }
    } catch (e) {
      throw failure(e);
    }
    // docker's CLI reports the copy only to a terminal
    if (!opts.quiet && result.destination !== '-' && process.stderr.isTTY) {
      process.stderr.write(`Successfully copied ${humanSize(result.bytes)} to ${result.destination}\n`);
    }
  },
};
