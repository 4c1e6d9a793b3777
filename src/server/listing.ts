/** Content discovery: tags list, `_catalog` (both with `n`/`last` pagination and `Link`), referrers. */
import { readFile } from 'node:fs/promises';
import { isDigest } from '../image/digest.js';
import { OCI_INDEX } from '../image/media-types.js';
import { type Ctx, sendJson } from './context.js';
import { HttpError } from './errors.js';

/** Applies `n` and `last` to a sorted list; returns the page and the `Link` for the next one. */
function paginate(ctx: Ctx, all: string[], path: string): { page: string[]; link?: string } {
  const last = ctx.query.get('last');
  const nRaw = ctx.query.get('n');
  let items = last !== null ? all.filter((t) => t > last) : all;
  if (nRaw === null) return { page: items };
  const n = Number(nRaw);
  if (!Number.isInteger(n) || n < 0) throw new HttpError(400, 'UNSUPPORTED', `invalid n=${nRaw}`);
  const more = items.length > n;
  items = items.slice(0, n);
  if (!more || items.length === 0) return { page: items };
  return { page: items, link: `<${path}?n=${n}&last=${encodeURIComponent(items.at(-1)!)}>; rel="next"` };
}

/** GET `/v2/<name>/tags/list`. */
export async function tagsList(ctx: Ctx): Promise<void> {
  if (!(await ctx.storage.repoExists(ctx.name))) throw new HttpError(404, 'NAME_UNKNOWN', undefined, { name: ctx.name });
  const { page, link } = paginate(ctx, await ctx.storage.tags(ctx.name), `/v2/${ctx.name}/tags/list`);
  sendJson(ctx, 200, { name: ctx.name, tags: page }, link ? { Link: link } : {});
}

/** GET `/v2/_catalog`. */
export async function catalog(ctx: Ctx): Promise<void> {
  const { page, link } = paginate(ctx, await ctx.storage.repositories(), '/v2/_catalog');
  sendJson(ctx, 200, { repositories: page }, link ? { Link: link } : {});
}

interface Referrer {
  mediaType?: string;
  artifactType?: string;
  config?: { mediaType?: string };
  subject?: { digest?: string };
  annotations?: Record<string, string>;
}

/** GET `/v2/<name>/referrers/<digest>` (`?artifactType=` filters and sets `OCI-Filters-Applied`). */
export async function referrers(ctx: Ctx, subject: string): Promise<void> {
  if (!isDigest(subject)) throw new HttpError(400, 'DIGEST_INVALID', `invalid digest ${subject}`);
  const want = ctx.query.get('artifactType');
  const manifests: object[] = [];
  for (const d of await ctx.storage.revisions(ctx.name)) {
    const info = await ctx.storage.revision(ctx.name, d);
    if (!info) continue;
    let m: Referrer;
    try {
      m = JSON.parse(await readFile(ctx.storage.blobPath(d), 'utf8')) as Referrer;
    } catch {
      continue;
    }
    if (m.subject?.digest !== subject) continue;
    const artifactType = m.artifactType ?? m.config?.mediaType;
    if (want !== null && artifactType !== want) continue;
    manifests.push({ mediaType: info.mediaType, digest: d, size: info.size, ...(artifactType ? { artifactType } : {}), ...(m.annotations ? { annotations: m.annotations } : {}) });
  }
  sendJson(ctx, 200, { schemaVersion: 2, mediaType: OCI_INDEX, manifests }, { 'Content-Type': OCI_INDEX, ...(want !== null ? { 'OCI-Filters-Applied': 'artifactType' } : {}) });
}
