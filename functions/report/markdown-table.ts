/** Markdown tables for the report's sections. Pure. */

/** A table cell's value; `undefined` and `''` render as an en dash. */
export type Cell = string | number | undefined;

/** Escapes text for a Markdown table cell (pipes, line breaks). */
export function cell(value: Cell): string {
  if (value === undefined || value === '') return '–';
  return String(value).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A table with a header row. */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string[] {
  return [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
}
