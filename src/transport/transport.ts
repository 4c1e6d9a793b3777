/**
 * The HTTP transport every registry call goes through (the only importer of undici): auth
 * from challenges, retries with backoff for idempotent requests, redirects that never carry
 * `Authorization` to another host, and network errors in plain words.
 */
import type { Readable } from 'node:stream';
import { request } from './undici.js';
import type { CredentialProvider } from './auth.js';
import { Authenticator } from './auth.js';
import { parseChallenges } from './challenge.js';
import { Endpoints } from './endpoints.js';
import { HttpStatusError, NetworkError, describeNetworkError, lowLevelCode } from './errors.js';
import type { RetryEvent, RetryPolicy } from './retry.js';
import { DEFAULT_RETRY, Retrier, retryAfterMs } from './retry.js';
import { secondsLabel, watchStall } from './stall.js';
import { quoteUntrusted } from '../text/escape.js';

/** A request body, or a factory for one so that it can be sent again after a retry or 401. */
export type Body = string | Buffer | Readable | (() => Readable | Buffer);

/** One request. */
export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: Body;
  /** Auth scope, e.g. `repository:library/x:pull,push`; empty for `/v2/`. */
  scope?: string;
  /** Retry network errors and 5xx/429 (default: GET, HEAD, DELETE; PUT when its body can be made again). */
  idempotent?: boolean;
  signal?: AbortSignal;
  /** A registry host whose certs.d (CAs, client certificate) this request also uses: for its token service. */
  trustAs?: string;
  /**
   * Only learn the auth challenge: no credentials, and a 401 is the answer rather than a cue to
   * fetch a token. The `/v2/` ping of push and pull, as docker's: a scope-less token there would
   * be one more round trip to the token service for nothing.
   */
  challengeOnly?: boolean;
  /**
   * The first request to the registry (the `/v2/` ping): a refused connection or a DNS failure
   * fails at once instead of being retried (retry.ts).
   */
  firstContact?: boolean;
}

/** A response; the body must be consumed or dumped by the caller. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: Readable & { text(): Promise<string>; json(): Promise<unknown>; arrayBuffer(): Promise<ArrayBuffer>; dump(): Promise<void> };
  url: string;
}

/** Transport settings. */
export interface TransportOptions {
  credentials?: CredentialProvider;
  retry?: Partial<RetryPolicy>;
  onRetry?: (e: RetryEvent) => void;
  /** Max connections per origin (default 16). */
  connections?: number;
  /** certs.d folders with CAs and client certificates per registry (default `/etc/docker/certs.d`). */
  certsDirs?: readonly string[];
  /**
   * How long to wait for a response's headers after the request was sent, in ms (default 60 s;
   * 0: no limit). A timeout is retried `retry.timeoutRetries` times (default once).
   */
  headersTimeoutMs?: number;
  /**
   * The low-speed limit: a response body that brings fewer than 1 KiB in this many ms ends with
   * `stalled: no data from HOST for N s` (default 30 s; 0: no limit). See stall.ts.
   */
  stallTimeoutMs?: number;
}

/** Default {@link TransportOptions.headersTimeoutMs}: a registry may take seconds to answer the final PUT of a big blob (hashing it). */
export const DEFAULT_HEADERS_TIMEOUT_MS = 60_000;
/** Default {@link TransportOptions.stallTimeoutMs}. */
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;

function hostOf(url: string): string {
  return new URL(url).host;
}

function flatten(h: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** HTTP with registry manners. */
export class Transport {
  /** Auth state shared by every request of this transport. */
  readonly auth: Authenticator;
  private readonly endpoints: Endpoints;
  /** The retry policy of this transport; upload loops use it too. */
  readonly retryPolicy: RetryPolicy;
  private readonly headersTimeoutMs: number;
  private readonly stallTimeoutMs: number;
  private closed = false;

  constructor(private readonly opts: TransportOptions = {}) {
    // One dispatcher for plain HTTP, one per HTTPS registry host with its certs.d trust (tls.ts).
    this.endpoints = new Endpoints({ certsDirs: opts.certsDirs ?? ['/etc/docker/certs.d'], connections: opts.connections ?? 16 });
    this.retryPolicy = { ...DEFAULT_RETRY, ...opts.retry };
    this.headersTimeoutMs = opts.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
    this.stallTimeoutMs = opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    this.auth = new Authenticator(opts.credentials ?? (async () => undefined), async (url, init) => {
      // As docker does, the token service is reached with the registry's TLS settings (a GitLab or
      // Harbor token service signed by the same private CA works with the registry's certs.d alone).
      const res = await this.raw({ method: init.method, url, headers: init.headers, body: init.body, trustAs: init.registry }, undefined);
      // auth.ts reads the body itself, bounded (limits.ts).
      return { status: res.status, headers: res.headers, body: res.body };
    }, (url) => this.endpoints.resolve(url));
  }

  /** Closes pooled connections; requests still running then fail without retries. */
  async close(): Promise<void> {
    this.closed = true;
    await this.endpoints.close();
  }

  private async raw(req: HttpRequest, authorization: string | undefined): Promise<HttpResponse> {
    const headers: Record<string, string> = { 'user-agent': 'ts-docker', ...req.headers };
    if (authorization) headers['authorization'] = authorization;
    const body = typeof req.body === 'function' ? req.body() : req.body;
    try {
      const { res, url } = await this.endpoints.send(req.url, body === undefined, req.trustAs, (target, dispatcher) => request(target, {
        method: req.method,
        headers,
        body: body ?? null,
        signal: req.signal,
        dispatcher,
        headersTimeout: this.headersTimeoutMs,
        // undici's body timeout measures the gap between two chunks only (a drip never trips
        // it): the stall watchdog below replaces it.
        bodyTimeout: 0,
      }));
      watchStall(res.body, this.stallTimeoutMs, url);
      return { status: res.statusCode, headers: flatten(res.headers), body: res.body as unknown as HttpResponse['body'], url };
    } catch (err) {
      if ((err as { name?: string }).name === 'AbortError' || req.signal?.aborted) throw err;
      if (err instanceof NetworkError) throw err;
      if (lowLevelCode(err) === 'UND_ERR_HEADERS_TIMEOUT') {
        throw new NetworkError(`timed out: no response from ${hostOf(req.url)} in ${secondsLabel(this.headersTimeoutMs)}`, req.url, { cause: err, timeout: true });
      }
      throw (await this.endpoints.explain(err, req.url)) ?? new NetworkError(describeNetworkError(err), req.url, { cause: err });
    }
  }

  /**
   * Sends a request: adds auth (fetching a token on a 401 challenge and sending again when the
   * body can be made again), follows redirects, retries idempotent failures with the one retry
   * policy (retry.ts): network errors, timeouts, 408/429/5xx with backoff and Retry-After.
   */
  async fetch(req: HttpRequest): Promise<HttpResponse> {
    const idempotent = req.idempotent
      ?? (['GET', 'HEAD', 'DELETE'].includes(req.method) || (req.method === 'PUT' && !isStream(req.body)));
    const replayable = !isStream(req.body);
    // Not retried here: the caller's own loop (uploads) decides, with the same policy.
    if (!idempotent || !replayable) return this.once(req, replayable);
    const retrier = new Retrier(this.retryPolicy, {
      context: { firstContact: req.firstContact ?? false },
      signal: req.signal,
      onRetry: this.opts.onRetry,
      stop: () => this.closed,
    });
    for (;;) {
      let res: HttpResponse;
      try {
        res = await this.once(req, replayable);
      } catch (err) {
        await retrier.failed(err, req.url);
        continue;
      }
      const reason = `${res.status} ${statusText(res.status)}`.trim();
      if (await retrier.status(res.status, reason, req.url, retryAfterMs(res.headers['retry-after']), () => res.body.dump().catch(() => undefined))) continue;
      return res;
    }
  }

  private async once(req: HttpRequest, replayable: boolean): Promise<HttpResponse> {
    const origin = hostOf(req.url);
    let url = req.url;
    let method = req.method;
    for (let hop = 0; hop < 10; hop++) {
      // Credentials go only to the registry itself, never to a redirect target (blob storage, CDN),
      // and never over plain HTTP once the registry was seen over TLS (a redirect or Location
      // downgrading to http:, on the same host too). Judged by the URL the request really goes
      // out on: an insecure registry found to speak TLS is reached over HTTPS (endpoints.ts).
      const authorize = this.auth.mayAuthorize(origin, this.endpoints.resolve(url));
      const authorization = authorize && !req.challengeOnly ? await this.auth.header(origin, req.scope ?? '') : undefined;
      let res = await this.raw({ ...req, url, method }, authorization);
      // res.url: where the answer really came from (after the HTTPS upgrade), not `url`.
      this.auth.sawResponse(res.url);
      if (res.status === 401 && this.auth.mayAuthorize(origin, res.url)) {
        const challenges = parseChallenges(res.headers['www-authenticate']);
        if (challenges.length > 0) {
          this.auth.setChallenge(origin, challenges, res.url);
          if (req.challengeOnly) return { ...res, url };
          this.auth.invalidate(origin, req.scope ?? '');
          const retryAuth = await this.auth.header(origin, req.scope ?? '');
          // One more try with a fresh token (first contact, or a token that expired mid-push).
          if (replayable && retryAuth !== undefined && retryAuth !== authorization && this.auth.mayAuthorize(origin, this.endpoints.resolve(url))) {
            await res.body.dump().catch(() => undefined);
            res = await this.raw({ ...req, url, method }, retryAuth);
          }
        }
      }
      if ([301, 302, 303, 307, 308].includes(res.status) && res.headers['location'] && (method === 'GET' || method === 'HEAD')) {
        await res.body.dump().catch(() => undefined);
        url = redirectTarget(res.status, res.headers['location'], url);
        if (res.status === 303) method = 'GET';
        continue;
      }
      return { ...res, url };
    }
    throw new NetworkError('too many redirects', req.url);
  }
}

/** A redirect's `Location` resolved against the URL that answered; only http(s) URLs are followed. */
function redirectTarget(status: number, location: string, from: string): string {
  let target: URL;
  // Typed status errors, not network ones: another try would get the same answer.
  try {
    target = new URL(location, from);
  } catch {
    throw new HttpStatusError(status, `${hostOf(from)} answered ${status} with an invalid Location ${quoteUntrusted(JSON.stringify(location))}`, from);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new HttpStatusError(status, `${hostOf(from)} redirected to a URL that is not HTTP(S): ${quoteUntrusted(target.href)}`, from);
  }
  return target.toString();
}

function isStream(body: Body | undefined): boolean {
  return !!body && typeof body === 'object' && !Buffer.isBuffer(body) && typeof (body as Readable).pipe === 'function';
}

const STATUS: Record<number, string> = {
  408: 'Request Timeout', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout',
};

/** The reason phrase of common statuses. */
export function statusText(status: number): string {
  return STATUS[status] ?? '';
}
