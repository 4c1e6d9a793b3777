/** `ts-docker images`: docker's table, `-q`, `--digests`, `--no-trunc`, `--filter`, `--format`. */
import type { Command } from 'commander';
import { shortId } from '../../image/digest.js';
import type { ImageRow } from '../../ops/images.js';
import { images } from '../../ops/images.js';
import { openStore, out } from '../context.js';
import { createdSince, goTimeString, humanSize } from '../format/humanize.js';
import { renderRows } from '../format/rows.js';

interface Opts {
  all?: boolean;
  digests?: boolean;
  filter?: string[];
  format?: string;
  trunc?: boolean;
  quiet?: boolean;
}

const HEADERS: Record<string, string> = {
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  ID: 'IMAGE ID',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  VirtualSize: 'VIRTUAL SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
  Containers: 'CONTAINERS',
};

/** The fields docker's image formatter offers, for one row (keys sorted as Go marshals a map). */
function context(r: ImageRow, trunc: boolean, now: number): Record<string, string> {
  return {
    Containers: 'N/A',
    CreatedAt: goTimeString(r.created),
    CreatedSince: createdSince(r.created, now),
    Digest: r.digest,
    ID: trunc ? shortId(r.id) : r.id,
    Repository: r.repository,
    SharedSize: 'N/A',
    Size: humanSize(r.size),
    Tag: r.tag,
    UniqueSize: 'N/A',
    VirtualSize: humanSize(r.size),
  };
}

/** Runs `images`. */
export default async function run(cmd: Command, reference: string | undefined, opts: Opts): Promise<void> {
  const rows = await images(await openStore(cmd), { reference, filters: opts.filter ?? [] });
  const trunc = opts.trunc !== false;
  let format = opts.format;
  if (opts.quiet) format = '{{.ID}}';
  else if (!format || format === 'table') {
    format = opts.digests
      ? 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}'
      : 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
  }
  const now = Date.now();
  out(renderRows(format, rows.map((r) => context(r, trunc, now)), HEADERS));
}
