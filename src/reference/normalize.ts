/**
 * Docker's normalization, as github.com/distribution/reference normalize.go:
 * ParseNormalizedNamed, ParseNamed, ParseDockerRef, TagNameOnly, ParseAnyReference.
 */
import { DEFAULT_DOMAIN, DEFAULT_TAG, LEGACY_DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX } from './constants.js';
import { isValidDigest } from './digest.js';
import { ERR_NAME_NOT_CANONICAL, ReferenceFormatError, hexNameMessage, nameNotLowercaseMessage } from './errors.js';
import { type Reference, isNameOnly, parse, withDigest, withName, withTag } from './reference.js';
import { ANCHORED_IDENTIFIER_REGEXP, LOCALHOST } from './regexp.js';
import { goToLower } from './to-lower.js';

/** An image ID from parseAnyReference: `sha256:<64 hex>` (upstream's digestReference). */
export interface ImageId {
  /** The digest, e.g. `sha256:dbcc1c35...`. */
  id: string;
}

/** True when `s` is a full 64-hex image identifier (upstream anchoredIdentifierRegexp). */
export function isFullIdentifier(s: string): boolean {
  return ANCHORED_IDENTIFIER_REGEXP.test(s);
}

/** Narrows a parseAnyReference result to an image ID. */
export function isImageId(ref: Reference | ImageId): ref is ImageId {
  return 'id' in ref;
}

/**
 * Upstream splitDockerDomain: `[domain, remoteName]`. The first component is a domain when it
 * is `localhost`, contains '.' or ':', or is not lowercase; `index.docker.io` becomes
 * `docker.io`, and single components on docker.io get `library/`. Any tag stays on remoteName.
 */
export function splitDockerDomain(name: string): [domain: string, remoteName: string] {
  const slash = name.indexOf('/');
  if (slash < 0) return [DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + name];
  const maybeDomain = name.slice(0, slash);
  const maybeRemoteName = name.slice(slash + 1);
  let domain: string;
  let remoteName: string;
  if (maybeDomain === LOCALHOST) {
    [domain, remoteName] = [maybeDomain, maybeRemoteName];
  } else if (maybeDomain === LEGACY_DEFAULT_DOMAIN) {
    [domain, remoteName] = [DEFAULT_DOMAIN, maybeRemoteName];
  } else if (maybeDomain.includes('.') || maybeDomain.includes(':')) {
    [domain, remoteName] = [maybeDomain, maybeRemoteName];
  } else if (goToLower(maybeDomain) !== maybeDomain) {
    [domain, remoteName] = [maybeDomain, maybeRemoteName];
  } else {
    [domain, remoteName] = [DEFAULT_DOMAIN, name];
  }
  if (domain === DEFAULT_DOMAIN && !remoteName.includes('/')) remoteName = OFFICIAL_REPO_PREFIX + remoteName;
  return [domain, remoteName];
}

/**
 * Upstream ParseNormalizedNamed: docker's parsing of a user-typed name into a fully qualified
 * reference (`ubuntu` -> `docker.io/library/ubuntu`). Throws ReferenceFormatError.
 */
export function parseReference(input: string): Reference {
  if (ANCHORED_IDENTIFIER_REGEXP.test(input)) throw new ReferenceFormatError(hexNameMessage(input));
  const [domain, remainder] = splitDockerDomain(input);
  const tagSep = remainder.indexOf(':');
  const remote = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (goToLower(remote) !== remote) throw new ReferenceFormatError(nameNotLowercaseMessage(remote));
  // Upstream's "reference %s has no name" cannot happen: the domain is never empty here.
  return parse(`${domain}/${remainder}`);
}

/** Upstream ParseNamed: like parseReference, but the input must already be canonical (full). */
export function parseNamed(input: string): Reference {
  const named = parseReference(input);
  if (named.full !== input) throw new ReferenceFormatError(ERR_NAME_NOT_CANONICAL);
  return named;
}

/** Upstream TagNameOnly: adds the `latest` tag when `ref` has neither tag nor digest. */
export function withDefaultTag(ref: Reference): Reference {
  return isNameOnly(ref) ? withTag(ref, DEFAULT_TAG) : ref;
}

/**
 * Upstream ParseDockerRef: normalized, `latest` added when there is neither tag nor digest,
 * and only the digest kept when there are both.
 */
export function parseDockerRef(input: string): Reference {
  const named = parseReference(input);
  if (named.tag !== undefined && named.digest !== undefined) {
    return withDigest(withName(named.name), named.digest);
  }
  return withDefaultTag(named);
}

/**
 * Upstream ParseAnyReference: a 64-hex string or a valid digest is an image ID
 * (`{ id: 'sha256:...' }`); anything else goes through parseReference.
 */
export function parseAnyReference(input: string): Reference | ImageId {
  if (ANCHORED_IDENTIFIER_REGEXP.test(input)) return { id: `sha256:${input}` };
  if (isValidDigest(input)) return { id: input };
  return parseReference(input);
}
