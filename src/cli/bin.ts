// The `hull` executable's entry (bundled into dist/hull).
import { main } from './main.ts';

// When nothing is left to run, exit before Node's teardown: it would close the image database,
// and a close checkpoints its WAL (two fsyncs, and then a new WAL file for the next command:
// ~1.3 ms a command). SQLite takes an unclosed WAL over by design, as after a crash.
process.once('beforeExit', () => process.exit());

void main(process.argv.slice(2)).then((status) => {
  process.exitCode = status;
});
