/**
 * The one retry policy of every layer (transport requests, chunked uploads, resumable downloads):
 * which failures are retried ({@link classifyFailure}), how often and how long to wait
 * ({@link RetryPolicy}, backoff, Retry-After), and the loop ({@link Retrier}, {@link withRetries}).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TsDockerError } from '../errors.js';
import { NetworkError, describeNetworkError, lowLevelCode } from './errors.js';

/** A retry about to happen, for progress output ("Retrying in 2 seconds: ..."). */
export interface RetryEvent {
  attempt: number;
  delayMs: number;
  reason: string;
  url: string;
}

/** How retries behave; the defaults suit registries on the internet. */
export interface RetryPolicy {
  /** Further attempts after the first (default 4: five attempts, as docker's max-download/upload-attempts). */
  retries: number;
  /**
   * Of those, how many may follow a timeout (no response headers in time, or a stalled body);
   * default 1. A fresh connection gets past one dead connection or a hung backend; a second
   * timeout in a row means the server is the problem, and each one cost a whole timeout.
   */
  timeoutRetries: number;
  /** First backoff delay in ms, doubled each time (default 1000). */
  baseDelayMs: number;
  /** Longest wait, also for Retry-After (default 30 s). */
  maxDelayMs: number;
}

/** The policy used unless configured otherwise. */
export const DEFAULT_RETRY: RetryPolicy = { retries: 4, timeoutRetries: 1, baseDelayMs: 1000, maxDelayMs: 30_000 };

/** Where a failure happened, for {@link classifyFailure}. */
export interface RetryContext {
  /**
   * The first request to a registry (the `/v2/` ping): a refused connection or a name that does not
   * resolve is an answer there (nothing listens, no such host), as docker treats it, not a hiccup.
   */
  firstContact?: boolean;
  /**
   * False where HTTP statuses were already retried below (a blob GET the transport retried): a
   * 503 that comes up from there is final, so loops do not multiply each other's attempts.
   */
  statuses?: boolean;
}

/** `transient`: retry; `timeout`: retry within `timeoutRetries`; `final`: fail at once. */
export type FailureKind = 'transient' | 'timeout' | 'final';

/** Statuses retried on idempotent requests. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/** Failures a retry cannot cure at first contact: nothing listens there, or the name does not resolve. */
const FIRST_CONTACT_FINAL = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/** Codes of a connection that failed or broke: worth another try. */
const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH',
  'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT',
]);

/** undici's timeouts (when they come up unwrapped, e.g. from a body stream). */
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Local disk and process limits: the next attempt would fail the same way. */
const LOCAL_CODES = new Set(['ENOSPC', 'EROFS', 'EACCES', 'EDQUOT', 'EPERM', 'EMFILE', 'ENFILE', 'EISDIR', 'ENOTDIR', 'EFBIG', 'EIO']);

/** Errors a retry loop already gave up on: loops around it must not retry them again. */
const spent = new WeakSet<object>();

/**
 * What to do about a failure: an HTTP status, or an error thrown by a request or a stream.
 * Network errors (reset, refused, timed out, DNS) and 408/429/5xx are retried; a refused
 * connection or a DNS failure at first contact, local disk errors (ENOSPC, EROFS, EACCES...),
 * typed errors of ours (digest mismatch, invalid content, TLS, 4xx) and cancellation are not.
 */
export function classifyFailure(failure: unknown, ctx: RetryContext = {}): FailureKind {
  if (typeof failure === 'number') return isRetryableStatus(failure) ? 'transient' : 'final';
  if (failure === null || typeof failure !== 'object') return 'final';
  if (spent.has(failure)) return 'final';
  if ((failure as { name?: unknown }).name === 'AbortError') return 'final';
  const code = lowLevelCode(failure);
  if (code && LOCAL_CODES.has(code)) return 'final';
  if (code && ctx.firstContact && FIRST_CONTACT_FINAL.has(code)) return 'final';
  // llhttp's parse errors (HPE_INVALID_CONSTANT, HPE_INVALID_HEADER_TOKEN...): the server speaks
  // something that is not HTTP (a TLS port asked in plain text, another protocol); asking again
  // gets the same bytes. undici sets no code on some of them: its error's name tells.
  if (code?.startsWith('HPE_') || isParserError(failure)) return 'final';
  if (failure instanceof NetworkError) return failure.timeout || (code !== undefined && TIMEOUT_CODES.has(code)) ? 'timeout' : 'transient';
  if (failure instanceof TsDockerError) {
    // A registry's answer as an error (RegistryError: registry/ sits above transport/, so it is
    // recognised by its status): 5xx and 429 again, unless they were retried where they happened.
    const status = (failure as { status?: unknown }).status;
    return typeof status === 'number' && ctx.statuses !== false && isRetryableStatus(status) ? 'transient' : 'final';
  }
  if (code && TIMEOUT_CODES.has(code)) return 'timeout';
  if (code && NETWORK_CODES.has(code)) return 'transient';
  const message = failure instanceof Error ? failure.message : '';
  // undici's and node's words for a connection that went away mid-body.
  if (/other side closed|socket hang up|terminated/i.test(message)) return 'transient';
  // Anything else with a system error code (a local file), and programming errors: not the network.
  return 'final';
}

/** An undici HTTPParserError anywhere in the cause chain. */
function isParserError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    if ((e as { name?: unknown }).name === 'HTTPParserError') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** True when `failure` is worth another attempt (see {@link classifyFailure}). */
export function retryable(failure: unknown, ctx: RetryContext = {}): boolean {
  return classifyFailure(failure, ctx) !== 'final';
}

/** The words for a failure in "Retrying in N seconds: <reason>". */
export function failureReason(err: unknown): string {
  if (err instanceof NetworkError) return err.reason;
  if (err instanceof TsDockerError) return err.message;
  return describeNetworkError(err);
}

/** Parses Retry-After (seconds or an HTTP date) into ms; undefined when absent or bad. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** The wait before attempt `attempt` (1-based retry number). */
export function backoffMs(policy: RetryPolicy, attempt: number, retryAfter?: number): number {
  const base = retryAfter ?? policy.baseDelayMs * 2 ** (attempt - 1);
  return Math.min(policy.maxDelayMs, base);
}

/** "2 seconds", "1 second", as docker words it. */
export function secondsText(ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000));
  return s === 1 ? '1 second' : `${s} seconds`;
}

/** Options of a {@link Retrier}. */
export interface RetrierOptions {
  context?: RetryContext;
  signal?: AbortSignal | undefined;
  onRetry?: ((e: RetryEvent) => void) | undefined;
  /** True to give up at once (the transport was closed). */
  stop?: () => boolean;
}

/**
 * The bookkeeping of one retry loop: counts attempts against the policy, reports each retry and
 * waits its backoff. Loops with their own resync logic (uploads, downloads) call
 * {@link Retrier.failed} from their `catch`.
 */
export class Retrier {
  private retries = 0;
  private timeouts = 0;

  constructor(private readonly policy: RetryPolicy, private readonly opts: RetrierOptions = {}) {}

  /** Retries so far. */
  get attempts(): number {
    return this.retries;
  }

  /**
   * After `err`: rethrows it when it is not worth retrying or the policy's attempts are spent;
   * else reports the retry and waits.
   */
  async failed(err: unknown, url: string): Promise<void> {
    if (this.opts.signal?.aborted || this.opts.stop?.()) throw err;
    const kind = classifyFailure(err, this.opts.context);
    if (kind === 'final') throw err;
    if (this.retries >= this.policy.retries || (kind === 'timeout' && this.timeouts >= this.policy.timeoutRetries)) {
      if (typeof err === 'object' && err !== null) spent.add(err);
      throw err;
    }
    if (kind === 'timeout') this.timeouts++;
    // A registry's error answer carries its Retry-After (RegistryError.retryAfterMs): honoured here too.
    const after = (err as { retryAfterMs?: unknown }).retryAfterMs;
    await this.wait(failureReason(err), url, typeof after === 'number' ? after : undefined);
  }

  /**
   * After an answer with `status`: false when it is to be returned as it is; else `discard`s it
   * (the response body), reports the retry and waits.
   */
  async status(status: number, reason: string, url: string, retryAfter: number | undefined, discard?: () => Promise<unknown>): Promise<boolean> {
    if (this.opts.signal?.aborted || this.opts.stop?.()) return false;
    if (!isRetryableStatus(status) || this.retries >= this.policy.retries) return false;
    await discard?.();
    await this.wait(reason, url, retryAfter);
    return true;
  }

  private async wait(reason: string, url: string, retryAfter: number | undefined): Promise<void> {
    this.retries++;
    const delayMs = backoffMs(this.policy, this.retries, retryAfter);
    this.opts.onRetry?.({ attempt: this.retries, delayMs, reason, url });
    await sleep(delayMs, undefined, { signal: this.opts.signal });
  }
}

/** Runs `fn` until it succeeds or fails in a way {@link Retrier} does not retry. `attempt` counts from 0. */
export async function withRetries<T>(policy: RetryPolicy, url: string, fn: (attempt: number) => Promise<T>, opts: RetrierOptions = {}): Promise<T> {
  const r = new Retrier(policy, opts);
  for (;;) {
    try {
      return await fn(r.attempts);
    } catch (err) {
      await r.failed(err, url);
    }
  }
}
