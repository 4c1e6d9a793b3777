/** Retry policy: which failures to retry, how long to wait (backoff, Retry-After), how often. */

/** A retry about to happen, for progress output ("Retrying in 2 seconds: ..."). */
export interface RetryEvent {
  attempt: number;
  delayMs: number;
  reason: string;
  url: string;
}

/** How retries behave; the defaults suit registries on the internet. */
export interface RetryPolicy {
  /** Further attempts after the first (default 4). */
  retries: number;
  /** First backoff delay in ms, doubled each time (default 1000). */
  baseDelayMs: number;
  /** Longest wait, also for Retry-After (default 30 s). */
  maxDelayMs: number;
}

/** The policy used unless configured otherwise. */
export const DEFAULT_RETRY: RetryPolicy = { retries: 4, baseDelayMs: 1000, maxDelayMs: 30_000 };

/** Statuses retried on idempotent requests. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
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
