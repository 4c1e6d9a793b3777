/**
 * The reference value and the non-normalizing operations of github.com/distribution/reference
 * reference.go: Parse, WithName, WithTag, WithDigest, TrimNamed and helpers.go's IsNameOnly.
 */
import { REPOSITORY_NAME_TOTAL_LENGTH_MAX } from './constants.js';
import { digestError } from './digest.js';
import {
  ERR_DIGEST_INVALID_FORMAT,
  ERR_NAME_CONTAINS_UPPERCASE,
  ERR_NAME_EMPTY,
  ERR_NAME_TOO_LONG,
  ERR_REFERENCE_INVALID_FORMAT,
  ERR_TAG_INVALID_FORMAT,
  ReferenceFormatError,
} from './errors.js';
import { familiarizeName, joinName } from './familiar.js';
import { ANCHORED_DIGEST_REGEXP, ANCHORED_NAME_REGEXP, ANCHORED_TAG_REGEXP, REFERENCE_REGEXP } from './regexp.js';
import { goToLower } from './to-lower.js';

/** A parsed image reference: `domain/path[:tag][@digest]`. */
export interface Reference {
  /** Registry domain, e.g. `docker.io`, `zoozoo.coomm`, `localhost:5000`; empty only from the non-normalizing parse. */
  domain: string;
  /** Repository path, e.g. `library/ubuntu`, `nyapacchi`. */
  path: string;
  /** Tag, when the reference has one. */
  tag?: string;
  /** Digest (`sha256:<64 hex>`), when the reference has one. */
  digest?: string;
  /** `domain/path`, e.g. `docker.io/library/ubuntu` (upstream Name()). */
  readonly name: string;
  /** Name plus `:tag` and `@digest` when present (upstream String()). */
  readonly full: string;
  /** FamiliarString: `ubuntu:latest`, `zoozoo.coomm/nyapacchi:13`, `user/app@sha256:...`. */
  readonly familiar: string;
  /** FamiliarName: `ubuntu`, `zoozoo.coomm/nyapacchi`, `localhost:5000/a`. */
  readonly familiarName: string;
}

/** The one Reference implementation; optional parts are only set when present. */
class ParsedReference implements Reference {
  declare tag?: string;
  declare digest?: string;

  constructor(
    public domain: string,
    public path: string,
    tag?: string,
    digest?: string,
  ) {
    if (tag !== undefined) this.tag = tag;
    if (digest !== undefined) this.digest = digest;
  }

  get name(): string {
    return joinName(this.domain, this.path);
  }

  get full(): string {
    return withSuffixes(this.name, this.tag, this.digest);
  }

  get familiarName(): string {
    const f = familiarizeName(this.domain, this.path);
    return joinName(f.domain, f.path);
  }

  get familiar(): string {
    return withSuffixes(this.familiarName, this.tag, this.digest);
  }

  toString(): string {
    return this.full;
  }
}

/** `name[:tag][@digest]`. */
function withSuffixes(name: string, tag: string | undefined, digest: string | undefined): string {
  return name + (tag !== undefined ? `:${tag}` : '') + (digest !== undefined ? `@${digest}` : '');
}

/** Builds a reference from already validated parts. */
function make(domain: string, path: string, tag?: string, digest?: string): Reference {
  return new ParsedReference(domain, path, tag, digest);
}

/**
 * Upstream Parse: the bare grammar with no docker normalization (`ubuntu` keeps an empty
 * domain). Throws ReferenceFormatError with upstream's message.
 */
export function parse(input: string): Reference {
  if (input === '') throw new ReferenceFormatError(ERR_NAME_EMPTY);
  const matches = REFERENCE_REGEXP.exec(input);
  if (matches === null) {
    const lower = goToLower(input);
    // Succeeds when lower-casing, so the input contains an invalid (uppercase) repository name.
    if (lower !== input && REFERENCE_REGEXP.test(lower)) throw new ReferenceFormatError(ERR_NAME_CONTAINS_UPPERCASE);
    throw new ReferenceFormatError(ERR_REFERENCE_INVALID_FORMAT);
  }
  const name = matches[1] ?? '';
  const tag = matches[2];
  const digest = matches[3];
  const nameMatch = ANCHORED_NAME_REGEXP.exec(name);
  const domain = nameMatch ? (nameMatch[1] ?? '') : '';
  const path = nameMatch ? (nameMatch[2] ?? '') : name;
  if (path.length > REPOSITORY_NAME_TOTAL_LENGTH_MAX) throw new ReferenceFormatError(ERR_NAME_TOO_LONG);
  if (digest !== undefined) {
    const err = digestError(digest);
    if (err !== undefined) throw new ReferenceFormatError(err);
  }
  return make(domain, path, tag, digest);
}

/** Upstream WithName: a name-only reference from `[domain/]path`, no normalization. */
export function withName(name: string): Reference {
  const match = ANCHORED_NAME_REGEXP.exec(name);
  if (match === null) throw new ReferenceFormatError(ERR_REFERENCE_INVALID_FORMAT);
  const path = match[2] ?? '';
  if (path.length > REPOSITORY_NAME_TOTAL_LENGTH_MAX) throw new ReferenceFormatError(ERR_NAME_TOO_LONG);
  return make(match[1] ?? '', path);
}

/** Upstream WithTag: `ref` with its tag set to `tag` (any digest is kept). */
export function withTag(ref: Reference, tag: string): Reference {
  if (!ANCHORED_TAG_REGEXP.test(tag)) throw new ReferenceFormatError(ERR_TAG_INVALID_FORMAT);
  return make(ref.domain, ref.path, tag, ref.digest);
}

/** Upstream WithDigest: `ref` with its digest set (grammar check only, like upstream; any tag is kept). */
export function withDigest(ref: Reference, digest: string): Reference {
  if (!ANCHORED_DIGEST_REGEXP.test(digest)) throw new ReferenceFormatError(ERR_DIGEST_INVALID_FORMAT);
  return make(ref.domain, ref.path, ref.tag, digest);
}

/** Upstream TrimNamed: `ref` without tag and digest. */
export function trimNamed(ref: Reference): Reference {
  return make(ref.domain, ref.path);
}

/** Upstream IsNameOnly: true when `ref` has neither tag nor digest. */
export function isNameOnly(ref: Reference): boolean {
  return ref.tag === undefined && ref.digest === undefined;
}
