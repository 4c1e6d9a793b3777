/**
 * An HTTP proxy in front of a registry that logs every exchange (method, path, status,
 * Authorization, WWW-Authenticate) and lets a test hold or answer a request itself: it stands in
 * for a slow network or a CDN redirect, never for the registry. Plus a "blob storage" server on
 * another loopback address that redirected blob downloads land on and that records their headers.
 */
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server } from 'node:http';

/** One exchange seen by the proxy. */
export interface Exchange {
  method: string;
  path: string;
  authorization: string | undefined;
  status: number;
  wwwAuthenticate: string | undefined;
}

/** A request about to be forwarded. */
export interface Incoming {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** What a hook may do: answer instead of the registry, or just wait first (return undefined). */
export type Hook = (req: Incoming) => Promise<{ status: number; headers?: Record<string, string>; body?: string } | undefined>;

/** A running proxy. */
export interface Proxy {
  port: number;
  host: string;
  log: Exchange[];
  stop: () => Promise<void>;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve) => server.listen(0, host, () => {
    const a = server.address();
    resolve(typeof a === 'object' && a ? a.port : 0);
  }));
}

function closer(server: Server): () => Promise<void> {
  return () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** Starts a proxy on 127.0.0.1 forwarding to `targetPort` on 127.0.0.1 (the Host header passes unchanged). */
export async function startProxy(targetPort: number, hook?: Hook): Promise<Proxy> {
  const log: Exchange[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const incoming: Incoming = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
      const entry: Exchange = { method: incoming.method, path: incoming.path, authorization: req.headers.authorization, status: 0, wwwAuthenticate: undefined };
      log.push(entry);
      const own = hook ? await hook(incoming) : undefined;
      if (own) {
        entry.status = own.status;
        res.writeHead(own.status, own.headers ?? {});
        res.end(own.body ?? '');
        return;
      }
      const up = httpRequest({ host: '127.0.0.1', port: targetPort, method: incoming.method, path: incoming.path, headers: req.headers }, (ur) => {
        entry.status = ur.statusCode ?? 0;
        const www = ur.headers['www-authenticate'];
        entry.wwwAuthenticate = Array.isArray(www) ? www.join(', ') : www;
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      });
      up.on('error', (err) => {
        entry.status = 502;
        res.writeHead(502);
        res.end(err.message);
      });
      up.end(body);
    })().catch(() => res.destroy());
  });
  const port = await listen(server, '127.0.0.1');
  return { port, host: `127.0.0.1:${port}`, log, stop: closer(server) };
}

/** A blob store on another loopback host: serves `/<repo>/blobs/<digest>` from the registry, recording each request's headers. */
export interface BlobStore {
  /** Base URL, e.g. `http://127.0.0.2:PORT`. */
  base: string;
  seen: IncomingHttpHeaders[];
  stop: () => Promise<void>;
}

/** Starts the blob store on `address`, fetching blobs from the registry on 127.0.0.1:`registryPort` with `basicAuth`. */
export async function startBlobStore(address: string, registryPort: number, basicAuth: string): Promise<BlobStore> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push({ ...req.headers });
    const up = httpRequest({ host: '127.0.0.1', port: registryPort, path: `/v2${req.url ?? '/'}`, headers: { authorization: basicAuth } }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, { 'content-type': 'application/octet-stream', ...(ur.headers['content-length'] ? { 'content-length': ur.headers['content-length'] } : {}) });
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    up.end();
  });
  const port = await listen(server, address);
  return { base: `http://${address}:${port}`, seen, stop: closer(server) };
}
