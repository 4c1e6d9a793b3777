/**
 * The built-in registry: an OCI distribution-spec v1.1 server on node:http over
 * {@link RegistryStorage}. `startRegistryServer` listens and returns the bound address.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { BasicAuth } from './basic-auth.js';
import type { Ctx, ServerSettings } from './context.js';
import { HttpError, sendError } from './errors.js';
import { Htpasswd } from './htpasswd.js';
import { route } from './router.js';
import { RegistryStorage } from './storage.js';
import { Uploads } from './uploads.js';

/** Options of {@link startRegistryServer}. */
export interface RegistryServerOptions extends ServerSettings {
  /** Storage root. */
  root: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: Buffer; key: Buffer } | undefined;
  /** Require Basic auth against this htpasswd file (bcrypt entries), with this realm in the challenge. */
  auth?: { htpasswd: string; realm: string } | undefined;
  /** Called once per finished request with a one-line summary. */
  log?: (line: string) => void;
}

/** A running server. */
export interface RunningRegistry {
  host: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/**
 * The request target split into the path, kept exactly as sent (WHATWG URL parsing would resolve
 * `a/%2e%2e/b` to `b` and serve another repository; raw, such names fail validation), and the query.
 */
function splitTarget(target: string): { path: string; query: URLSearchParams } {
  const q = target.indexOf('?');
  return q < 0 ? { path: target, query: new URLSearchParams() } : { path: target.slice(0, q), query: new URLSearchParams(target.slice(q + 1)) };
}

/** Splits `HOST:PORT` (`[::1]:5000`, `:5000` = 127.0.0.1). */
export function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new Error(`invalid address ${addr}: expected HOST:PORT`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port: Number(m[3]) };
}

/** Starts the registry server and resolves once it listens. */
export async function startRegistryServer(opts: RegistryServerOptions): Promise<RunningRegistry> {
  // The htpasswd file first: a missing or non-bcrypt file stops the server before it listens.
  const auth = opts.auth ? new BasicAuth(opts.auth.realm, await Htpasswd.load(opts.auth.htpasswd, (line) => opts.log?.(line))) : undefined;
  const storage = new RegistryStorage(opts.root);
  await storage.init();
  const uploads = new Uploads(storage);
  const settings: ServerSettings = { chunkMinLength: opts.chunkMinLength, maxManifestBytes: opts.maxManifestBytes };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const started = Date.now();
    const peer = req.socket.remoteAddress ?? '-';
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    const ctx: Ctx = { req, res, ...splitTarget(req.url ?? '/'), name: '', storage, uploads, settings, auth };
    // The user name, never the Authorization header or anything taken from it.
    res.on('finish', () => {
      opts.log?.(`${peer} ${ctx.user ?? '-'} "${req.method} ${req.url} HTTP/${req.httpVersion}" ${res.statusCode} ${res.getHeader('Content-Length') ?? '-'} ${Date.now() - started}ms`);
    });
    route(ctx).catch((e: unknown) => {
      // The client went away mid-request (a cut PATCH): one line, as docker-registry logs it, no stack.
      if (!(e instanceof HttpError) && !req.complete && (req.destroyed || res.destroyed)) {
        opts.log?.(`${peer} ${ctx.user ?? '-'} client disconnected during ${req.method} ${req.url} after ${req.socket.bytesRead} bytes read`);
        res.destroy();
        return;
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const err = e instanceof HttpError ? e : new HttpError(500, 'UNKNOWN', `internal error: ${(e as Error).message}`);
      if (!(e instanceof HttpError)) opts.log?.(`error: ${(e as Error).stack ?? String(e)}`);
      // Drain what the client is still sending so it sees the answer, not a reset.
      if (!req.complete) req.resume();
      sendError(res, err, req.method === 'HEAD');
    });
  };
  const server: Server = opts.tls ? createTlsServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : createServer(handler);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return {
    host: addr.address,
    port: addr.port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
