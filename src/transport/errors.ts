/** Transport failures as typed errors, with the words a user understands. */
import { TsDockerError } from '../errors.js';

/** A request that never got an HTTP response (reset, refused, timed out, TLS...). */
export class NetworkError extends TsDockerError {
  constructor(readonly reason: string, readonly url: string, options?: { cause?: unknown }) {
    super('NETWORK', `${reason} (${url})`, options);
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

/** True for errors worth retrying: no response came, or it was cut short. */
export function isNetworkFailure(err: unknown): boolean {
  if (err instanceof NetworkError) return true;
  if (err instanceof TsDockerError) return false;
  const name = (err as { name?: string }).name;
  if (name === 'AbortError') return false;
  return err instanceof Error;
}
