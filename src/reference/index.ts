/**
 * Image references exactly as github.com/distribution/reference parses, normalizes and prints
 * them (ParseNormalizedNamed, ParseDockerRef, FamiliarString, ...). A leaf module: no I/O and
 * no imports from the rest of the project.
 *
 * Ported from github.com/distribution/reference: reference.go @ 0965666a6ade2e06035fe352e38344be1e68951a
 * (includes PR #9, the 255 limit counts the path only), normalize.go @ aeed5e66379bfcdf3b4c1393f132f90096bf7f8d,
 * regexp.go @ 00a09fa3799203fc887e667b0d82142ee831939a, helpers.go as in distribution/distribution
 * reference/helpers.go @ 3b0497541a824357ab00266d7c34ef42095cdd5a; digest checks from go-digest v1.0.0
 * (the version upstream's go.mod pins); familiarMatch from Go's path.Match (src/path/match.go).
 */
export {
  DEFAULT_DOMAIN,
  DEFAULT_TAG,
  LEGACY_DEFAULT_DOMAIN,
  NAME_TOTAL_LENGTH_MAX,
  OFFICIAL_REPO_PREFIX,
  REPOSITORY_NAME_TOTAL_LENGTH_MAX,
} from './constants.js';
export { digestError, isValidDigest } from './digest.js';
export {
  ERR_BAD_PATTERN,
  ERR_CHECKSUM_DIGEST_INVALID_FORMAT,
  ERR_CHECKSUM_DIGEST_INVALID_LENGTH,
  ERR_DIGEST_INVALID_FORMAT,
  ERR_DIGEST_UNSUPPORTED,
  ERR_NAME_CONTAINS_UPPERCASE,
  ERR_NAME_EMPTY,
  ERR_NAME_NOT_CANONICAL,
  ERR_NAME_TOO_LONG,
  ERR_REFERENCE_INVALID_FORMAT,
  ERR_TAG_INVALID_FORMAT,
  PatternSyntaxError,
  ReferenceFormatError,
} from './errors.js';
export { familiarizeName } from './familiar.js';
export { familiarMatch, pathMatch } from './match.js';
export {
  type ImageId,
  isFullIdentifier,
  isImageId,
  parseAnyReference,
  parseDockerRef,
  parseNamed,
  parseReference,
  splitDockerDomain,
  withDefaultTag,
} from './normalize.js';
export { type Reference, isNameOnly, parse, trimNamed, withDigest, withName, withTag } from './reference.js';
export {
  ANCHORED_DIGEST_REGEXP,
  ANCHORED_DOMAIN_REGEXP,
  ANCHORED_IDENTIFIER_REGEXP,
  ANCHORED_NAME_REGEXP,
  ANCHORED_TAG_REGEXP,
  REFERENCE_REGEXP,
} from './regexp.js';
