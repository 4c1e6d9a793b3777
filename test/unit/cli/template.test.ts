import { describe, expect, it } from 'vitest';
import { Template, goJson, prepareFormat } from '../../../src/cli/format/template.js';
import { renderRows } from '../../../src/cli/format/rows.js';

const row = { Repository: 'apa000ex22', Tag: 'latest', ID: 'abc', Labels: { a: '1' }, List: ['x', 'y'] };

describe('Template', () => {
  it.each([
    ['{{.Repository}}:{{.Tag}}', 'apa000ex22:latest'],
    ['{{ .Repository }}', 'apa000ex22'],
    ['{{json .Tag}}', '"latest"'],
    ['{{.Tag | upper}}', 'LATEST'],
    ['{{upper .Tag}}', 'LATEST'],
    ['{{join .List ","}}', 'x,y'],
    ['{{.List}}', '[x y]'],
    ['{{.Labels}}', 'map[a:1]'],
    ['{{index .Labels "a"}}', '1'],
    ['{{.Labels.a}}', '1'],
  ])('%s', (src, want) => expect(new Template(src).execute(row)).toBe(want));

  it('refuses unknown functions and fields with one-line errors', () => {
    expect(() => new Template('{{nope .X}}')).toThrow(/function "nope" not defined/);
    expect(() => new Template('{{.Nope}}').execute(row)).toThrow(/can't evaluate field Nope/);
    expect(() => new Template('{{.X')).toThrow(/unclosed action/);
  });

  it('escapes like Go json', () => expect(goJson({ a: '<none>' })).toBe('{"a":"\\u003cnone\\u003e"}'));

  it('splits the table prefix and unescapes \\t', () => {
    expect(prepareFormat('table {{.A}}\\t{{.B}}')).toEqual({ table: true, body: '{{.A}}\t{{.B}}' });
    expect(prepareFormat('{{.A}}')).toEqual({ table: false, body: '{{.A}}' });
  });

  it('renders tables with docker headers', () => {
    const out = renderRows('table {{.Repository}}\\t{{.ID}}', [row], { Repository: 'REPOSITORY', ID: 'IMAGE ID' });
    expect(out).toBe('REPOSITORY   IMAGE ID\napa000ex22   abc\n');
    expect(renderRows('json', [{ A: 1 }], {})).toBe('{"A":1}\n');
  });
});
