// node:child_process, loaded when something first spawns rather than at start-up: with what it
// brings in (dgram, socket lists) it costs ~1 ms of every command, and `run` spawns through the
// native addon instead.
import type * as ChildProcess from 'node:child_process';

export const childProcess = (): typeof ChildProcess => process.getBuiltinModule('node:child_process');
