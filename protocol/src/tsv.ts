/**
 * Tab-separated tables as BIDS writes them: one header row, one line per row, `n/a` for a missing
 * value, no quoting (so no cell may hold a tab or a line break). The one TSV codec of orthostim;
 * formats with their own columns (events.tsv, dseg.tsv, result tables) build on it.
 */
import { InputError } from './errors';

export type TsvCell = string | number | null | undefined;

function formatCell(value: TsvCell, column: string): string {
  if (value === null || value === undefined) return 'n/a';
  if (typeof value === 'number') return Number.isNaN(value) ? 'n/a' : String(value);
  if (/[\t\n\r]/.test(value))
    throw new InputError(`TSV column ${column}: value ${JSON.stringify(value)} contains a tab or line break`);
  return value;
}

/** The text of a table: the header, then each row, every line ending in a newline. */
export function formatTsv(columns: readonly string[], rows: readonly (readonly TsvCell[])[]): string {
  const lines = [columns.map((c) => formatCell(c, 'header')).join('\t')];
  for (const [r, row] of rows.entries()) {
    if (row.length !== columns.length)
      throw new RangeError(`formatTsv: row ${r + 1} has ${row.length} cells; the header has ${columns.length}`);
    lines.push(row.map((cell, i) => formatCell(cell, columns[i]!)).join('\t'));
  }
  return `${lines.join('\n')}\n`;
}

export interface TsvTable {
  /** Header cells, trimmed. */
  columns: string[];
  /** Data rows (blank lines skipped), each with its 1-based line number in the file for messages. */
  rows: { line: number; cells: string[] }[];
}

/** Split a TSV text into its header and rows (LF or CRLF line ends); cells are left as written. */
export function parseTsv(text: string): TsvTable {
  const lines = text.split(/\r?\n/);
  const columns = (lines[0] ?? '').split('\t').map((h) => h.trim());
  const rows: TsvTable['rows'] = [];
  for (let l = 1; l < lines.length; l++) {
    const line = lines[l]!;
    if (line.trim() !== '') rows.push({ line: l + 1, cells: line.split('\t') });
  }
  return { columns, rows };
}
