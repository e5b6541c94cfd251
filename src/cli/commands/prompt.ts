// docker's confirmation prompt for prune verbs: the warning, "Are you sure you want to continue?
// [y/N] ", and one line of stdin; only "y" (either case) goes on. At the end of stdin the answer
// is no.
export async function confirm(warning: string): Promise<boolean> {
  process.stdout.write(`${warning}\nAre you sure you want to continue? [y/N] `);
  return (await readLine()).trim().toLowerCase() === 'y';
}

/** The first line of stdin ('' at its end). */
function readLine(): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const finish = () => {
      process.stdin.off('data', onData).off('end', finish).off('error', finish);
      process.stdin.destroy();
      const nl = text.indexOf('\n');
      resolve(nl < 0 ? text : text.slice(0, nl));
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.includes('\n')) finish();
    };
    process.stdin.on('data', onData).once('end', finish).once('error', finish);
  });
}
