/** Turning stored full references into what docker prints. */
import { parseReference } from '../reference/index.js';

/** `docker.io/library/apa000ex22:latest` -> `apa000ex22:latest`. */
export function familiarOf(full: string): string {
  return parseReference(full).familiar;
}

/** Splits a stored name into docker's REPOSITORY and TAG columns. */
export function repoTagOf(full: string): { repository: string; tag: string } {
  const ref = parseReference(full);
  return { repository: ref.familiarName, tag: ref.tag ?? '<none>' };
}
