/** What every handler receives, and small response helpers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BasicAuth } from './basic-auth.js';
import type { RegistryStorage } from './storage.js';
import type { Uploads } from './uploads.js';

/** Server settings handlers read. */
export interface ServerSettings {
  /** Advertised as `OCI-Chunk-Min-Length` on upload responses when set. */
  chunkMinLength?: number | undefined;
  /** Largest manifest accepted (bytes; default 4 MiB, as the spec suggests). */
  maxManifestBytes?: number | undefined;
}

/** One request being handled. */
export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  /** The request path exactly as sent (never normalized: `%2e%2e` stays and fails name checks). */
  path: string;
  query: URLSearchParams;
  /** The repository name (when the route has one). */
  name: string;
  storage: RegistryStorage;
  uploads: Uploads;
  settings: ServerSettings;
  /** Basic auth, when the server has an htpasswd file. */
  auth?: BasicAuth | undefined;
  /** The authenticated user (set by the router before any handler runs). */
  user?: string | undefined;
}

/** Writes a response with a (possibly empty) body; HEAD gets the headers only. */
export function send(ctx: Ctx, status: number, headers: Record<string, string>, body?: string | Buffer): void {
  const h: Record<string, string> = { ...headers };
  if (body !== undefined && h['Content-Length'] === undefined) h['Content-Length'] = String(Buffer.byteLength(body));
  if (body === undefined && h['Content-Length'] === undefined) h['Content-Length'] = '0';
  ctx.res.writeHead(status, h);
  ctx.res.end(ctx.req.method === 'HEAD' || body === undefined ? undefined : body);
}

/** Writes a JSON body. */
export function sendJson(ctx: Ctx, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(ctx, status, { 'Content-Type': 'application/json', ...headers }, JSON.stringify(value));
}

/**
 * Reads the whole request body. Past `limit` bytes it keeps draining (so the client reads the
 * error instead of a reset) and then fails with `tooLarge()`.
 */
export async function readBody(req: IncomingMessage, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n <= limit) chunks.push(c);
  }
  if (n > limit) throw tooLarge();
  return Buffer.concat(chunks);
}
