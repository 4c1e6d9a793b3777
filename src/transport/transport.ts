/**
 * The HTTP transport every registry call goes through (the only importer of undici): auth
 * from challenges, retries with backoff for idempotent requests, redirects that never carry
 * `Authorization` to another host, and network errors in plain words.
 */
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from './undici.js';
import type { CredentialProvider } from './auth.js';
import { Authenticator } from './auth.js';
import { parseChallenges } from './challenge.js';
import { Endpoints } from './endpoints.js';
import { NetworkError, describeNetworkError, isNetworkFailure } from './errors.js';
import type { RetryEvent, RetryPolicy } from './retry.js';
import { DEFAULT_RETRY, backoffMs, isRetryableStatus, retryAfterMs } from './retry.js';

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
}

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
  private readonly policy: RetryPolicy;
  private closed = false;

  constructor(private readonly opts: TransportOptions = {}) {
    // One dispatcher for plain HTTP, one per HTTPS registry host with its certs.d trust (tls.ts).
    this.endpoints = new Endpoints({ certsDirs: opts.certsDirs ?? ['/etc/docker/certs.d'], connections: opts.connections ?? 16 });
    this.policy = { ...DEFAULT_RETRY, ...opts.retry };
    this.auth = new Authenticator(opts.credentials ?? (async () => undefined), async (url, init) => {
      // As docker does, the token service is reached with the registry's TLS settings (a GitLab or
      // Harbor token service signed by the same private CA works with the registry's certs.d alone).
      const res = await this.raw({ method: init.method, url, headers: init.headers, body: init.body, trustAs: init.registry }, undefined);
      return { status: res.status, json: () => res.body.json(), text: () => res.body.text() };
    });
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
        headersTimeout: 120_000,
        bodyTimeout: 120_000,
      }));
      return { status: res.statusCode, headers: flatten(res.headers), body: res.body as unknown as HttpResponse['body'], url };
    } catch (err) {
      if ((err as { name?: string }).name === 'AbortError' || req.signal?.aborted) throw err;
      throw (await this.endpoints.explain(err, req.url)) ?? new NetworkError(describeNetworkError(err), req.url, { cause: err });
    }
  }

  /**
   * Sends a request: adds auth (fetching a token on a 401 challenge and sending again when the
   * body can be made again), follows redirects, retries idempotent failures with backoff.
   */
  async fetch(req: HttpRequest): Promise<HttpResponse> {
    const idempotent = req.idempotent
      ?? (['GET', 'HEAD', 'DELETE'].includes(req.method) || (req.method === 'PUT' && !isStream(req.body)));
    const replayable = !isStream(req.body);
    for (let attempt = 0; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await this.once(req, replayable);
      } catch (err) {
        if (this.closed || req.signal?.aborted || !idempotent || !replayable || !isNetworkFailure(err) || attempt >= this.policy.retries) throw err;
        await this.wait(req, attempt + 1, (err as NetworkError).reason ?? describeNetworkError(err), undefined);
        continue;
      }
      if (idempotent && replayable && isRetryableStatus(res.status) && attempt < this.policy.retries) {
        await res.body.dump().catch(() => undefined);
        await this.wait(req, attempt + 1, `${res.status} ${statusText(res.status)}`, retryAfterMs(res.headers['retry-after']));
        continue;
      }
      return res;
    }
  }

  private async wait(req: HttpRequest, attempt: number, reason: string, retryAfter: number | undefined): Promise<void> {
    const delayMs = backoffMs(this.policy, attempt, retryAfter);
    this.opts.onRetry?.({ attempt, delayMs, reason, url: req.url });
    await sleep(delayMs, undefined, { signal: req.signal });
  }

  private async once(req: HttpRequest, replayable: boolean): Promise<HttpResponse> {
    const origin = hostOf(req.url);
    let url = req.url;
    let method = req.method;
    for (let hop = 0; hop < 10; hop++) {
      // Credentials go only to the registry itself, never to a redirect target (blob storage, CDN),
      // and never over plain HTTP after a redirect from HTTPS (a downgrade on the same host).
      const sameHost = hostOf(url) === origin && !(url.startsWith('http:') && req.url.startsWith('https:'));
      const authorization = sameHost && !req.challengeOnly ? await this.auth.header(origin, req.scope ?? '') : undefined;
      let res = await this.raw({ ...req, url, method }, authorization);
      if (res.status === 401 && sameHost) {
        const challenges = parseChallenges(res.headers['www-authenticate']);
        if (challenges.length > 0) {
          this.auth.setChallenge(origin, challenges, url.startsWith('https:'));
          if (req.challengeOnly) return { ...res, url };
          this.auth.invalidate(origin, req.scope ?? '');
          const retryAuth = await this.auth.header(origin, req.scope ?? '');
          // One more try with a fresh token (first contact, or a token that expired mid-push).
          if (replayable && retryAuth !== undefined && retryAuth !== authorization) {
            await res.body.dump().catch(() => undefined);
            res = await this.raw({ ...req, url, method }, retryAuth);
          }
        }
      }
      if ([301, 302, 303, 307, 308].includes(res.status) && res.headers['location'] && (method === 'GET' || method === 'HEAD')) {
        await res.body.dump().catch(() => undefined);
        url = new URL(res.headers['location'], url).toString();
        if (res.status === 303) method = 'GET';
        continue;
      }
      return { ...res, url };
    }
    throw new NetworkError('too many redirects', req.url);
  }
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
