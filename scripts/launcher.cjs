// The template of a CLI's launcher (dist/hull.cjs, dist/hull-runtime.cjs): scripts/bundle.ts
// fills in MAIN, GROUPS and WITH_VALUE and puts the Node shebang on top.
//
// Why not just require(MAIN) with Node's compile cache: that cache is made right after the
// bundle compiles, so it holds only the code that runs at load; every function a verb calls is
// compiled again at every start (~20 ms of a `run`). Here the bundle is compiled through vm.Script
// with V8's code cache kept beside it, written after a verb has run, so it holds what that verb
// compiled too. Each verb has its own, written by its first run; a rebuilt bundle or another
// Node makes V8 reject it, and that run writes it again.
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

/** The verb this run names ("run", "image ls"), which names its cache; '' for none. */
function verbOf(argv) {
  const words = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const a = argv[i];
    // help runs none of a verb's code: learning from it would keep the verb's own code out for
    // good (`-h` is help unless a value follows it, as in docker's `run -h <hostname>`)
    if (a === '--' || a === '--help' || (a === '-h' && !(argv[i + 1] ?? '-').match(/^[^-]/))) return '';
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

// One cache per verb, in <bundle>.cache/: V8 reads the whole of a cache at every start (~6 ms
// for the 850 kB of `run`), so a cache shared by all verbs would make each start pay for all.
const verb = verbOf(process.argv.slice(2));
const cacheDir = MAIN + '.cache';
const cacheFile = verb ? `${cacheDir}/${verb.replace(/ /g, '-')}` : undefined;
let cached;
try {
  if (cacheFile) cached = fs.readFileSync(cacheFile);
} catch {
  cached = undefined;
}
// latin1: the bundle is ASCII (scripts/bundle.ts refuses any other byte), and latin1 skips the
// UTF-8 decoder's pass over its 800 kB
const script = new vm.Script(Module.wrap(fs.readFileSync(MAIN, 'latin1')), { filename: MAIN, cachedData: cached });
if (cacheFile && (cached === undefined || script.cachedDataRejected)) {
  process.once('exit', () => {
    try {
      fs.mkdirSync(cacheDir, { recursive: true, mode: 0o755 });
      // a bound on what mistyped verbs can add
      if (cached === undefined && fs.readdirSync(cacheDir).length >= 128) return;
      // V8 checks a cache's source, flags and length but not its bytes (release builds skip the
      // checksum, which costs ~1 ms a start), and bytes it runs from a garbled cache crash it: so a
      // cache is put in place whole and on disk, or not at all
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      try {
        const fd = fs.openSync(tmp, 'w', 0o644);
        try {
          fs.writeFileSync(fd, script.createCachedData());
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        fs.renameSync(tmp, cacheFile);
      } catch (e) {
        fs.rmSync(tmp, { force: true });
        throw e;
      }
    } catch {
      // a read-only dist/ or a full disk: the next start compiles, as without a cache
    }
  });
}
const mod = new Module(MAIN, module);
mod.filename = MAIN;
script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(MAIN), mod, MAIN, __dirname);
