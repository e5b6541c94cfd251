// `hull images` / `hull image ls`: docker's table, -q, --digests, --filter and --format.
import { normalize, familiarName } from '../../image/reference.ts';
import { shortId } from '../../image/digest.ts';
import { listImages, parseImageFilters } from '../../engine/images.ts';
import { renderRows } from '../format/render.ts';
import { humanSize, since } from '../units.ts';
import { write } from '../context.ts';
import { collect, type Verb } from './verb.ts';

const HEADERS = {
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  ID: 'IMAGE ID',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
  VirtualSize: 'VIRTUAL SIZE',
};

export const images: Verb = {
  names: ['images', 'image ls', 'image list'],
  define(cmd) {
    cmd
      .description('List images')
      .argument('[repository]', 'REPOSITORY[:TAG]')
      .option('-a, --all', 'show all images (default hides intermediate images)')
      .option('--digests', 'show digests')
      .option('-f, --filter <filter>', 'filter output based on conditions provided', collect, [])
      .option('--format <format>', 'format output using a custom template')
      .option('--no-trunc', "don't truncate output")
      .option('-q, --quiet', 'only show image IDs');
  },
  async run(ctx, args, opts) {
    const store = ctx.store();
    const raw = [...(opts.filter as string[])];
    if (args[0]) raw.push(`reference=${args[0]}`);
    const list = listImages(store, parseImageFilters(store, raw));
    const trunc = opts.trunc !== false;
    const id = (i: string) => (trunc ? shortId(i) : i);
    if (opts.quiet) {
      write([...new Set(list.map((i) => id(i.id)))].join('\n'));
      return;
    }
    const rows = list.flatMap((img) => {
      const base = {
        Digest: '<none>',
        ID: id(img.id),
        CreatedSince: since(img.created),
        CreatedAt: img.created ? new Date(img.created).toISOString() : '',
        Size: humanSize(img.size),
        Containers: 'N/A',
        SharedSize: 'N/A',
        UniqueSize: 'N/A',
        VirtualSize: humanSize(img.size),
      };
      const digestOf = (repo: string) => img.repoDigests.map((d) => normalize(d)).find((d) => familiarName(d) === repo)?.digest ?? '<none>';
      if (img.tags.length === 0) {
        const digests = img.repoDigests.map((d) => normalize(d));
        if (digests.length === 0) return [{ ...base, Repository: '<none>', Tag: '<none>' }];
        return digests.map((d) => ({ ...base, Repository: familiarName(d), Tag: '<none>', Digest: d.digest ?? '<none>' }));
      }
      return img.tags.map((t) => {
        const ref = normalize(t);
        return { ...base, Repository: familiarName(ref), Tag: ref.tag ?? '<none>', Digest: digestOf(familiarName(ref)) };
      });
    });
    const digests = opts.digests ? '\t{{.Digest}}' : '';
    const format = (opts.format as string | undefined) ?? `table {{.Repository}}\t{{.Tag}}${digests}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}`;
    write(renderRows(format, rows, { headers: HEADERS }));
  },
};
