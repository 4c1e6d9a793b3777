/**
 * A subset of Go's text/template, enough for docker's `--format`: text, `{{.Field.Sub}}`,
 * `{{.}}`, functions (`json`, `upper`, `lower`, `title`, `join`, `println`, `index`,
 * `truncate`, `pad`), pipes (`{{.X | json}}`), and the `table` prefix handled by the caller.
 */
import { InvalidArgumentError } from '../../errors.js';

type Value = unknown;
type Token = { kind: 'field'; path: string[] } | { kind: 'string'; value: string } | { kind: 'number'; value: number } | { kind: 'ident'; name: string };
type Command = Token[];
type Part = { text: string } | { pipeline: Command[] };

/** Go's json.Marshal escaping of `<`, `>` and `&`, which docker's `json` output shows. */
export function goJson(v: Value): string {
  return JSON.stringify(v ?? null).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/** Go's `fmt` rendering of a value (`[a b]` for slices, `map[k:v]` for maps, `<no value>` for nothing). */
export function goPrint(v: Value): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goPrint).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `map[${Object.keys(o).sort().map((k) => `${k}:${goPrint(o[k])}`).join(' ')}]`;
  }
  return String(v);
}

const FUNCS: Record<string, (...args: Value[]) => Value> = {
  json: (v) => goJson(v),
  upper: (v) => String(v).toUpperCase(),
  lower: (v) => String(v).toLowerCase(),
  title: (v) => String(v).replace(/\b\w/g, (c) => c.toUpperCase()),
  join: (v, sep) => (Array.isArray(v) ? v.map(goPrint).join(String(sep)) : goPrint(v)),
  println: (...vs) => `${vs.map(goPrint).join(' ')}\n`,
  index: (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[String(k)] : undefined),
  truncate: (v, n) => String(v).slice(0, Number(n)),
  pad: (v, l, r) => `${' '.repeat(Number(l))}${String(v)}${' '.repeat(Number(r))}`,
};

function tokenize(src: string, template: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|(-?\d+(?:\.\d+)?)|(\.[\w.]*)|([A-Za-z_]\w*)|(\|))/y;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < src.length && src.slice(pos).trim() !== '') {
    re.lastIndex = pos;
    m = re.exec(src);
    if (!m) throw new InvalidArgumentError(`template parsing error: template: ${template}: unexpected "${src.slice(pos).trim()}" in command`);
    pos = re.lastIndex;
    if (m[1] !== undefined) tokens.push({ kind: 'string', value: JSON.parse(`"${m[1]}"`) as string });
    else if (m[2] !== undefined) tokens.push({ kind: 'number', value: Number(m[2]) });
    else if (m[3] !== undefined) tokens.push({ kind: 'field', path: m[3].split('.').filter(Boolean) });
    else if (m[4] !== undefined) tokens.push({ kind: 'ident', name: m[4] });
    else tokens.push({ kind: 'ident', name: '|' });
  }
  return tokens;
}

/** A parsed template, executable against many values. */
export class Template {
  private readonly parts: Part[] = [];

  /**
   * `maps`: objects are Go maps, as in docker's fallback to the raw JSON: a missing key renders
   * `<no value>` instead of failing with "can't evaluate field".
   */
  constructor(
    readonly source: string,
    private readonly opts: { maps?: boolean } = {},
  ) {
    let rest = source;
    while (rest.length > 0) {
      const open = rest.indexOf('{{');
      if (open < 0) {
        this.parts.push({ text: rest });
        break;
      }
      if (open > 0) this.parts.push({ text: rest.slice(0, open) });
      const close = rest.indexOf('}}', open);
      if (close < 0) throw new InvalidArgumentError(`template parsing error: template: ${source}: unclosed action`);
      const tokens = tokenize(rest.slice(open + 2, close).replace(/^-\s|\s-$/g, ''), source);
      const pipeline: Command[] = [[]];
      for (const t of tokens) {
        if (t.kind === 'ident' && t.name === '|') pipeline.push([]);
        else pipeline.at(-1)!.push(t);
      }
      for (const cmd of pipeline) {
        const head = cmd[0];
        if (!head) throw new InvalidArgumentError(`template parsing error: template: ${source}: missing value for command`);
        if (head.kind === 'ident' && !(head.name in FUNCS)) {
          throw new InvalidArgumentError(`template parsing error: template: ${source}: function "${head.name}" not defined`);
        }
      }
      this.parts.push({ pipeline });
      rest = rest.slice(close + 2);
    }
  }

  /** Renders the template with `dot` as `.`. */
  execute(dot: Value): string {
    return this.parts.map((p) => ('text' in p ? p.text : this.render(p.pipeline, dot))).join('');
  }

  private render(pipeline: Command[], dot: Value): string {
    let piped: Value = undefined;
    let first = true;
    for (const cmd of pipeline) {
      const args = cmd.map((t) => this.value(t, dot));
      const head = cmd[0]!;
      if (head.kind === 'ident') {
        const fnArgs = args.slice(1);
        if (!first) fnArgs.push(piped);
        piped = FUNCS[head.name]!(...fnArgs);
      } else {
        piped = args[0];
      }
      first = false;
    }
    return typeof piped === 'string' ? piped : goPrint(piped);
  }

  private value(t: Token, dot: Value): Value {
    if (t.kind === 'string' || t.kind === 'number') return t.value;
    if (t.kind === 'ident') return undefined;
    let v: Value = dot;
    for (const key of t.path) {
      if (v === null || typeof v !== 'object') {
        throw new InvalidArgumentError(`template: ${this.source}: can't evaluate field ${key}`);
      }
      const o = v as Record<string, unknown>;
      if (!(key in o)) {
        if (this.opts.maps) return undefined;
        throw new InvalidArgumentError(`template: ${this.source}: can't evaluate field ${key} in type ${typeName(v)}`);
      }
      v = o[key];
    }
    return v;
  }
}

function typeName(v: Value): string {
  return Array.isArray(v) ? 'slice' : typeof v === 'object' ? 'struct' : typeof v;
}

/** docker's pre-processing of a `--format` value: `table` prefix split off, `\t` and `\n` unescaped. */
export function prepareFormat(format: string): { table: boolean; body: string } {
  const table = format.startsWith('table');
  const body = (table ? format.slice('table'.length) : format).trim().replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  return { table, body };
}
