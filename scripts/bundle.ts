// Bundles each CLI into one file under dist/, with a shebang to the Node 24 that npm installed.
// dist/hull-runtime itself is native/front.c, which runs this bundle for all but four verbs.
import { build } from 'esbuild';
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const node = process.execPath;

// A CLI is a small launcher (scripts/launcher.cjs) that loads its bundle with V8's code cache, so
// that a start does not compile ~1 MB of code again. `verbs` tells it how to find the verb in argv:
// the options that take a value before it, and the management commands whose verbs are two words.
interface Entry {
  entry: string;
  out: string;
  /** warm: the verbs that start a container's process, for which dist/hull warms the cgroup lock. */
  launcher?: { file: string; groups: string[]; withValue: string[]; warm?: string[] };
}
const entries: Entry[] = [
  {
    entry: 'src/runtime/cli/main.ts',
    out: 'dist/hull-runtime-main.cjs',
    launcher: { file: 'dist/hull-runtime.cjs', groups: [], withValue: ['--root', '--log', '--log-format', '--rootless', '--criu'] },
  },
  // dist/hull itself is native/hull-front.c, which becomes this launcher
  {
    entry: 'src/cli/bin.ts',
    out: 'dist/hull-main.cjs',
    launcher: {
      file: 'dist/hull.cjs',
      groups: ['container', 'image', 'network', 'system', 'volume'],
      withValue: ['--root', '--runroot', '--config'],
      warm: ['run', 'start', 'restart', 'exec'],
    },
  },
  { entry: 'src/image/layer/worker.ts', out: 'dist/hull-unpack-worker.cjs' },
  { entry: 'scripts/undici-parts.cjs', out: 'dist/hull-undici.cjs' },
];
// A young generation of 8 MB instead of 1: start-up then allocates without the scavenges that
// copied most of what the code cache made (one took 4 ms of a `run`); `run --rm` ~4 ms faster,
// measured with `node --min-semi-space-size=N`. 16 MB was no faster, and it cost a pull 35 MB.
// One thread for V8's background jobs (compiles, GC) instead of Node's 4: on this 2-CPU machine
// a pool of 3 or 4 made `run --rm` ~3 ms slower than 1 or 2 (interleaved runs, both orders), and
// a pull was no slower with 1, since its unpacking runs on worker threads and libuv's pool.
const NODE_FLAGS = '--min-semi-space-size=8 --v8-pool-size=1';
const launcherTemplate = readFileSync(root + 'scripts/launcher.cjs', 'utf8');

// undici is half of hull's code by size; only registry work needs it, so it is a bundle of its
// own, read from disk when a pull or push first imports it, not at every start.
const undiciApart = {
  name: 'undici-apart',
  setup(b: import('esbuild').PluginBuild) {
    b.onResolve({ filter: /^undici$/ }, () => ({ path: './hull-undici.cjs', external: true }));
  },
};

// commander imports node:child_process at its top for executable subcommands, which hull never
// uses; loading it (with dgram and socket lists) cost ~1 ms of every command. Its bundle gets an
// object that loads the module only if something reads from it.
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b: import('esbuild').PluginBuild) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.includes('/node_modules/commander/') ? { path: 'lazy-child-process', namespace: 'hull' } : undefined,
    );
    b.onLoad({ filter: /^lazy-child-process$/, namespace: 'hull' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, key) => process.getBuiltinModule('node:child_process')[key] });",
      loader: 'js',
    }));
  },
};

// the bundles are CommonJS whatever the repository's package.json says
writeFileSync(root + 'dist/package.json', '{ "type": "commonjs" }\n');

for (const { entry, out, launcher } of entries) {
  await build({
    entryPoints: [root + entry],
    // written aside and renamed: a hull started during a rebuild must never load half a bundle
    outfile: root + out + '.tmp',
    bundle: true,
    platform: 'node',
    // CommonJS: Node loads built-ins through require() several ms faster than through import.
    format: 'cjs',
    target: 'node24',
    minify: true,
    legalComments: 'none',
    banner: { js: `${launcher ? '' : `#!${node}\n`}var __hullMetaUrl = require('node:url').pathToFileURL(__filename).href;` },
    define: { 'import.meta.url': '__hullMetaUrl' },
    plugins: entry.startsWith('src/') ? [undiciApart, lazyChildProcess] : [],
  });
  // esbuild escapes non-ASCII text in strings but not in regular expression literals, and one
  // such character makes V8 hold the whole source as two bytes a character: 780 kB more memory
  // to fault in, and a slower scan, at every start. Write \u escapes in the source instead.
  const text = readFileSync(root + out + '.tmp', 'utf8');
  const wide = /[^\x00-\x7f]/.exec(text);
  if (wide) {
    rmSync(root + out + '.tmp');
    throw new Error(`${out}: a non-ASCII character in ${JSON.stringify(text.slice(Math.max(0, wide.index - 40), wide.index + 10))}; write it as a \\u escape`);
  }
  chmodSync(root + out + '.tmp', 0o755);
  renameSync(root + out + '.tmp', root + out);
  // the caches of the bundle before this build: V8 would reject them, and they hold ~1 MB a verb
  rmSync(root + out + '.cache', { recursive: true, force: true });
  if (launcher) {
    // "--" ends node's own options: without it node reads a user's `run --env-file x` as its own (nodejs/node#54232)
    const list = (words: string[]) => `[${words.map((w) => JSON.stringify(w)).join(', ')}]`;
    const text = launcherTemplate
      .replace("'MAIN'", JSON.stringify(out.slice(out.lastIndexOf('/') + 1)))
      .replace("['GROUPS']", list(launcher.groups))
      .replace("['WITH_VALUE']", list(launcher.withValue));
    // what dist/hull (native/hull-front.c) reads: a shebang carries one argument, so Node's
    // options are on the next line, and the front finds the verb as the launcher does
    const header = [`#!${node} --`, `// node-options: ${NODE_FLAGS}`];
    if (launcher.warm) {
      header.push(`// warm-cgroup-lock: ${launcher.warm.join(' ')}`, `// options-with-value: ${launcher.withValue.join(' ')}`, `// groups: ${launcher.groups.join(' ')}`);
    }
    writeFileSync(root + launcher.file + '.tmp', `${header.join('\n')}\n${text}`);
    chmodSync(root + launcher.file + '.tmp', 0o755);
    renameSync(root + launcher.file + '.tmp', root + launcher.file);
  }
}
