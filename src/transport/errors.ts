/** Transport failures as typed errors, with the words a user understands. */
import { TsDockerError } from '../errors.js';

/** A request that never got an HTTP response (reset, refused, timed out, TLS...). */
export class NetworkError extends TsDockerError {
  /** A headers timeout or a stalled body (see retry.ts: retried at most `timeoutRetries` times). */
  readonly timeout: boolean;
  /**
   * `hint`: what the user can do, put after the reason (`HOST: connection refused: is a registry
   * running there? ...`).
   */
  constructor(readonly reason: string, readonly url: string, options?: { cause?: unknown; timeout?: boolean; hint?: string }) {
    super('NETWORK', options?.hint ? `${new URL(url).host}: ${reason}: ${options.hint}` : `${reason} (${url})`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.timeout = options?.timeout ?? false;
  }
}

/** An HTTP response the caller did not expect, with the registry's own words when it gave them. */
export class HttpStatusError extends TsDockerError {
  constructor(readonly status: number, message: string, readonly url: string) {
    super('HTTP_STATUS', message);
  }
}

const CODES: Record<string, string> = {
  ECONNRESET: 'connection reset by peer',
  ECONNREFUSED: 'connection refused',
  EPIPE: 'broken pipe',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'temporary failure in name resolution',
  EHOSTUNREACH: 'no route to host',
  UND_ERR_SOCKET: 'connection reset by peer',
  UND_ERR_CLOSED: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for response headers',
  UND_ERR_BODY_TIMEOUT: 'timed out reading the response body',
};

/** The low-level error code under `err` (`ECONNREFUSED`, `ENOSPC`, `UND_ERR_SOCKET`), looking through `cause`. */
export function lowLevelCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && !(e instanceof TsDockerError)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A short, human reason for a low-level error ("connection reset by peer"). */
export function describeNetworkError(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: string }).code;
    if (code && CODES[code]) return CODES[code];
    e = (e as { cause?: unknown }).cause;
  }
  const msg = err instanceof Error ? err.message : String(err);
  if (/other side closed|socket hang up|terminated/i.test(msg)) return 'connection reset by peer';
  return msg.split('\n')[0] ?? 'network error';
}
