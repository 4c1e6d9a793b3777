/** The distribution spec's error bodies, turned into typed errors with the registry's own words. */
import { TsDockerError } from '../errors.js';
import { quoteUntrusted } from '../text/escape.js';
import { BODY_LIMIT, readLimited } from '../transport/limits.js';
import { retryAfterMs } from '../transport/retry.js';
import type { HttpResponse } from '../transport/transport.js';
import { statusText } from '../transport/transport.js';

/** One entry of a spec error body. */
export interface SpecError {
  code: string;
  message?: string;
  detail?: unknown;
}

/** A registry answered with an error: status, spec code (`DENIED`, `MANIFEST_UNKNOWN`...), message. */
export class RegistryError extends TsDockerError {
  /** The wait the registry asked for (Retry-After on a 429 or 503), in ms; read by the retry policy. */
  retryAfterMs?: number | undefined;

  constructor(readonly status: number, readonly errors: SpecError[], message: string) {
    super(errors[0]?.code ?? `HTTP_${status}`, message);
  }

  /** True when the registry says the thing does not exist. */
  get notFound(): boolean {
    return this.status === 404;
  }
}

/**
 * The entries of a spec error body that are well formed (a string `code`), with `code` and
 * `message` made safe to print: control characters escaped, length capped (they came from the
 * network). `detail` is kept as data, never printed.
 */
function specErrors(doc: unknown): SpecError[] {
  const list = (doc as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(list)) return [];
  const out: SpecError[] = [];
  for (const e of list.slice(0, 20) as unknown[]) {
    if (typeof e !== 'object' || e === null) continue;
    const { code, message, detail } = e as { code?: unknown; message?: unknown; detail?: unknown };
    if (typeof code !== 'string' || !code) continue;
    out.push({ code: quoteUntrusted(code, 64), ...(typeof message === 'string' ? { message: quoteUntrusted(message) } : {}), ...(detail !== undefined ? { detail } : {}) });
  }
  return out;
}

/**
 * Reads an error response into a RegistryError; `what` says what was being done. The body is
 * read at most {@link BODY_LIMIT} bytes (a longer one is dropped: the status alone is told);
 * only a spec error body's code and message are shown, escaped, never an HTML page or raw text.
 */
export async function registryError(res: HttpResponse, what: string): Promise<RegistryError> {
  let errors: SpecError[] = [];
  try {
    // undici 7 throws an uncatchable TypeError when text() is called on a body that already
    // ended (e.g. a HEAD answer dumped before the status was checked): read only a live body.
    if (!res.body.readableEnded && !res.body.destroyed) {
      const bytes = await readLimited(res.body, BODY_LIMIT, 'error body', res.headers['content-length']);
      errors = specErrors(JSON.parse(bytes.toString('utf8')));
    }
  } catch {
    // not a spec error body (a proxy's HTML page, nothing, or one over the limit): the status tells
  }
  const words = errors.map((e) => `${e.code.toLowerCase()}: ${e.message ?? ''}`.trim()).join('; ');
  if (res.status === 401) {
    // Say how to fix it: the credentials (or their absence) were refused for this registry.
    const hint = `; log in with: ts-docker login ${new URL(res.url).host}`;
    if (errors.length === 0) return new RegistryError(401, [{ code: 'UNAUTHORIZED' }], `${what}: unauthorized: authentication required${hint}`);
    return new RegistryError(401, errors, `${what}: ${words}${hint}`);
  }
  if (res.status === 413) {
    return new RegistryError(413, [], `${what}: 413 Request Entity Too Large: the registry or a proxy in front of it refused the request body; use a smaller --chunk-size`);
  }
  const err = new RegistryError(res.status, errors, `${what}: ${words || `${res.status} ${statusText(res.status)}`.trim()}`);
  err.retryAfterMs = retryAfterMs(res.headers['retry-after']);
  return err;
}
