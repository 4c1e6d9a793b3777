/**
 * go-digest v1.0.0's `Digest.Validate`, which upstream's Parse runs on the digest part of a
 * reference: sha256, sha384 and sha512 are the known algorithms, each needing exactly
 * 2 * hash-size lowercase hex characters.
 */
import {
  ERR_CHECKSUM_DIGEST_INVALID_FORMAT,
  ERR_CHECKSUM_DIGEST_INVALID_LENGTH,
  ERR_DIGEST_UNSUPPORTED,
} from './errors.js';

/** go-digest's DigestRegexpAnchored (its own, looser digest syntax). */
const GO_DIGEST_ANCHORED_REGEXP = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** Hash size in bytes and the anchored encoded-part expression of each available algorithm. */
const ALGORITHMS: ReadonlyMap<string, { size: number; encoded: RegExp }> = new Map([
  ['sha256', { size: 32, encoded: /^[a-f0-9]{64}$/ }],
  ['sha384', { size: 48, encoded: /^[a-f0-9]{96}$/ }],
  ['sha512', { size: 64, encoded: /^[a-f0-9]{128}$/ }],
]);

/** Length in bytes, as Go's len() counts it. */
function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

/** go-digest's Validate: the error message for an invalid digest, or undefined when it is valid. */
export function digestError(digest: string): string | undefined {
  const i = digest.indexOf(':');
  if (i <= 0 || i + 1 === digest.length) return ERR_CHECKSUM_DIGEST_INVALID_FORMAT;
  const algorithm = ALGORITHMS.get(digest.slice(0, i));
  const encoded = digest.slice(i + 1);
  if (algorithm === undefined) {
    return GO_DIGEST_ANCHORED_REGEXP.test(digest) ? ERR_DIGEST_UNSUPPORTED : ERR_CHECKSUM_DIGEST_INVALID_FORMAT;
  }
  if (algorithm.size * 2 !== utf8Length(encoded)) return ERR_CHECKSUM_DIGEST_INVALID_LENGTH;
  return algorithm.encoded.test(encoded) ? undefined : ERR_CHECKSUM_DIGEST_INVALID_FORMAT;
}

/** True when go-digest would accept `digest` (e.g. `sha256:` + 64 lowercase hex). */
export function isValidDigest(digest: string): boolean {
  return digestError(digest) === undefined;
}
