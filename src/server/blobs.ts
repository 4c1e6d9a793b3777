/** Blob HEAD / GET (with `Range`) / DELETE. */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { isDigest, type Digest } from '../image/digest.js';
import { type Ctx, send } from './context.js';
import { HttpError } from './errors.js';

/** Parses `bytes=a-b` / `bytes=a-` / `bytes=-n` against `size`; undefined when unsatisfiable. */
export function parseByteRange(h: string, size: number): { start: number; end: number } | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return undefined;
  return { start, end };
}

function digestParam(s: string): Digest {
  if (!isDigest(s)) throw new HttpError(400, 'DIGEST_INVALID', `invalid digest ${s}`);
  return s;
}

/** HEAD or GET `/v2/<name>/blobs/<digest>`. */
export async function getBlob(ctx: Ctx, ref: string): Promise<void> {
  const d = digestParam(ref);
  const size = (await ctx.storage.hasLayer(ctx.name, d)) ? await ctx.storage.blobSize(d) : undefined;
  if (size === undefined) throw new HttpError(404, 'BLOB_UNKNOWN', undefined, { digest: d });
  const base = { 'Docker-Content-Digest': d, 'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes', ETag: `"${d}"` };
  const rangeHeader = ctx.req.headers.range;
  let start = 0;
  let end = size - 1;
  let status = 200;
  const headers: Record<string, string> = { ...base };
  if (rangeHeader && ctx.req.method === 'GET') {
    const r = parseByteRange(rangeHeader, size);
    if (!r) {
      send(ctx, 416, { ...base, 'Content-Range': `bytes */${size}` });
      return;
    }
    ({ start, end } = r);
    status = 206;
    headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  }
  headers['Content-Length'] = String(size === 0 ? 0 : end - start + 1);
  ctx.res.writeHead(status, headers);
  if (ctx.req.method === 'HEAD' || size === 0) {
    ctx.res.end();
    return;
  }
  await pipeline(createReadStream(ctx.storage.blobPath(d), { start, end }), ctx.res);
}

/** DELETE `/v2/<name>/blobs/<digest>`: unlinks the blob from the repository (gc frees the bytes). */
export async function deleteBlob(ctx: Ctx, ref: string): Promise<void> {
  const d = digestParam(ref);
  if (!(await ctx.storage.unlinkLayer(ctx.name, d))) throw new HttpError(404, 'BLOB_UNKNOWN', undefined, { digest: d });
  send(ctx, 202, { 'Docker-Content-Digest': d });
}
