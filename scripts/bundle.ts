// Bundles each CLI into one file under dist/, with a shebang to the Node 24 that npm installed.
// dist/hull-runtime itself is native/front.c, which runs this bundle for all but four verbs.
import { build } from 'esbuild';
import { chmodSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const node = process.execPath;

// A CLI is a small loader (`launcher`) that turns on Node's compile cache and then loads its
// bundle: V8 then reuses the compiled bundle from disk instead of compiling ~1 MB (~40 ms) each start.
const entries = [
  { entry: 'src/runtime/cli/main.ts', out: 'dist/hull-runtime-main.cjs', launcher: 'dist/hull-runtime.cjs' },
  // dist/hull itself is native/hull-front.c, which becomes this launcher
  { entry: 'src/cli/bin.ts', out: 'dist/hull-main.cjs', launcher: 'dist/hull.cjs' },
  { entry: 'src/image/layer/worker.ts', out: 'dist/hull-unpack-worker.cjs' },
  { entry: 'node_modules/undici/index.js', out: 'dist/hull-undici.cjs' },
];

// undici is half of hull's code by size; only registry work needs it, so it is a bundle of its
// own, read from disk when a pull or push first imports it, not at every start.
const undiciApart = {
  name: 'undici-apart',
  setup(b: import('esbuild').PluginBuild) {
    b.onResolve({ filter: /^undici$/ }, () => ({ path: './hull-undici.cjs', external: true }));
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
    plugins: entry.startsWith('src/') ? [undiciApart] : [],
  });
  chmodSync(root + out + '.tmp', 0o755);
  renameSync(root + out + '.tmp', root + out);
  if (launcher) {
    // "--" ends node's own options: without it node reads a user's `run --env-file x` as its own (nodejs/node#54232)
    const main = out.slice(out.lastIndexOf('/') + 1);
    writeFileSync(root + launcher + '.tmp', `#!${node} --\nrequire('node:module').enableCompileCache?.();\nrequire('./${main}');\n`);
    chmodSync(root + launcher + '.tmp', 0o755);
    renameSync(root + launcher + '.tmp', root + launcher);
  }
}
