/**
 * The reference grammar, built exactly like github.com/distribution/reference regexp.go.
 * Go's RE2 picks submatches the way a backtracking engine would (leftmost-first), so the
 * same expressions give the same captures in JavaScript. No flags: `\w` and the classes
 * stay ASCII, and `$` only matches at the very end, as in Go.
 *
 *   reference        := name [ ":" tag ] [ "@" digest ]
 *   name             := [domain '/'] remote-name
 *   domain           := host [':' port-number]
 *   host             := domain-name | IPv4address | \[ IPv6address \]
 *   domain-name      := domain-component ['.' domain-component]*
 *   domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
 *   port-number      := /[0-9]+/
 *   path-component   := alpha-numeric [separator alpha-numeric]*
 *   path             := path-component ['/' path-component]*
 *   alpha-numeric    := /[a-z0-9]+/
 *   separator        := [_.] | __ | [-]+
 *   tag              := /[\w][\w.-]{0,127}/
 *   digest           := digest-algorithm ":" digest-hex
 *   digest-algorithm := component ([-_+.] component)* ; component = [A-Za-z][A-Za-z0-9]*
 *   digest-hex       := /[0-9a-fA-F]{32,}/
 *   identifier       := /[a-f0-9]{64}/
 */

/** Wraps the expressions in a non-capturing group and makes it optional. */
function optional(...res: string[]): string {
  return `(?:${res.join('')})?`;
}

/** Wraps the expressions in a non-capturing group repeated any number of times. */
function anyTimes(...res: string[]): string {
  return `(?:${res.join('')})*`;
}

/** Wraps the expressions in a capturing group. */
function capture(...res: string[]): string {
  return `(${res.join('')})`;
}

/** Anchors the expressions at the start and end of the input. */
function anchored(...res: string[]): string {
  return `^${res.join('')}$`;
}

/** The only lowercase characters and digits allowed in a path component. */
export const ALPHANUMERIC = '[a-z0-9]+';

/** Separators inside a path component: one period, one or two underscores, or any dashes. */
export const SEPARATOR = '(?:[._]|__|[-]+)';

/** The domain name that needs neither a '.' nor a ':port' to count as a registry. */
export const LOCALHOST = 'localhost';

/** One label of a registry domain name. */
export const DOMAIN_NAME_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';

/** An optional ':port'. */
export const OPTIONAL_PORT = '(?::[0-9]+)?';

/** A tag (from docker/docker graph/tags.go). */
export const TAG = '[\\w][\\w.-]{0,127}';

/** A well-formed digest, algorithm included (Go's `[[:xdigit:]]` spelled out). */
export const DIGEST_PAT = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}';

/** A content-addressable sha256 identifier: 64 lowercase hex characters. */
export const IDENTIFIER = '([a-f0-9]{64})';

/** A bracketed IPv6 address without zone identifier. */
export const IPV6_ADDRESS = '\\[(?:[a-fA-F0-9:]+)\\]';

/** A DNS-like domain name or a decimal IPv4 address. */
export const DOMAIN_NAME = `${DOMAIN_NAME_COMPONENT}(?:\\.${DOMAIN_NAME_COMPONENT})*`;

/** A domain name, IPv4 or bracketed IPv6 host. */
export const HOST = `(?:${DOMAIN_NAME}|${IPV6_ADDRESS})`;

/** A host with an optional port: the registry part of a name. */
export const DOMAIN_AND_PORT = HOST + OPTIONAL_PORT;

/** One path component of a repository path. */
export const PATH_COMPONENT = ALPHANUMERIC + anyTimes(SEPARATOR + ALPHANUMERIC);

/** A repository path ("remote name"): slash-separated path components. */
export const REMOTE_NAME = PATH_COMPONENT + anyTimes('/' + PATH_COMPONENT);

/** A name: optional domain plus path, without tag or digest. */
export const NAME_PAT = optional(DOMAIN_AND_PORT + '/') + REMOTE_NAME;

/** Anchored name with captures 1 = domain (may be absent) and 2 = path. */
export const ANCHORED_NAME_PAT = anchored(optional(capture(DOMAIN_AND_PORT), '/'), capture(REMOTE_NAME));

/** Anchored reference with captures 1 = name, 2 = tag, 3 = digest. */
export const REFERENCE_PAT = anchored(capture(NAME_PAT), optional(':', capture(TAG)), optional('@', capture(DIGEST_PAT)));

/** Matches a whole reference; groups: name, tag, digest. */
export const REFERENCE_REGEXP = new RegExp(REFERENCE_PAT);

/** Matches a whole name; groups: domain, path. */
export const ANCHORED_NAME_REGEXP = new RegExp(ANCHORED_NAME_PAT);

/** Matches a whole tag. */
export const ANCHORED_TAG_REGEXP = new RegExp(anchored(TAG));

/** Matches a whole digest per the reference grammar. */
export const ANCHORED_DIGEST_REGEXP = new RegExp(anchored(DIGEST_PAT));

/** Matches a whole 64-hex identifier. */
export const ANCHORED_IDENTIFIER_REGEXP = new RegExp(anchored(IDENTIFIER));

/** Matches a whole domain (host and optional port). */
export const ANCHORED_DOMAIN_REGEXP = new RegExp(anchored(DOMAIN_AND_PORT));
