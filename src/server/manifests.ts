/**
 * Manifests by tag or digest: PUT (verified: JSON, media type, digest, every referenced blob or
 * child manifest present in the repository), GET/HEAD with the stored media type and
 * `Docker-Content-Digest`, DELETE by digest (and by tag, OCI v1.1).
 */
import { readFile } from 'node:fs/promises';
import { digestOf, isDigest, type Digest } from '../image/digest.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from '../image/media-types.js';
import { type Ctx, readBody, send } from './context.js';
import { HttpError } from './errors.js';
import { isTag } from './names.js';

interface Desc {
  mediaType?: string;
  digest?: string;
  size?: number;
  urls?: string[];
}
interface AnyManifest {
  schemaVersion?: number;
  mediaType?: string;
  config?: Desc;
  layers?: Desc[];
  manifests?: Desc[];
  subject?: Desc;
  blobs?: Desc[];
}

const ACCEPTED = new Set([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST]);

function invalid(why: string): HttpError {
  return new HttpError(400, 'MANIFEST_INVALID', `manifest invalid: ${why}`);
}

function checkDesc(d: unknown, where: string): asserts d is Desc & { digest: Digest } {
  const x = d as Desc | null;
  if (typeof x !== 'object' || x === null || !isDigest(x.digest) || typeof x.size !== 'number' || typeof x.mediaType !== 'string') {
    throw invalid(`${where} is not a valid descriptor`);
  }
}

/** Resolves `ref` (tag or digest) to a digest of the repository, or 404 MANIFEST_UNKNOWN. */
async function resolve(ctx: Ctx, ref: string): Promise<Digest> {
  const unknown = new HttpError(404, 'MANIFEST_UNKNOWN', undefined, { name: ctx.name, reference: ref });
  if (isDigest(ref)) return ref;
  if (!isTag(ref)) throw new HttpError(400, 'MANIFEST_INVALID', `invalid reference ${ref}`);
  const d = await ctx.storage.tag(ctx.name, ref);
  if (!d) throw unknown;
  return d;
}

/** GET / HEAD `/v2/<name>/manifests/<ref>`. */
export async function getManifest(ctx: Ctx, ref: string): Promise<void> {
  const d = await resolve(ctx, ref);
  const info = await ctx.storage.revision(ctx.name, d);
  if (!info) throw new HttpError(404, 'MANIFEST_UNKNOWN', undefined, { name: ctx.name, reference: ref });
  const headers = { 'Content-Type': info.mediaType, 'Docker-Content-Digest': d, ETag: `"${d}"`, 'Content-Length': String(info.size) };
  if (ctx.req.method === 'HEAD') {
    send(ctx, 200, headers);
    return;
  }
  send(ctx, 200, headers, await readFile(ctx.storage.blobPath(d)));
}

/** PUT `/v2/<name>/manifests/<ref>`. */
export async function putManifest(ctx: Ctx, ref: string): Promise<void> {
  const limit = ctx.settings.maxManifestBytes ?? 4 * 1024 * 1024;
  if (!isDigest(ref) && !isTag(ref)) throw new HttpError(400, 'MANIFEST_INVALID', `invalid reference ${ref}`);
  // 413, as the OCI distribution spec says for a manifest over the registry's limit (docker-registry
  // answers 400 MANIFEST_INVALID "http: request body too large" there); SIZE_INVALID is the spec's
  // code for a length the registry does not take. Answered from Content-Length before the body is read.
  const bytes = await readBody(ctx.req, limit, () => new HttpError(413, 'SIZE_INVALID', `manifest larger than ${limit} bytes`));
  const d = digestOf(bytes);
  if (isDigest(ref) && ref !== d) throw new HttpError(400, 'DIGEST_INVALID', undefined, { expected: ref, got: d });
  let m: AnyManifest;
  try {
    m = JSON.parse(bytes.toString('utf8')) as AnyManifest;
  } catch {
    throw invalid('not JSON');
  }
  if (typeof m !== 'object' || m === null || m.schemaVersion !== 2) throw invalid('schemaVersion must be 2');
  const contentType = (ctx.req.headers['content-type'] ?? '').split(';')[0]!.trim();
  const mediaType = m.mediaType ?? (contentType || (m.manifests ? OCI_INDEX : OCI_MANIFEST));
  if (m.mediaType !== undefined && contentType !== '' && contentType !== m.mediaType) throw invalid(`Content-Type ${contentType} differs from mediaType ${m.mediaType}`);
  if (!ACCEPTED.has(mediaType)) throw invalid(`unsupported media type ${mediaType}`);
  const missing: string[] = [];
  if (mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST) {
    if (!Array.isArray(m.manifests)) throw invalid('manifests missing');
    for (const [i, c] of m.manifests.entries()) {
      checkDesc(c, `manifests[${i}]`);
      if (!(await ctx.storage.revision(ctx.name, c.digest))) missing.push(c.digest);
    }
  } else {
    checkDesc(m.config, 'config');
    if (!Array.isArray(m.layers)) throw invalid('layers missing');
    const descs = [m.config, ...m.layers];
    for (const [i, l] of m.layers.entries()) checkDesc(l, `layers[${i}]`);
    for (const l of descs) {
      // Foreign layers (with urls) live elsewhere, as docker-registry also accepts them unchecked.
      if (l.urls && l.urls.length > 0) continue;
      if (!(await ctx.storage.hasLayer(ctx.name, l.digest as Digest))) missing.push(l.digest as string);
    }
  }
  if (m.subject !== undefined) checkDesc(m.subject, 'subject');
  if (missing.length > 0) throw new HttpError(400, 'MANIFEST_BLOB_UNKNOWN', undefined, { missing });
  await ctx.storage.putManifest(ctx.name, d, bytes, mediaType);
  if (!isDigest(ref)) await ctx.storage.setTag(ctx.name, ref, d);
  const headers: Record<string, string> = { Location: `/v2/${ctx.name}/manifests/${d}`, 'Docker-Content-Digest': d };
  if (m.subject?.digest) headers['OCI-Subject'] = m.subject.digest;
  send(ctx, 201, headers);
}

/** DELETE `/v2/<name>/manifests/<ref>`: a digest removes the manifest and its tags; a tag only the tag. */
export async function deleteManifest(ctx: Ctx, ref: string): Promise<void> {
  const ok = isDigest(ref) ? await ctx.storage.deleteManifest(ctx.name, ref) : isTag(ref) && (await ctx.storage.deleteTag(ctx.name, ref));
  if (!ok) throw new HttpError(404, 'MANIFEST_UNKNOWN', undefined, { name: ctx.name, reference: ref });
  send(ctx, 202, {});
}
