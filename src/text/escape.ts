/**
 * Making untrusted text safe for a terminal. A leaf module (imports nothing of ours), so every
 * layer may use it: text that came from the network (a registry's error message, a token
 * service's body, a header value) may hold NUL, ESC and OSC sequences that would recolour the
 * terminal, move its cursor, set its title or hide what follows. Such characters are shown as
 * visible escapes instead, in the style of Go's `%q` without the quotes.
 */

// C0 controls except tab, DEL, C1 controls, the line/paragraph separators and the bidi
// embedding/override/isolate controls ("Trojan Source": they reorder what the terminal shows).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const ANY_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\u0007': '\\a', '\b': '\\b', '\f': '\\f', '\v': '\\v' };

function visible(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const n = c.charCodeAt(0);
  return n < 0x80 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every control character made visible: ESC -> `\x1b`, NUL -> `\x00`, newline ->
 * `\n`, BEL -> `\a`, C1 (U+0080-U+009F) and bidi controls -> `\u009b` style. Tab and all
 * printable text (any script) pass unchanged; the result is always one line.
 */
export function escapeControl(text: string): string {
  return ANY_CONTROL.test(text) ? text.replace(CONTROL, visible) : text;
}

/** True when {@link escapeControl} would change `text`. */
export function hasControl(text: string): boolean {
  return ANY_CONTROL.test(text);
}

/**
 * Untrusted text for a one-line message: control characters escaped (see {@link escapeControl})
 * and cut to `max` characters (default 400) with `...`, so a server cannot flood the terminal.
 */
export function quoteUntrusted(text: string, max = 400): string {
  const cut = text.length > max ? `${text.slice(0, max)}...` : text;
  return escapeControl(cut);
}
