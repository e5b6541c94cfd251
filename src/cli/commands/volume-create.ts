// `hull volume create`: docker's flags (--driver/-d, --label, --opt/-o, the hidden --name) and
// output (the volume's name).
import { Option } from 'commander';
import { CliError, write } from '../context.ts';
import { collect, type Verb } from './verb.ts';
import { daemonError, keyValues, labelFlag, volumeStore } from './volume-common.ts';

export const volumeCreate: Verb = {
  names: ['volume create'],
  define(cmd) {
    cmd
      .description('Create a volume')
      .argument('[volume]', 'VOLUME')
      .option('-d, --driver <driver>', 'specify volume driver name', 'local')
      .option('--label <label>', 'set metadata for a volume', labelFlag, [])
      .option('-o, --opt <opt>', 'set driver specific options', collect, [])
      .addOption(new Option('--name <name>', 'specify volume name').hideHelp());
  },
  async run(ctx, args, opts) {
    let name = opts.name as string | undefined;
    if (args[0] !== undefined) {
      if (name) throw new CliError('conflicting options: cannot specify a volume-name through both --name and as a positional arg');
      name = args[0];
    }
    try {
      const volume = volumeStore(ctx).create({
        ...(name ? { name } : {}),
        driver: opts.driver as string,
        labels: keyValues(opts.label as string[]),
        options: keyValues(opts.opt as string[]),
      });
      write(volume.Name);
    } catch (err) {
      process.stderr.write(`${daemonError(err)}\n`);
      throw new CliError('', 1);
    }
  },
};
