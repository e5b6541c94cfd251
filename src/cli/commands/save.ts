// `hull save [-o FILE] [--format docker|oci-archive|oci-dir] IMAGE...`
import { SAVE_FORMATS, saveImages, type SaveFormat } from '../../engine/archive/save.ts';
import { CliError } from '../context.ts';
import type { Verb } from './verb.ts';

export const save: Verb = {
  names: ['save', 'image save'],
  define(cmd) {
    cmd
      .description('Save one or more images to a tar archive (streamed to STDOUT by default)')
      .argument('<image...>')
      .option('-o, --output <file>', 'Write to a file, instead of STDOUT')
      .option('--format <format>', 'docker (a docker-archive that is also an OCI layout), oci-archive, or oci-dir (a directory, given with -o)', 'docker');
  },
  async run(ctx, args, opts) {
    const format = opts.format as string;
    if (!(SAVE_FORMATS as readonly string[]).includes(format)) throw new CliError(`invalid --format ${JSON.stringify(format)}: use ${SAVE_FORMATS.join(', ')}`, 125);
    const output = opts.output as string | undefined;
    if (format === 'oci-dir' && !output) throw new CliError('the oci-dir format writes a directory: name it with -o', 125);
    if (!output && process.stdout.isTTY) throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    await saveImages(ctx.store(), args, output ?? process.stdout, format as SaveFormat);
  },
};
