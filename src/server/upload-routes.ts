/**
 * The upload endpoints: POST (session, monolithic `?digest=`, cross-repository `?mount=&from=`),
 * PATCH (streamed or chunked with `Content-Range`), PUT `?digest=`, GET status, DELETE cancel.
 * Every response to an upload carries `Location` and `Range`. Nothing is committed under a
 * digest before its bytes are hashed and compared.
 */
import { rm } from 'node:fs/promises';
import { isDigest, type Digest } from '../image/digest.js';
import { type Ctx, DEFAULT_MAX_UPLOADS_PER_CLIENT, discardBody, send } from './context.js';
import { HttpError } from './errors.js';
import { isRepoName } from './names.js';
import { rangeHeader, type UploadSession } from './uploads.js';

function uploadHeaders(ctx: Ctx, s: UploadSession): Record<string, string> {
  const h: Record<string, string> = {
    Location: `/v2/${ctx.name}/blobs/uploads/${s.uuid}`,
    Range: rangeHeader(s.offset),
    'Docker-Upload-UUID': s.uuid,
  };
  if (ctx.settings.chunkMinLength) h['OCI-Chunk-Min-Length'] = String(ctx.settings.chunkMinLength);
  return h;
}

function blobCreated(ctx: Ctx, d: Digest): void {
  send(ctx, 201, { Location: `/v2/${ctx.name}/blobs/${d}`, 'Docker-Content-Digest': d });
}

function digestQuery(ctx: Ctx): Digest | undefined {
  const v = ctx.query.get('digest');
  if (v === null) return undefined;
  if (!isDigest(v)) throw new HttpError(400, 'DIGEST_INVALID', `invalid digest ${v}`);
  return v;
}

/** True when the request has a body (a non-zero Content-Length or chunked transfer). */
function hasBody(ctx: Ctx): boolean {
  const len = ctx.req.headers['content-length'];
  return (len !== undefined && Number(len) > 0) || ctx.req.headers['transfer-encoding'] !== undefined;
}

/** `Content-Range: <start>-<end>` (also `bytes <start>-<end>[/<total>]`), checked against Content-Length. */
function contentRange(ctx: Ctx, s: UploadSession): { start: number; end: number } | undefined {
  const h = ctx.req.headers['content-range'];
  if (h === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(h.trim());
  const bad = (why: string): HttpError => new HttpError(416, 'RANGE_INVALID', why, undefined, uploadHeaders(ctx, s));
  if (!m) throw bad(`malformed Content-Range ${h}`);
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) throw bad(`malformed Content-Range ${h}`);
  const len = ctx.req.headers['content-length'];
  if (len !== undefined && Number(len) !== end - start + 1) throw bad(`Content-Range ${h} does not match Content-Length ${len}`);
  return { start, end };
}

/** POST `/v2/<name>/blobs/uploads/`. */
export async function startUpload(ctx: Ctx): Promise<void> {
  const mount = ctx.query.get('mount');
  const from = ctx.query.get('from');
  if (mount !== null && isDigest(mount) && from !== null && isRepoName(from) && (await ctx.storage.hasLayer(from, mount))) {
    await ctx.storage.linkLayer(ctx.name, mount);
    blobCreated(ctx, mount);
    return;
  }
  const digest = mount === null ? digestQuery(ctx) : undefined;
  if (digest !== undefined) {
    const got = await ctx.storage.receive(ctx.req);
    if (got.digest !== digest) {
      await rm(got.path, { force: true });
      throw new HttpError(400, 'DIGEST_INVALID', undefined, { expected: digest, got: got.digest });
    }
    await ctx.storage.commitBlob(got.path, digest);
    await ctx.storage.linkLayer(ctx.name, digest);
    blobCreated(ctx, digest);
    return;
  }
  // A mount that cannot be satisfied falls back to a normal session (spec: 202, not an error).
  // Each client (its address, and its user with auth) may hold a bounded number of sessions open.
  const owners = [`addr:${ctx.peer}`, ...(ctx.user !== undefined ? [`user:${ctx.user}`] : [])];
  const s = await ctx.uploads.create(ctx.name, owners, ctx.settings.maxUploadsPerClient ?? DEFAULT_MAX_UPLOADS_PER_CLIENT);
  // A session POST carries no body (the spec's form); one sent anyway is not read.
  if (hasBody(ctx)) discardBody(ctx);
  send(ctx, 202, uploadHeaders(ctx, s));
}

/** PATCH `/v2/<name>/blobs/uploads/<uuid>`. */
export async function patchUpload(ctx: Ctx, uuid: string): Promise<void> {
  await ctx.uploads.locked(uuid, async () => {
    const s = await ctx.uploads.get(ctx.name, uuid);
    const range = contentRange(ctx, s);
    const after = await ctx.uploads.append(s, ctx.req, range, (offset) => uploadHeaders(ctx, { ...s, offset }));
    send(ctx, 202, uploadHeaders(ctx, after));
  });
}

/** PUT `/v2/<name>/blobs/uploads/<uuid>?digest=`: the last chunk (optional), verify, commit. */
export async function finishUpload(ctx: Ctx, uuid: string): Promise<void> {
  await ctx.uploads.locked(uuid, async () => {
    let s = await ctx.uploads.get(ctx.name, uuid);
    const digest = digestQuery(ctx);
    if (digest === undefined) {
      throw new HttpError(400, 'DIGEST_INVALID', 'digest missing', undefined, uploadHeaders(ctx, s));
    }
    if (hasBody(ctx)) s = await ctx.uploads.append(s, ctx.req, contentRange(ctx, s), (offset) => uploadHeaders(ctx, { ...s, offset }));
    else ctx.req.resume();
    const got = await ctx.storage.hashFile(ctx.uploads.data(s));
    if (got.digest !== digest) {
      throw new HttpError(400, 'DIGEST_INVALID', undefined, { expected: digest, got: got.digest }, uploadHeaders(ctx, s));
    }
    await ctx.storage.commitBlob(ctx.uploads.data(s), digest);
    await ctx.storage.linkLayer(ctx.name, digest);
    await ctx.uploads.remove(uuid);
    blobCreated(ctx, digest);
  });
}

/** GET `/v2/<name>/blobs/uploads/<uuid>`: where the upload is. */
export async function uploadStatus(ctx: Ctx, uuid: string): Promise<void> {
  const s = await ctx.uploads.get(ctx.name, uuid);
  send(ctx, 204, uploadHeaders(ctx, s));
}

/** DELETE `/v2/<name>/blobs/uploads/<uuid>`: cancel. */
export async function cancelUpload(ctx: Ctx, uuid: string): Promise<void> {
  await ctx.uploads.locked(uuid, async () => {
    await ctx.uploads.get(ctx.name, uuid);
    await ctx.uploads.remove(uuid);
  });
  send(ctx, 204, {});
}
