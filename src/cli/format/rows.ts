/** Renders rows with a docker `--format` value: `json`, `table ...` (header + aligned columns) or a template. */
import { tabwrite } from './tabwriter.js';
import { Template, prepareFormat } from './template.js';

/** Renders `rows` with `format`; `headers` maps field names to column titles. */
export function renderRows(format: string, rows: object[], headers: Record<string, string>): string {
  if (format === 'json') format = '{{json .}}';
  const { table, body } = prepareFormat(format);
  const tmpl = new Template(body);
  const lines = rows.map((r) => tmpl.execute(r));
  if (!table) return lines.map((l) => `${l}\n`).join('');
  const header = tmpl.execute(new Proxy({}, { get: (_t, key) => headers[String(key)] ?? String(key).toUpperCase(), has: () => true }));
  return tabwrite([header, ...lines]);
}
