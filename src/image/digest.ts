/** Digests: parsing, hashing bytes and streams, and a verifying pass-through. */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { DigestMismatchError, InvalidContentError } from '../errors.js';

/** A content digest string, `sha256:<64 hex>`. */
export type Digest = `sha256:${string}`;

const SHA256_RE = /^sha256:[a-f0-9]{64}$/;

/** True when `s` is a well-formed sha256 digest. */
export function isDigest(s: unknown): s is Digest {
  return typeof s === 'string' && SHA256_RE.test(s);
}

/** Checks and returns `s` as a digest, or throws InvalidContentError. */
export function toDigest(s: unknown, what = 'digest'): Digest {
  if (!isDigest(s)) throw new InvalidContentError(`invalid ${what}: ${String(s)}`);
  return s;
}

/** The hex part of a digest. */
export function hexOf(d: Digest): string {
  return d.slice('sha256:'.length);
}

/** The 12-hex short form docker shows for an image ID. */
export function shortId(d: Digest): string {
  return hexOf(d).slice(0, 12);
}

/** sha256 digest of a buffer. */
export function digestOf(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A Transform that hashes and counts what passes through it. */
export class DigestingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  /** Bytes seen so far. */
  size = 0;
  private result: Digest | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }

  /** The digest of everything that passed; valid once the stream has ended. */
  digest(): Digest {
    this.result ??= `sha256:${this.hash.digest('hex')}`;
    return this.result;
  }
}

/** Throws DigestMismatchError unless the content seen matches what was expected. */
export function verifyContent(
  expected: { digest?: Digest | undefined; size?: number | undefined },
  actual: { digest: Digest; size: number },
  what: string,
): void {
  if (expected.size !== undefined && expected.size !== actual.size) {
    throw new DigestMismatchError(
      `${what}: size mismatch: expected ${expected.size} bytes, got ${actual.size}`,
    );
  }
  if (expected.digest !== undefined && expected.digest !== actual.digest) {
    throw new DigestMismatchError(
      `${what}: digest mismatch: expected ${expected.digest}, got ${actual.digest}`,
    );
  }
}

/**
 * The chunks of `source`, hashed as they pass: more bytes than `d.size` fail at once, and at the
 * end the size and SHA-256 must be `d`'s (`what` names the blob in the error). The one check of a
 * streamed blob for every writer that is not the store's (archives, OCI layouts) and for reads.
 */
export async function* verifiedChunks(source: AsyncIterable<Buffer>, d: { digest: Digest; size: number }, what: string, progress?: (done: number) => void): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of source) {
    size += chunk.length;
    if (size > d.size) throw new DigestMismatchError(`${what}: size mismatch: more than the ${d.size} bytes expected`);
    hash.update(chunk);
    progress?.(size);
    yield chunk;
  }
  verifyContent(d, { digest: `sha256:${hash.digest('hex')}`, size }, what);
}
