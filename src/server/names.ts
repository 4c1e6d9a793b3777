/** Repository names and tags as the distribution spec allows them (no `..`, no upper case, no traversal). */

const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** True for a valid repository name (at most 255 characters). */
export function isRepoName(s: string): boolean {
  return s.length <= 255 && NAME_RE.test(s);
}

/** True for a valid tag. */
export function isTag(s: string): boolean {
  return TAG_RE.test(s);
}
