/** Go's strings.ToLower for comparisons: a per-character (simple) lowercase mapping. */

/**
 * Lowercases one code point at a time, like Go's unicode.ToLower: no context rules (final
 * sigma) and U+0130 (İ) maps to a plain `i` as in Go, where JavaScript would add a combining dot.
 */
export function goToLower(s: string): string {
  let out = '';
  for (const ch of s) out += ch === '\u0130' ? 'i' : ch.toLowerCase();
  return out;
}
