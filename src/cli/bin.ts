// The `hull` executable's entry (bundled into dist/hull).
import { main } from './main.ts';

void main(process.argv.slice(2)).then((status) => {
  process.exitCode = status;
});
