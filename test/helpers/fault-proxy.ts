/**
 * A small HTTP-aware reverse proxy that stands in for a bad NETWORK between ts-docker and a
 * real registry (never for the registry itself): it forwards every request unchanged (the
 * client's `Host` header included, so the registry's `Location` headers point back at the
 * proxy), counts body bytes per request, and on demand resets connections mid-body, answers
 * 503 with `Retry-After`, flips a byte of a blob download, or throttles bodies.
 */
import { once } from 'node:events';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { Writable } from 'node:stream';
import { afterAll } from 'vitest';

/** What a rule sees of a request. */
export interface ProxiedRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  /** Path without the query. */
  path: string;
  headers: IncomingHttpHeaders;
}

/** A request predicate. */
export type Match = (r: ProxiedRequest) => boolean;

/** `GET /v2/<name>/blobs/sha256:<hex>` (a blob download, not an upload URL). */
export const isBlobGet: Match = (r) => r.method === 'GET' && /^\/v2\/.+\/blobs\/sha256:[0-9a-f]{64}$/.test(r.path);
/** A `PATCH` of an upload session (one chunk). */
export const isUploadPatch: Match = (r) => r.method === 'PATCH' && /^\/v2\/.+\/blobs\/uploads\/[^/]+$/.test(r.path);
/** A `PUT` of an upload session (the final one, `?digest=`). */
export const isUploadPut: Match = (r) => r.method === 'PUT' && /^\/v2\/.+\/blobs\/uploads\/[^/]+$/.test(r.path);
/** Any request to an upload session or to start one (POST/PATCH/PUT/GET/DELETE under blobs/uploads). */
export const isUpload: Match = (r) => /^\/v2\/.+\/blobs\/uploads\/?/.test(r.path);
/** A manifest request of any method. */
export const isManifest: Match = (r) => /^\/v2\/.+\/manifests\/[^/]+$/.test(r.path);

/** The faults to inject. One-shot faults stay armed until they have actually fired once. */
export interface FaultRules {
  /** Reset the connection after `afterBytes` request-body bytes of the first PATCH/PUT matching `match` (default: any PATCH/PUT). */
  resetRequest?: { afterBytes: number; match?: Match };
  /** Reset the connection after `afterBytes` response-body bytes of the first blob GET matching `match`. */
  resetResponse?: { afterBytes: number; match?: Match };
  /** Answer the first `count` requests matching `match` (default: all) with 503 and `Retry-After` (default `1`). */
  unavailable?: { count: number; match?: Match; retryAfter?: string };
  /** Flip one byte at `offset` (default: the middle, from Content-Length) of the first blob GET response matching `match`. */
  corruptResponse?: { offset?: number; match?: Match };
  /** Limit the request and response bodies of matching requests (default: all) to `bytesPerSecond` each. */
  throttle?: { bytesPerSecond: number; match?: Match };
  /**
   * Store and forward the bodies of matching PATCH/PUT requests (default: all of them), as nginx
   * does with its default `proxy_request_buffering on`: the registry gets a body only once the
   * client has sent all of it, so a client killed (or reset) mid-body leaves no partial chunk
   * behind. docker-registry 2.8.2 cancels an upload session whose last PATCH was cut short.
   */
  bufferRequests?: { match?: Match };
}

/** One request that went through the proxy (live: counters grow while bodies stream). */
export interface ProxyRecord {
  seq: number;
  method: string;
  url: string;
  path: string;
  /** The status the client got (from the registry, or the proxy's own 503/502); undefined until headers went out. */
  status: number | undefined;
  /** Request body bytes read from the client. */
  receivedBytes: number;
  /** Request body bytes sent upstream. */
  requestBytes: number;
  /** Response body bytes received from upstream. */
  responseBytes: number;
  /** The fault injected into this request, if any. */
  fault: string | undefined;
  /** True once the exchange is over (normally, by a fault, or by a client that went away). */
  done: boolean;
}

/** A filter over records: a predicate, or `{ method, path }` (path: exact string or RegExp). */
export type RecordFilter = ((r: ProxyRecord) => boolean) | { method?: string; path?: string | RegExp };

/** A snapshot of what went through. */
export interface ProxyStats {
  requests: ProxyRecord[];
  /** Human-readable lines, one per fault injected. */
  faults: string[];
  /** Sum of request body bytes sent upstream by the matching requests. */
  requestBytes(filter?: RecordFilter): number;
  /** Sum of request body bytes read from the client by the matching requests (differs from requestBytes at faults and with buffering). */
  receivedBytes(filter?: RecordFilter): number;
  /** Sum of response body bytes received from upstream by the matching requests. */
  responseBytes(filter?: RecordFilter): number;
  /** Totals per `"METHOD /path"`. */
  byRoute: Record<string, { count: number; requestBytes: number; responseBytes: number }>;
}

/** A running fault proxy. */
export interface FaultProxy {
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  stats(): ProxyStats;
  /** Replaces the rules and re-arms every one-shot fault. */
  setRules(rules: FaultRules): void;
  /** Forgets the records and faults so far (counters start again from 0). */
  resetStats(): void;
  stop(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

function forwardable(headers: IncomingHttpHeaders, dropTransferEncoding: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || HOP_BY_HOP.has(k)) continue;
    if (dropTransferEncoding && k === 'transfer-encoding') continue;
    out[k] = v;
  }
  return out;
}

function matches(r: ProxyRecord, f: RecordFilter | undefined): boolean {
  if (f === undefined) return true;
  if (typeof f === 'function') return f(r);
  if (f.method !== undefined && r.method !== f.method) return false;
  if (f.path !== undefined && (typeof f.path === 'string' ? r.path !== f.path : !f.path.test(r.path))) return false;
  return true;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves when `dst` can take more, or has gone away. */
function writable(dst: Writable): Promise<void> {
  if (dst.destroyed || dst.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      dst.off('drain', done);
      dst.off('close', done);
      dst.off('error', done);
      resolve();
    };
    dst.on('drain', done);
    dst.on('close', done);
    dst.on('error', done);
  });
}

interface PumpOptions {
  /** Counts bytes read from `src`. */
  count(n: number): void;
  /** Stop after forwarding this many bytes and call `onCut`. */
  cutAt?: number | undefined;
  onCut?: () => void;
  /** Flip the byte at this body offset. */
  flipAt?: number | undefined;
  onFlip?: () => void;
  bytesPerSecond?: number | undefined;
}

/** Copies a body with backpressure; returns false when it was cut or a side went away. */
async function pump(src: Readable, dst: Writable, o: PumpOptions): Promise<boolean> {
  let offset = 0;
  const t0 = Date.now();
  for await (const raw of src) {
    let chunk = raw as Buffer;
    if (o.flipAt !== undefined && o.flipAt >= offset && o.flipAt < offset + chunk.length) {
      chunk = Buffer.from(chunk);
      const i = o.flipAt - offset;
      chunk[i] = chunk[i]! ^ 0xff;
      o.onFlip?.();
    }
    // Cut only when bytes beyond cutAt follow: a body of exactly cutAt bytes passes untouched.
    if (o.cutAt !== undefined && offset + chunk.length > o.cutAt) {
      const part = chunk.subarray(0, o.cutAt - offset);
      o.count(part.length);
      if (part.length > 0 && !dst.destroyed) dst.write(part);
      // Let the partial bytes reach the socket before the reset.
      await sleep(20);
      o.onCut?.();
      return false;
    }
    o.count(chunk.length);
    const piece = o.bytesPerSecond ? Math.max(1, Math.floor(o.bytesPerSecond / 20)) : chunk.length;
    for (let i = 0; i < chunk.length; i += piece) {
      if (dst.destroyed) return false;
      const part = chunk.subarray(i, i + piece);
      offset += part.length;
      if (!dst.write(part)) await writable(dst);
      if (o.bytesPerSecond) {
        const due = t0 + (offset / o.bytesPerSecond) * 1000;
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait);
      }
    }
  }
  return !dst.destroyed;
}

const proxies = new Set<FaultProxy>();
afterAll(async () => {
  await Promise.all([...proxies].map((p) => p.stop()));
});

/**
 * Starts the proxy on 127.0.0.1 (kernel-chosen port) in front of `upstreamHost`
 * (`127.0.0.1:PORT`). It is stopped after the test file at the latest.
 */
export async function startFaultProxy(upstreamHost: string, initialRules: FaultRules = {}): Promise<FaultProxy> {
  const [upHost, upPortText] = upstreamHost.replace(/^https?:\/\//, '').replace(/\/+$/, '').split(':');
  const upPort = Number(upPortText ?? 80);
  const agent = new Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  let rules: FaultRules = initialRules;
  let fired = { resetRequest: false, resetResponse: false, corruptResponse: false, unavailable: 0 };
  let records: ProxyRecord[] = [];
  let faults: string[] = [];
  let seq = 0;

  const reset = (sock: Socket | null | undefined): void => {
    if (!sock || sock.destroyed) return;
    try {
      sock.resetAndDestroy();
    } catch {
      sock.destroy();
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    const info: ProxiedRequest = { method: req.method ?? 'GET', url, path: url.split('?')[0]!, headers: req.headers };
    const rec: ProxyRecord = {
      seq: ++seq, method: info.method, url, path: info.path, status: undefined, receivedBytes: 0, requestBytes: 0, responseBytes: 0, fault: undefined, done: false,
    };
    records.push(rec);
    const r = rules;
    const clientSocket = req.socket;

    // 503 + Retry-After, answered by the proxy itself (the body is read and dropped first).
    const un = r.unavailable;
    if (un && fired.unavailable < un.count && (un.match ?? (() => true))(info)) {
      fired.unavailable++;
      rec.fault = `503 ${info.method} ${info.path} (${fired.unavailable}/${un.count})`;
      faults.push(rec.fault);
      req.on('data', (c: Buffer) => (rec.receivedBytes += c.length));
      if (!req.complete) await Promise.race([once(req, 'end'), once(req, 'close')]).catch(() => undefined);
      const body = JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'service unavailable (injected by the test fault proxy)' }] });
      rec.status = 503;
      res.writeHead(503, { 'Retry-After': un.retryAfter ?? '1', 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      rec.done = true;
      return;
    }

    const isBody = info.method === 'PATCH' || info.method === 'PUT';
    const rr = r.resetRequest;
    const cutRequest = rr && !fired.resetRequest && isBody && (rr.match ?? (() => true))(info) ? rr.afterBytes : undefined;
    const rs = r.resetResponse;
    const cutResponse = rs && !fired.resetResponse && isBlobGet(info) && (rs.match ?? (() => true))(info) ? rs.afterBytes : undefined;
    const cr = r.corruptResponse;
    const corrupt = cr && !fired.corruptResponse && isBlobGet(info) && (cr.match ?? (() => true))(info);
    const bps = r.throttle && (r.throttle.match ?? (() => true))(info) ? r.throttle.bytesPerSecond : undefined;
    const buffered = r.bufferRequests && isBody && (r.bufferRequests.match ?? (() => true))(info);

    let finished = false;
    const finish = (): void => {
      finished = true;
      rec.done = true;
    };
    let up: ClientRequest | undefined;
    // The client went away (killed, or it gave up): the registry must see the same.
    res.on('close', () => {
      if (!res.writableFinished) {
        up?.destroy();
        finish();
      }
    });
    const onCutRequest = (): void => {
      fired.resetRequest = true;
      rec.fault = `reset ${info.method} ${info.path} after ${cutRequest} request bytes${buffered ? ' (nothing forwarded)' : ''}`;
      faults.push(rec.fault);
      finish();
      reset(clientSocket);
      up?.destroy();
    };

    const startUpstream = (): ClientRequest => {
      const u = httpRequest({
        host: upHost,
        port: upPort,
        method: info.method,
        path: url,
        agent,
        // Unchanged, Host included: the registry builds Location headers from it.
        headers: forwardable(req.headers, false),
        setHost: false,
      });
      u.on('error', () => {
        if (finished) return;
        if (!res.headersSent) {
          rec.status = 502;
          res.writeHead(502, { 'Content-Type': 'text/plain', Connection: 'close' });
          res.end('bad gateway (test fault proxy: upstream error)\n');
        } else {
          clientSocket.destroy();
        }
        finish();
      });
      u.on('response', (upRes) => {
        const status = upRes.statusCode ?? 502;
        rec.status = status;
        res.writeHead(status, upRes.statusMessage, forwardable(upRes.headers, true));
        const length = Number(upRes.headers['content-length']);
        const flipAt = corrupt ? (cr.offset ?? (Number.isFinite(length) ? Math.floor(length / 2) : 0)) : undefined;
        void pump(upRes, res, {
          count: (n) => (rec.responseBytes += n),
          cutAt: cutResponse,
          onCut: () => {
            fired.resetResponse = true;
            rec.fault = `reset ${info.method} ${info.path} after ${cutResponse} response bytes`;
            faults.push(rec.fault);
            finish();
            reset(clientSocket);
            upRes.destroy();
          },
          flipAt,
          onFlip: () => {
            fired.corruptResponse = true;
            rec.fault = `flipped response byte ${flipAt} of ${info.method} ${info.path}`;
            faults.push(rec.fault);
          },
          bytesPerSecond: bps,
        })
          .then((ok) => {
            if (ok && !finished) res.end();
            if (ok) finish();
          })
          .catch(() => {
            finish();
            clientSocket.destroy();
          });
      });
      return u;
    };

    try {
      if (buffered) {
        // Store and forward: the registry sees the body only once the client has sent all of it.
        const chunks: Buffer[] = [];
        const sink = new Writable({
          write(c: Buffer, _enc, cb) {
            chunks.push(c);
            cb();
          },
        });
        const ok = await pump(req, sink, { count: (n) => (rec.receivedBytes += n), cutAt: cutRequest, onCut: onCutRequest, bytesPerSecond: bps });
        if (!ok || !req.complete || finished) {
          finish();
          return;
        }
        const body = Buffer.concat(chunks);
        up = startUpstream();
        rec.requestBytes = body.length;
        up.end(body);
      } else {
        up = startUpstream();
        const target = up;
        const ok = await pump(req, target, {
          count: (n) => {
            rec.receivedBytes += n;
            rec.requestBytes += n;
          },
          cutAt: cutRequest,
          onCut: onCutRequest,
          bytesPerSecond: bps,
        });
        if (ok) target.end();
      }
    } catch {
      up?.destroy();
      finish();
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      req.socket.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (_e, s) => s.destroy());
  server.keepAliveTimeout = 30_000;
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('fault proxy: no address');
  let stopped: Promise<void> | undefined;
  const proxy: FaultProxy = {
    host: `127.0.0.1:${addr.port}`,
    port: addr.port,
    stats(): ProxyStats {
      const requests = records.map((x) => ({ ...x }));
      const byRoute: ProxyStats['byRoute'] = {};
      for (const x of requests) {
        const k = `${x.method} ${x.path}`;
        const e = (byRoute[k] ??= { count: 0, requestBytes: 0, responseBytes: 0 });
        e.count++;
        e.requestBytes += x.requestBytes;
        e.responseBytes += x.responseBytes;
      }
      return {
        requests,
        faults: [...faults],
        byRoute,
        requestBytes: (f) => requests.filter((x) => matches(x, f)).reduce((s, x) => s + x.requestBytes, 0),
        receivedBytes: (f) => requests.filter((x) => matches(x, f)).reduce((s, x) => s + x.receivedBytes, 0),
        responseBytes: (f) => requests.filter((x) => matches(x, f)).reduce((s, x) => s + x.responseBytes, 0),
      };
    },
    setRules(next: FaultRules): void {
      rules = next;
      fired = { resetRequest: false, resetResponse: false, corruptResponse: false, unavailable: 0 };
    },
    resetStats(): void {
      records = [];
      faults = [];
    },
    stop(): Promise<void> {
      stopped ??= (async () => {
        proxies.delete(proxy);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        agent.destroy();
        await closed;
      })();
      return stopped;
    },
  };
  proxies.add(proxy);
  return proxy;
}

/** The record filter for blob downloads (`GET .../blobs/sha256:...`). */
export const blobGets: RecordFilter = (r) => isBlobGet({ method: r.method, url: r.url, path: r.path, headers: {} });
/** The record filter for upload chunks (`PATCH .../blobs/uploads/...`). */
export const uploadPatches: RecordFilter = (r) => isUploadPatch({ method: r.method, url: r.url, path: r.path, headers: {} });
/** The record filter for blob bytes sent by PATCH or PUT to upload sessions. */
export const uploadBodies: RecordFilter = (r) => isUploadPatch({ method: r.method, url: r.url, path: r.path, headers: {} }) || isUploadPut({ method: r.method, url: r.url, path: r.path, headers: {} });
