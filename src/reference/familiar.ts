/** Upstream familiarizeName: the short name docker shows (`docker.io/library/redis` -> `redis`). */
import { DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX } from './constants.js';

/** Drops the docker.io domain, and `library/` when what remains is a single component. */
export function familiarizeName(domain: string, path: string): { domain: string; path: string } {
  if (domain !== DEFAULT_DOMAIN) return { domain, path };
  if (path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const remainder = path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!remainder.includes('/')) return { domain: '', path: remainder };
  }
  return { domain: '', path };
}

/** Joins domain and path the way upstream's repository.Name() does (no slash without a domain). */
export function joinName(domain: string, path: string): string {
  return domain === '' ? path : `${domain}/${path}`;
}
