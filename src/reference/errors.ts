/**
 * Errors of the reference grammar. Every message is upstream's exact text: the error values of
 * github.com/distribution/reference (reference.go, normalize.go) and of go-digest v1.0.0.
 */
import { REPOSITORY_NAME_TOTAL_LENGTH_MAX } from './constants.js';

/** Upstream ErrReferenceInvalidFormat. */
export const ERR_REFERENCE_INVALID_FORMAT = 'invalid reference format';
/** Upstream ErrTagInvalidFormat. */
export const ERR_TAG_INVALID_FORMAT = 'invalid tag format';
/** Upstream ErrDigestInvalidFormat (of the reference package, raised by withDigest). */
export const ERR_DIGEST_INVALID_FORMAT = 'invalid digest format';
/** Upstream ErrNameContainsUppercase (raised by the non-normalizing parse). */
export const ERR_NAME_CONTAINS_UPPERCASE = 'repository name must be lowercase';
/** Upstream ErrNameEmpty. */
export const ERR_NAME_EMPTY = 'repository name must have at least one component';
/** Upstream ErrNameTooLong. */
export const ERR_NAME_TOO_LONG = `repository name must not be more than ${REPOSITORY_NAME_TOTAL_LENGTH_MAX} characters`;
/** Upstream ErrNameNotCanonical (raised by parseNamed). */
export const ERR_NAME_NOT_CANONICAL = 'repository name must be canonical';
/** go-digest ErrDigestInvalidFormat. */
export const ERR_CHECKSUM_DIGEST_INVALID_FORMAT = 'invalid checksum digest format';
/** go-digest ErrDigestInvalidLength. */
export const ERR_CHECKSUM_DIGEST_INVALID_LENGTH = 'invalid checksum digest length';
/** go-digest ErrDigestUnsupported. */
export const ERR_DIGEST_UNSUPPORTED = 'unsupported digest algorithm';
/** Go path.ErrBadPattern, raised by familiarMatch for a malformed pattern. */
export const ERR_BAD_PATTERN = 'syntax error in pattern';

/** ParseNormalizedNamed's message for a remote name that is not lowercase. */
export function nameNotLowercaseMessage(remote: string): string {
  return `invalid reference format: repository name (${remote}) must be lowercase`;
}

/** ParseNormalizedNamed's message for a bare 64-hex string. */
export function hexNameMessage(input: string): string {
  return `invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`;
}

/** A string that is not a valid image reference; `message` is docker's exact text. */
export class ReferenceFormatError extends Error {
  /** Machine-readable kind. */
  readonly code = 'INVALID_REFERENCE';
  /** Process exit code the CLI uses for this error. */
  exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'ReferenceFormatError';
  }
}

/** A malformed familiarMatch pattern (Go's path.ErrBadPattern). */
export class PatternSyntaxError extends Error {
  /** Machine-readable kind. */
  readonly code = 'BAD_PATTERN';
  /** Process exit code the CLI uses for this error. */
  exitCode = 1;
  constructor() {
    super(ERR_BAD_PATTERN);
    this.name = 'PatternSyntaxError';
  }
}
