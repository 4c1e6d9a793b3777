/** Parsing `WWW-Authenticate` challenges (RFC 7235), as registries send them. */

/** One challenge: its scheme and parameters (names lowercased). */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses a header value into its challenges (`Bearer realm="...",service="..."`). */
export function parseChallenges(header: string | undefined): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  const re = /\s*([A-Za-z][\w!#$%&'*+.^`|~-]*)(?:\s+|$)|\s*,?\s*([\w!#$%&'*+.^`|~-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/y;
  let pos = 0;
  let current: Challenge | undefined;
  while (pos < header.length) {
    re.lastIndex = pos;
    const m = re.exec(header);
    if (!m || re.lastIndex === pos) break;
    pos = re.lastIndex;
    if (m[1] !== undefined && m[2] === undefined) {
      current = { scheme: m[1].toLowerCase(), params: {} };
      out.push(current);
    } else if (current && m[2] !== undefined) {
      current.params[m[2].toLowerCase()] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : (m[4] ?? '');
    }
  }
  return out;
}
