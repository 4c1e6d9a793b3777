/** Maps a request to its handler; unknown routes and methods get spec errors. */
import { accessFor } from './basic-auth.js';
import type { Ctx } from './context.js';
import { send } from './context.js';
import { deleteBlob, getBlob } from './blobs.js';
import { HttpError } from './errors.js';
import { catalog, referrers, tagsList } from './listing.js';
import { deleteManifest, getManifest, putManifest } from './manifests.js';
import { isRepoName } from './names.js';
import { cancelUpload, finishUpload, patchUpload, startUpload, uploadStatus } from './upload-routes.js';

type Handler = (ctx: Ctx, arg: string) => Promise<void>;
interface Route {
  re: RegExp;
  methods: Partial<Record<string, Handler>>;
}

const NAME = '(.+?)';
const ROUTES: Route[] = [
  { re: new RegExp(`^/v2/${NAME}/tags/list$`), methods: { GET: tagsList } },
  { re: new RegExp(`^/v2/${NAME}/manifests/([^/]+)$`), methods: { GET: getManifest, HEAD: getManifest, PUT: putManifest, DELETE: deleteManifest } },
  { re: new RegExp(`^/v2/${NAME}/blobs/uploads/?$`), methods: { POST: startUpload } },
  { re: new RegExp(`^/v2/${NAME}/blobs/uploads/([^/]+)$`), methods: { GET: uploadStatus, PATCH: patchUpload, PUT: finishUpload, DELETE: cancelUpload } },
  { re: new RegExp(`^/v2/${NAME}/blobs/([^/]+)$`), methods: { GET: getBlob, HEAD: getBlob, DELETE: deleteBlob } },
  { re: new RegExp(`^/v2/${NAME}/referrers/([^/]+)$`), methods: { GET: referrers } },
];

/** Handles one request (throws HttpError for the spec's error responses). */
export async function route(ctx: Ctx): Promise<void> {
  const path = ctx.path;
  const method = ctx.req.method ?? 'GET';
  const isPing = path === '/v2/' || path === '/v2';
  const isCatalog = path === '/v2/_catalog';
  let found: { r: Route; m: RegExpExecArray } | undefined;
  for (const r of ROUTES) {
    const m = isPing || isCatalog ? null : r.re.exec(path);
    if (m) {
      found = { r, m };
      break;
    }
  }
  // With auth, nothing is answered before the credentials are checked (unknown routes and bad names too).
  if (ctx.auth) ctx.user = await ctx.auth.authenticate(ctx.req, accessFor(method, isCatalog ? '_catalog' : found?.m[1], ctx.query));
  if (isPing) {
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'UNSUPPORTED');
    send(ctx, 200, { 'Content-Type': 'application/json' }, '{}');
    return;
  }
  if (isCatalog) {
    if (method !== 'GET') throw new HttpError(405, 'UNSUPPORTED');
    await catalog(ctx);
    return;
  }
  if (found) {
    const { r, m } = found;
    const name = m[1]!;
    if (!isRepoName(name)) throw new HttpError(400, 'NAME_INVALID', `invalid repository name ${JSON.stringify(name)}`);
    const h = r.methods[method];
    if (!h) throw new HttpError(405, 'UNSUPPORTED', `${method} is not supported on ${path}`);
    ctx.name = name;
    await h(ctx, m[2] ?? '');
    return;
  }
  throw new HttpError(404, 'NAME_UNKNOWN', `no route for ${method} ${path}`);
}
