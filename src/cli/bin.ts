// The `hull` executable's entry (bundled into dist/hull).
import { main } from './main.ts';
import { holdAddressSpace } from '../sys/index.ts';

// When nothing is left to run, exit before Node's teardown: it would close the image database,
// and a close checkpoints its WAL (two fsyncs, and then a new WAL file for the next command:
// ~1.3 ms a command). SQLite takes an unclosed WAL over by design, as after a crash.
process.once('beforeExit', () => process.exit());

// A shell waiting for `hull` hears of its exit ~1-2 ms sooner. The child that frees the memory
// shares it, command line included: for the moment it outlives us it shows as just `hull`, and
// not with our arguments (a `pgrep -f <root>` would take it for a command still running).
process.once('exit', () => {
  try {
    process.title = 'hull';
    holdAddressSpace();
  } catch {
    // no addon: the exit is only slower
  }
});

void main(process.argv.slice(2)).then((status) => {
  process.exitCode = status;
});
