/** `images`: one row per name (or one `<none>` row per dangling image), filtered as docker filters. */
import { InvalidArgumentError } from '../errors.js';
import type { Digest } from '../image/digest.js';
import type { ImageSummary } from '../store/summaries.js';
import type { Store } from '../store/store.js';
import { familiarMatch, parseReference } from '../reference/index.js';
import { repoTagOf } from './names.js';

/** One row of `images`. */
export interface ImageRow {
  repository: string;
  tag: string;
  /** The image ID (store/images.ts imageId: the config digest, or an index image's index digest). */
  id: Digest;
  /** The manifest digest the name points at. */
  digest: Digest;
  created: Date | undefined;
  size: number;
  labels: Record<string, string>;
  /** Set for a damaged image: what is wrong (`blob sha256:... is missing`). */
  damaged?: string;
  /** How many names the image has (whatever the filters show). */
  nameCount: number;
}

/** Options of `images`: the positional REPO[:TAG] and `--filter key=value` pairs. */
export interface ImagesOptions {
  reference?: string | undefined;
  filters?: string[];
}

const FILTER_KEYS = new Set(['dangling', 'reference', 'before', 'since', 'label']);

/** Parses `--filter` values into a multimap, with docker's error for an unknown key. */
export function parseFilters(values: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError(`bad format of filter (expected name=value)`);
    const key = v.slice(0, eq).toLowerCase();
    if (!FILTER_KEYS.has(key)) throw new InvalidArgumentError(`invalid filter '${key}'`);
    out.set(key, [...(out.get(key) ?? []), v.slice(eq + 1)]);
  }
  return out;
}

function labelsMatch(labels: Record<string, string>, wanted: string[]): boolean {
  return wanted.every((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) return w in labels;
    return labels[w.slice(0, eq)] === w.slice(eq + 1);
  });
}

/** Lists the store's images as docker's rows, newest first. */
export async function images(store: Store, opts: ImagesOptions = {}): Promise<ImageRow[]> {
  const filters = parseFilters(opts.filters ?? []);
  const patterns = [...(filters.get('reference') ?? [])];
  if (opts.reference) patterns.push(opts.reference);
  const index = await store.readIndex();
  // Summaries, not full records: a listing needs no manifest or config documents (store/summaries.ts).
  const records = await store.summaries(index);
  const dangling = filters.get('dangling')?.at(-1);
  if (dangling !== undefined && !['true', 'false', '1', '0'].includes(dangling)) {
    throw new InvalidArgumentError(`Invalid filter 'dangling=${dangling}'`);
  }
  const timeOf = async (arg: string): Promise<number> => (await store.find(arg, index)).record.created?.getTime() ?? 0;
  const before = filters.has('before') ? Math.min(...(await Promise.all(filters.get('before')!.map(timeOf)))) : undefined;
  const since = filters.has('since') ? Math.max(...(await Promise.all(filters.get('since')!.map(timeOf)))) : undefined;
  const labels = filters.get('label') ?? [];

  const rows: ImageRow[] = [];
  for (const r of records) {
    const t = r.created?.getTime() ?? 0;
    if (before !== undefined && !(t < before)) continue;
    if (since !== undefined && !(t > since)) continue;
    if (!labelsMatch(r.labels, labels)) continue;
    if (dangling === 'true' || dangling === '1') {
      if (r.names.length === 0) rows.push(row(r, '<none>', '<none>'));
      continue;
    }
    if (r.names.length === 0) {
      if (patterns.length === 0 && dangling === undefined) rows.push(row(r, '<none>', '<none>'));
      continue;
    }
    for (const name of r.names) {
      if (patterns.length > 0 && !patterns.some((p) => referenceMatches(p, name))) continue;
      const { repository, tag } = repoTagOf(name);
      rows.push(row(r, repository, tag));
    }
  }
  return rows;
}

/** docker's FamiliarMatch: the pattern against `name:tag`, then against the name alone. */
function referenceMatches(pattern: string, full: string): boolean {
  return familiarMatch(pattern, parseReference(full));
}

function row(r: ImageSummary, repository: string, tag: string): ImageRow {
  if (r.damaged !== undefined) {
    return { repository, tag, id: r.id, digest: r.descriptor.digest, created: undefined, size: r.size, labels: {}, damaged: r.damaged, nameCount: r.names.length };
  }
  return {
    repository,
    tag,
    id: r.id,
    digest: r.descriptor.digest,
    created: r.created,
    size: r.size,
    labels: r.labels,
    nameCount: r.names.length,
  };
}
