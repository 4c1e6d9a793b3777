/** Go's tabwriter as docker configures it (minwidth 10, padding 3, spaces): aligned table columns. */

/** Aligns tab-separated lines; the last cell of a line is never padded. */
export function tabwrite(lines: string[], minWidth = 10, padding = 3): string {
  const rows = lines.map((l) => l.split('\t'));
  const widths: number[] = [];
  for (const cells of rows) {
    cells.slice(0, -1).forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? minWidth, c.length + padding);
    });
  }
  return rows
    .map((cells) => cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(widths[i]!) : c)).join(''))
    .map((l) => `${l}\n`)
    .join('');
}
