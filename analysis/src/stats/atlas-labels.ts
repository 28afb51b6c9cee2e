/**
 * Names of atlas labels from a TSV (BIDS `dseg.tsv` layout): a header row with the columns
 * `index` (the integer value in the label image) and `name`; other columns are ignored.
 */
import { InputError, parseTsv } from '@orthostim/protocol';

export function parseAtlasLabels(text: string, source: string): Map<number, string> {
  const { columns, rows } = parseTsv(text);
  const iIndex = columns.indexOf('index');
  const iName = columns.indexOf('name');
  if (iIndex < 0 || iName < 0) {
    throw new InputError(
      `${source}: line 1: the header must have the columns "index" and "name" (tab-separated); got ${JSON.stringify(text.split(/\r?\n/)[0] ?? '')}`,
    );
  }
  const names = new Map<number, string>();
  for (const { line, cells } of rows) {
    const raw = (cells[iIndex] ?? '').trim();
    const index = Number(raw);
    if (raw === '' || !Number.isInteger(index)) {
      throw new InputError(
        `${source}: line ${line}: column "index" must be an integer label value; got ${JSON.stringify(raw)}`,
      );
    }
    if (names.has(index)) throw new InputError(`${source}: line ${line}: label ${index} is listed twice`);
    names.set(index, (cells[iName] ?? '').trim());
  }
  return names;
}
