/** escapeControl: control characters from the network become visible escapes, everything else passes. */
import { describe, expect, it } from 'vitest';
import { escapeControl, hasControl, quoteUntrusted } from '../../../src/text/escape.js';

describe('escapeControl', () => {
  it('escapes C0, DEL and C1 like Go %q without the quotes', () => {
    expect(escapeControl('\u0000\u001b[31mRED\u001b[0m\u001b]0;pwned\u0007\r\n')).toBe('\\x00\\x1b[31mRED\\x1b[0m\\x1b]0;pwned\\a\\r\\n');
    expect(escapeControl('a\u007fb\u0085c\u009bd')).toBe('a\\x7fb\\u0085c\\u009bd');
    expect(escapeControl('\b\f\v\u0001')).toBe('\\b\\f\\v\\x01');
  });

  it('escapes line separators and bidi overrides', () => {
    expect(escapeControl('x\u2028y\u202ez\u2066')).toBe('x\\u2028y\\u202ez\\u2066');
  });

  it('leaves tab, printable ASCII and other scripts alone', () => {
    const s = 'tab\there: "quoted" \\x1b literal, été, 日本語, emoji 🐳';
    expect(escapeControl(s)).toBe(s);
    expect(hasControl(s)).toBe(false);
  });

  it('the result is one line with no raw control characters', () => {
    let all = '';
    for (let c = 0; c < 0x100; c++) all += String.fromCharCode(c);
    const out = escapeControl(all);
    expect(out).not.toMatch(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/);
    expect(out.split('\n')).toHaveLength(1);
  });

  it('quoteUntrusted cuts long text', () => {
    expect(quoteUntrusted('a'.repeat(500), 10)).toBe('aaaaaaaaaa...');
    expect(quoteUntrusted('\u001b', 10)).toBe('\\x1b');
  });
});
