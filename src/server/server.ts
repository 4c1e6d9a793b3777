/**
 * The built-in registry: an OCI distribution-spec v1.1 server on node:http over
 * {@link RegistryStorage}. `startRegistryServer` listens and returns the bound address.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { BasicAuth } from './basic-auth.js';
import { closeAfterAnswer, DRAIN_LIMIT, type Ctx, type ServerSettings } from './context.js';
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
  /** docker-registry's `storage.maintenance.uploadpurging`; on with its defaults when absent. */
  uploadPurging?: UploadPurging | undefined;
}

/** Purging of abandoned upload sessions (docker-registry's `storage.maintenance.uploadpurging`). */
export interface UploadPurging {
  enabled: boolean;
  /** Sessions older than this are purged (ms; docker-registry's default 168h). */
  ageMs: number;
  /** Time between runs (ms; default 24h). The first run is at start. */
  intervalMs: number;
  /** List what would be purged, remove nothing. */
  dryRun: boolean;
}

/** docker-registry's defaults: enabled, age 168h, interval 24h, no dry run. */
export const DEFAULT_UPLOAD_PURGING: UploadPurging = { enabled: true, ageMs: 168 * 3600_000, intervalMs: 24 * 3600_000, dryRun: false };

/** A Go-style duration for the log (`168h0m0s`, `1m30s`, `500ms`). */
function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3600_000);
  const m = Math.floor((ms % 3600_000) / 60_000);
  const sec = (ms % 60_000) / 1000;
  return h > 0 ? `${h}h${m}m${sec}s` : m > 0 ? `${m}m${sec}s` : `${sec}s`;
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
  const settings: ServerSettings = { chunkMinLength: opts.chunkMinLength, maxManifestBytes: opts.maxManifestBytes, maxUploadsPerClient: opts.maxUploadsPerClient };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const started = Date.now();
    const peer = req.socket.remoteAddress ?? '-';
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    const ctx: Ctx = { req, res, ...splitTarget(req.url ?? '/'), name: '', storage, uploads, settings, auth, peer };
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
      // What the client is still sending: a small rest is drained (the connection stays usable);
      // a large or unknown one (a 1 GiB manifest, a PATCH without credentials) is not read at all:
      // the answer goes out at once and the connection closes.
      if (!req.complete) {
        const declared = req.headers['content-length'];
        if (declared !== undefined && Number(declared) <= DRAIN_LIMIT) req.resume();
        else closeAfterAnswer(req, res);
      }
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
  const purging = opts.uploadPurging ?? DEFAULT_UPLOAD_PURGING;
  let purgeTimer: NodeJS.Timeout | undefined;
  if (purging.enabled) {
    // docker-registry waits a random time of up to an hour before its first run; we run at start.
    const run = (): void => {
      void uploads.purge(purging.ageMs, purging.dryRun).then((r) => {
        const listed = r.expired.length > 10 ? `${r.expired.slice(0, 10).join(' ')} and ${r.expired.length - 10} more` : r.expired.join(' ');
        const what = purging.dryRun ? `would purge ${r.expired.length} (dry run)${listed ? `: ${listed}` : ''}` : `purged ${r.expired.length}`;
        opts.log?.(`upload purge: ${what} of ${r.seen} upload sessions older than ${goDuration(purging.ageMs)}${r.errors > 0 ? `, ${r.errors} errors` : ''}; next run in ${goDuration(purging.intervalMs)}`);
      }, (e: unknown) => opts.log?.(`upload purge failed: ${(e as Error).message}`));
    };
    run();
    // setInterval takes at most 2^31-1 ms (24.8 days); a longer interval would fire at once.
    purgeTimer = setInterval(run, Math.min(purging.intervalMs, 2 ** 31 - 1));
    purgeTimer.unref();
  } else opts.log?.('upload purging is disabled (storage.maintenance.uploadpurging.enabled: false)');
  return {
    host: addr.address,
    port: addr.port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(purgeTimer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
