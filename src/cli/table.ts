/** A table cell: its text, and how to colour it (applied after padding is measured on the text). */
export type Cell = string | { readonly text: string; readonly style: (text: string) => string };

const textOf = (cell: Cell): string => (typeof cell === 'string' ? cell : cell.text);

/** The width of each column: its longest cell. */
export function columnWidths(rows: readonly (readonly Cell[])[]): number[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, textOf(cell).length)));
  return widths;
}

/** One aligned line: cells padded to `widths` (measured without colour codes), two spaces apart. */
export function formatRow(cells: readonly Cell[], widths: readonly number[]): string {
  return cells
    .map((cell, i) => {
      const text = textOf(cell);
      const styled = typeof cell === 'string' ? text : cell.style(text);
      return i === cells.length - 1 ? styled : styled + ' '.repeat(Math.max(0, (widths[i] ?? 0) - text.length));
    })
    .join('  ')
    .trimEnd();
}

/** A whole table: header and rows aligned on the widest cell of each column. */
export function formatTable(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const widths = columnWidths([header, ...rows]);
  return [header, ...rows].map((row) => `${formatRow(row, widths)}\n`).join('');
}
