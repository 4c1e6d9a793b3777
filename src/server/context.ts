/** What every handler receives, and small response helpers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { BasicAuth } from './basic-auth.js';
import type { RegistryStorage } from './storage.js';
import type { Uploads } from './uploads.js';

/** Server settings handlers read. */
export interface ServerSettings {
  /** Advertised as `OCI-Chunk-Min-Length` on upload responses when set. */
  chunkMinLength?: number | undefined;
  /** Largest manifest accepted (bytes; default 4 MiB, as the spec suggests). */
  maxManifestBytes?: number | undefined;
  /** Most upload sessions one client (remote address, and user with auth) may hold open; default {@link DEFAULT_MAX_UPLOADS_PER_CLIENT}. */
  maxUploadsPerClient?: number | undefined;
}

/** The default cap on open upload sessions per client. */
export const DEFAULT_MAX_UPLOADS_PER_CLIENT = 64;

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
  /** The client's address (the remote end of the connection). */
  peer: string;
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

/** A request body the server buffers or drains this large or smaller may be read to its end to keep the connection; a larger one is cut off. */
export const DRAIN_LIMIT = 64 * 1024;

/**
 * Reads the whole request body into memory, at most `limit` bytes: a `Content-Length` above it
 * fails at once, before a byte of the body is read, and a chunked body fails as soon as it
 * passes the limit. The server then answers and closes the connection instead of reading the
 * rest (see server.ts), so a client announcing 1 GiB costs nothing.
 */
export async function readBody(req: IncomingMessage, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw tooLarge();
  // Events, not for-await: leaving a for-await loop early destroys the request and its socket,
  // and the answer could not be sent.
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    const done = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (c: Buffer): void => {
      n += c.length;
      if (n <= limit) {
        chunks.push(c);
        return;
      }
      done();
      req.pause();
      reject(tooLarge());
    };
    const onEnd = (): void => {
      done();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error): void => {
      done();
      reject(err);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** How long, and how many more bytes, a connection is read (and discarded) after an early answer. */
const LINGER_MS = 1000;
const LINGER_BYTES = 1024 * 1024;

/**
 * Makes the connection close after the response instead of reading the rest of a request body
 * the handler did not want (Node would otherwise read and discard it to the end: all of a 1 GiB
 * body). The close lingers briefly, as Go's net/http does (`closeWriteAndWait`): the write side
 * is shut after the answer and at most {@link LINGER_BYTES} more are read for {@link LINGER_MS},
 * so a client still sending gets the answer rather than a reset.
 */
export function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Connection', 'close');
  const socket = req.socket as (Socket & { destroySoon?: () => void }) | null;
  if (!socket) return;
  socket.destroySoon = function lingeringClose(this: Socket): void {
    const start = this.bytesRead;
    this.end();
    const timer = setInterval(() => {
      if (this.destroyed || this.bytesRead - start > LINGER_BYTES || Date.now() - t0 > LINGER_MS) {
        clearInterval(timer);
        this.destroy();
      }
    }, 25);
    const t0 = Date.now();
    timer.unref();
    this.once('close', () => clearInterval(timer));
  };
}

/**
 * Discards a request body the handler has no use for: a small one is read to its end (the
 * connection stays usable), a large or chunked one is not read at all and the connection
 * closes after the answer.
 */
export function discardBody(ctx: Ctx): void {
  if (ctx.req.complete) return;
  const declared = ctx.req.headers['content-length'];
  if (declared !== undefined && Number(declared) <= DRAIN_LIMIT) ctx.req.resume();
  else closeAfterAnswer(ctx.req, ctx.res);
}
