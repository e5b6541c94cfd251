// `hull history IMAGE`: the layers of an image with the step that made each.
import { shortId } from '../../image/digest.ts';
import { imageHistory } from '../../engine/images.ts';
import { renderRows } from '../format/render.ts';
import { humanSize, since } from '../units.ts';
import { write } from '../context.ts';
import type { Verb } from './verb.ts';

const HEADERS = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };

export const history: Verb = {
  names: ['history', 'image history'],
  define(cmd) {
    cmd
      .description('Show the history of an image')
      .argument('<image>')
      .option('--format <format>', 'format output using a custom template')
      .option('-H, --human [bool]', 'print sizes and dates in human readable format', true)
      .option('--no-trunc', "don't truncate output")
      .option('-q, --quiet', 'only show image IDs');
  },
  async run(ctx, args, opts) {
    const rows = imageHistory(ctx.store(), args[0]!);
    const trunc = opts.trunc !== false;
    const human = opts.human !== 'false' && opts.human !== false;
    if (opts.quiet) {
      write(rows.map((r) => (r.id === '<missing>' || !trunc ? r.id : shortId(r.id))).join('\n'));
      return;
    }
    const view = rows.map((r) => ({
      ID: r.id === '<missing>' || !trunc ? r.id : shortId(r.id),
      CreatedSince: human ? since(r.created) : (r.created ?? ''),
      CreatedAt: r.created ?? '',
      CreatedBy: trunc && [...r.createdBy].length > 45 ? [...r.createdBy].slice(0, 44).join('') + '…' : r.createdBy,
      Size: human ? humanSize(r.size) : String(r.size),
      Comment: r.comment,
    }));
    const format = (opts.format as string | undefined) ?? 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
    write(renderRows(format, view, { headers: HEADERS }));
  },
};
