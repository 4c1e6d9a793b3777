/**
 * helpers.go's FamiliarMatch and a port of the Go standard library's path.Match, the shell
 * pattern matcher it uses (`*`, `?`, `[...]`, `\` escapes; `*` and `?` never match '/').
 */
import { PatternSyntaxError } from './errors.js';
import { type ImageId, isImageId } from './normalize.js';
import type { Reference } from './reference.js';

/** Splits off the next chunk: a run without unbracketed '*', possibly preceded by stars. */
function scanChunk(pattern: string): { star: boolean; chunk: string; rest: string } {
  let star = false;
  while (pattern.length > 0 && pattern[0] === '*') {
    pattern = pattern.slice(1);
    star = true;
  }
  let inrange = false;
  for (let i = 0; i < pattern.length; i++) {
    switch (pattern[i]) {
      case '\\':
        // Error check handled in matchChunk: bad pattern.
        if (i + 1 < pattern.length) i++;
        break;
      case '[':
        inrange = true;
        break;
      case ']':
        inrange = false;
        break;
      case '*':
        if (!inrange) return { star, chunk: pattern.slice(0, i), rest: pattern.slice(i) };
        break;
    }
  }
  return { star, chunk: pattern, rest: '' };
}

/** The first code point of `s` and how many UTF-16 units it takes. */
function decodeRune(s: string): [rune: number, width: number] {
  const rune = s.codePointAt(0) ?? 0;
  return [rune, rune > 0xffff ? 2 : 1];
}

/** A possibly escaped character of a character class; throws on a malformed class. */
function getEsc(chunk: string): [rune: number, rest: string] {
  if (chunk.length === 0 || chunk[0] === '-' || chunk[0] === ']') throw new PatternSyntaxError();
  if (chunk[0] === '\\') {
    chunk = chunk.slice(1);
    if (chunk.length === 0) throw new PatternSyntaxError();
  }
  const [rune, width] = decodeRune(chunk);
  const rest = chunk.slice(width);
  if (rest.length === 0) throw new PatternSyntaxError();
  return [rune, rest];
}

/**
 * Whether `chunk` matches the start of `s`: the rest of `s`, or undefined when it does not.
 * Keeps parsing a failed chunk so that a malformed pattern always throws.
 */
function matchChunk(chunk: string, s: string): string | undefined {
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    const c = chunk[0];
    if (c === '[') {
      let rune = 0;
      if (!failed) {
        const [r, width] = decodeRune(s);
        rune = r;
        s = s.slice(width);
      }
      chunk = chunk.slice(1);
      let negated = false;
      if (chunk.length > 0 && chunk[0] === '^') {
        negated = true;
        chunk = chunk.slice(1);
      }
      let match = false;
      let nrange = 0;
      for (;;) {
        if (chunk.length > 0 && chunk[0] === ']' && nrange > 0) {
          chunk = chunk.slice(1);
          break;
        }
        let lo: number;
        [lo, chunk] = getEsc(chunk);
        let hi = lo;
        if (chunk[0] === '-') [hi, chunk] = getEsc(chunk.slice(1));
        if (lo <= rune && rune <= hi) match = true;
        nrange++;
      }
      if (match === negated) failed = true;
      continue;
    }
    if (c === '?') {
      if (!failed) {
        if (s[0] === '/') failed = true;
        s = s.slice(decodeRune(s)[1]);
      }
      chunk = chunk.slice(1);
      continue;
    }
    if (c === '\\') {
      chunk = chunk.slice(1);
      if (chunk.length === 0) throw new PatternSyntaxError();
    }
    if (!failed) {
      if (chunk[0] !== s[0]) failed = true;
      s = s.slice(1);
    }
    chunk = chunk.slice(1);
  }
  return failed ? undefined : s;
}

/** Go's path.Match: whether all of `name` matches the shell `pattern`; throws PatternSyntaxError. */
export function pathMatch(pattern: string, name: string): boolean {
  nextChunk: while (pattern.length > 0) {
    const scanned = scanChunk(pattern);
    const { star, chunk } = scanned;
    pattern = scanned.rest;
    // Trailing * matches the rest of the string unless it has a '/'.
    if (star && chunk === '') return !name.includes('/');
    // Look for a match at the current position; the last chunk must exhaust the name.
    const t = matchChunk(chunk, name);
    if (t !== undefined && (t.length === 0 || pattern.length > 0)) {
      name = t;
      continue;
    }
    if (star) {
      // Look for a match skipping i+1 characters; a star cannot skip '/'.
      for (let i = 0; i < name.length && name[i] !== '/'; i++) {
        const rest = matchChunk(chunk, name.slice(i + 1));
        if (rest !== undefined) {
          if (pattern.length === 0 && rest.length > 0) continue;
          name = rest;
          continue nextChunk;
        }
      }
    }
    // Before returning false, check that the remainder of the pattern is well-formed.
    while (pattern.length > 0) {
      const next = scanChunk(pattern);
      pattern = next.rest;
      matchChunk(next.chunk, '');
    }
    return false;
  }
  return name.length === 0;
}

/**
 * Upstream FamiliarMatch: `pattern` against the familiar string (`foo/bar:tag`), then, for a
 * named reference, against the familiar name alone. Throws PatternSyntaxError.
 */
export function familiarMatch(pattern: string, ref: Reference | ImageId): boolean {
  if (isImageId(ref)) return pathMatch(pattern, ref.id);
  return pathMatch(pattern, ref.familiar) || pathMatch(pattern, ref.familiarName);
}
