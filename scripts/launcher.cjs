// The template of a CLI's launcher (dist/hull.cjs, dist/hull-runtime.cjs): scripts/bundle.ts
// fills in MAIN, GROUPS and WITH_VALUE and puts the Node shebang on top.
//
// Why not just require(MAIN) with Node's compile cache: that cache is made right after the
// bundle compiles, so it holds only the code that runs at load; every function a verb calls is
// compiled again at every start (~20 ms of a `run`). Here the bundle is compiled through vm.Script
// with V8's code cache kept beside it, written after a verb has run, so it holds what that verb
// compiled too. Each verb not yet in the cache adds its functions once (the cache then holds the
// union); a rebuilt bundle or another Node rejects the cache and the next run writes it again.
// The cache sits beside the bundle, so whoever may change the code is the only one who can
// change it; where dist/ cannot be written, nothing is written.
'use strict';
const fs = require('node:fs');
const Module = require('node:module');
const vm = require('node:vm');

Module.enableCompileCache?.();

const MAIN = __dirname + '/' + 'MAIN';
const GROUPS = new Set(['GROUPS']);
const WITH_VALUE = new Set(['WITH_VALUE']);

/** The verb this run names ("run", "image ls"): what the cache has learnt is kept by verb. */
function verbOf(argv) {
  const words = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const a = argv[i];
    // help runs none of a verb's code: learning from it would keep the verb's own code out for good
    if (a === '--' || a === '--help' || a === '-h') return '';
    if (a.startsWith('-')) {
      if (words.length > 0) break;
      if (WITH_VALUE.has(a)) i++;
      continue;
    }
    if (words.length === 1 && !GROUPS.has(words[0])) break;
    words.push(a);
  }
  return words.join(' ').replace(/[^a-z -]/g, '').slice(0, 64);
}

// one file, so that a cache and the verbs it has learnt are replaced together: "verb,verb\n" + V8's data
const cacheFile = MAIN + '.cache';
let cached;
let learnt = [];
try {
  const file = fs.readFileSync(cacheFile);
  const eol = file.indexOf(10);
  learnt = file.subarray(0, eol).toString().split(',');
  cached = file.subarray(eol + 1);
} catch {
  cached = undefined;
}
const script = new vm.Script(Module.wrap(fs.readFileSync(MAIN, 'utf8')), { filename: MAIN, cachedData: cached });
const verb = verbOf(process.argv.slice(2));
if (cached === undefined || script.cachedDataRejected) learnt = [];
// a bound on what mistyped verbs can add
if (verb && !learnt.includes(verb) && learnt.length < 64) {
  process.once('exit', () => {
    try {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, Buffer.concat([Buffer.from(`${[...learnt, verb].join(',')}\n`), script.createCachedData()]), { mode: 0o644 });
      fs.renameSync(tmp, cacheFile);
    } catch {
      // a read-only dist/ or a full disk: the next start compiles, as without a cache
    }
  });
}
const mod = new Module(MAIN, module);
mod.filename = MAIN;
mod.paths = Module._nodeModulePaths(__dirname);
script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(MAIN), mod, MAIN, __dirname);
