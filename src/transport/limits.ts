/**
 * Size limits on response bodies read whole into memory, and the one bounded reader that
 * enforces them. A registry or token service may answer with a body of any size; reading it
 * with `text()` / `arrayBuffer()` would cost its size several times over in RSS (a 1 GiB
 * manifest, ~3 GB). Here the declared `Content-Length` is checked before a byte is read, and the
 * stream is counted as it arrives and destroyed (the connection aborted) as soon as the limit is
 * passed, so memory stays at the limit plus one chunk.
 */
import type { Readable } from 'node:stream';
import { TsDockerError } from '../errors.js';

/** Manifests and indexes: 4 MiB, as docker-registry, containerd and the OCI spec's guidance have it. */
export const MANIFEST_LIMIT = 4 * 1024 * 1024;
/** Token-service answers and registry error bodies: 1 MiB. */
export const BODY_LIMIT = 1024 * 1024;
/**
 * One page of a tag list: 32 MiB. Registries that ignore `n` (docker-registry 2.8) send every
 * tag of the repository in one page; 32 MiB holds several hundred thousand tags.
 */
export const TAG_LIST_LIMIT = 32 * 1024 * 1024;

/** `4 MiB`, `1 MiB`, `512 KiB`, `100 bytes`. */
export function limitLabel(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/** A response body over its limit: `manifest too large (N bytes, limit 4 MiB)`. */
export class TooLargeError extends TsDockerError {
  /**
   * `what`: the thing read (`manifest`); `size`: its declared size when the server said one
   * (else `more than LIMIT bytes`); `where`: appended after a colon (`HOST/REPO:TAG`).
   */
  constructor(readonly what: string, readonly size: number | undefined, readonly limit: number, where?: string) {
    super('TOO_LARGE', `${what} too large (${size !== undefined ? `${size} bytes` : `more than ${limit} bytes`}, limit ${limitLabel(limit)})${where ? `: ${where}` : ''}`);
  }
}

/** The declared length of a body, when `Content-Length` is one non-negative integer. */
export function declaredLength(contentLength: string | undefined): number | undefined {
  if (contentLength === undefined || !/^\s*\d+\s*$/.test(contentLength)) return undefined;
  const n = Number(contentLength);
  return Number.isSafeInteger(n) ? n : undefined;
}

function discard(body: Readable): void {
  // Nobody may read it any more: an error from the aborted socket must not crash the process.
  if (body.listenerCount('error') === 0) body.on('error', () => undefined);
  body.destroy();
}

/**
 * Reads `body` whole, at most `limit` bytes. Throws {@link TooLargeError} (`what`, `where`) at
 * once when `contentLength` declares more, or as soon as more arrives; the body is destroyed
 * then, which aborts the download.
 */
export async function readLimited(body: Readable, limit: number, what: string, contentLength?: string, where?: string): Promise<Buffer> {
  const declared = declaredLength(contentLength);
  if (declared !== undefined && declared > limit) {
    discard(body);
    throw new TooLargeError(what, declared, limit, where);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer | string>) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += b.length;
      if (size > limit) throw new TooLargeError(what, undefined, limit, where);
      chunks.push(b);
    }
  } catch (err) {
    discard(body);
    throw err;
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}
