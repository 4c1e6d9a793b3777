/** `ts-docker images`: docker's table, `-q`, `--digests`, `--no-trunc`, `--filter`, `--format`. */
import type { Command } from 'commander';
import { shortId } from '../../image/digest.js';
import type { ImageRow } from '../../ops/images.js';
import { images } from '../../ops/images.js';
import { openStore, out } from '../context.js';
import { createdSince, goTimeString, humanSize } from '../format/humanize.js';
import { tabwrite } from '../format/tabwriter.js';
import { escapeControl } from '../../text/escape.js';

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

type Field = (r: ImageRow, trunc: boolean, now: number) => string;

/** The fields docker's image formatter offers, for one row (keys sorted as Go marshals a map). */
const FIELDS: Record<string, Field> = {
  Containers: () => 'N/A',
  // A damaged image (store/images.ts) has no readable config: no creation time, no size to trust.
  CreatedAt: (r) => (r.damaged !== undefined ? 'N/A' : goTimeString(r.created)),
  CreatedSince: (r, _t, now) => (r.damaged !== undefined ? 'N/A' : createdSince(r.created, now)),
  Digest: (r) => r.digest,
  ID: (r, trunc) => (trunc ? shortId(r.id) : r.id),
  Repository: (r) => r.repository,
  SharedSize: () => 'N/A',
  Size: (r) => (r.damaged !== undefined ? 'N/A' : humanSize(r.size)),
  Tag: (r) => r.tag,
  UniqueSize: () => 'N/A',
  VirtualSize: (r) => (r.damaged !== undefined ? 'N/A' : humanSize(r.size)),
};

/** Every field of one row, for templates. */
function context(r: ImageRow, trunc: boolean, now: number): Record<string, string> {
  return Object.fromEntries(Object.entries(FIELDS).map(([k, f]) => [k, f(r, trunc, now)]));
}

/** The columns of the built-in formats, drawn without the template engine (the same text it gives). */
const DEFAULT_COLUMNS = ['Repository', 'Tag', 'ID', 'CreatedSince', 'Size'];
const DIGEST_COLUMNS = ['Repository', 'Tag', 'Digest', 'ID', 'CreatedSince', 'Size'];

/** One line on stderr per damaged image listed: what is wrong and how to remove it. */
function warnDamaged(rows: ImageRow[]): void {
  const seen = new Set<string>();
  for (const r of rows) {
    if (r.damaged === undefined || seen.has(r.digest)) continue;
    seen.add(r.digest);
    const label = r.repository === '<none>' ? shortId(r.id) : r.tag === '<none>' ? r.repository : `${r.repository}:${r.tag}`;
    // Several names: `rmi NAME` would only untag one, `rmi -f ID` removes the image.
    const remedy = r.nameCount > 1 ? `ts-docker rmi -f ${shortId(r.id)}` : `ts-docker rmi ${label}`;
    process.stderr.write(`WARNING: image ${escapeControl(label)} is damaged (${escapeControl(r.damaged)}); remove it with: ${escapeControl(remedy)}\n`);
  }
}

/** Runs `images`. */
export default async function run(cmd: Command, reference: string | undefined, opts: Opts): Promise<void> {
  const rows = await images(await openStore(cmd), { reference, filters: opts.filter ?? [] });
  warnDamaged(rows);
  const trunc = opts.trunc !== false;
  const now = Date.now();
  const format = opts.format;
  if (opts.quiet || !format || format === 'table') {
    // `-q` is `{{.ID}}`, the default is `table {{.Repository}}\t{{.Tag}}\t...`: rendered directly,
    // because a template per row was ~15 ms of a 1,000-name listing (bench/README.md).
    const columns = opts.quiet ? ['ID'] : opts.digests ? DIGEST_COLUMNS : DEFAULT_COLUMNS;
    const fields = columns.map((k) => FIELDS[k]!);
    const lines = rows.map((r) => fields.map((f) => f(r, trunc, now)).join('\t'));
    out(opts.quiet ? lines.map((l) => `${l}\n`).join('') : tabwrite([columns.map((k) => HEADERS[k]).join('\t'), ...lines]));
    return;
  }
  const { renderRows } = await import('../format/rows.js');
  out(renderRows(format, rows.map((r) => context(r, trunc, now)), HEADERS));
}
