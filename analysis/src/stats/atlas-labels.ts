/**
 * Names of atlas labels from a TSV (BIDS `dseg.tsv` layout): a header row with the columns
 * `index` (the integer value in the label image) and `name`; other columns are ignored.
 */
import { InputError } from '@orthostim/protocol';

export function parseAtlasLabels(text: string, source: string): Map<number, string> {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split('\t').map((h) => h.trim());
  const iIndex = header.indexOf('index');
  const iName = header.indexOf('name');
  if (iIndex < 0 || iName < 0) {
    throw new InputError(
      `${source}: line 1: the header must have the columns "index" and "name" (tab-separated); got ${JSON.stringify(lines[0] ?? '')}`,
    );
  }
  const names = new Map<number, string>();
  for (let l = 1; l < lines.length; l++) {
    const line = lines[l]!;
    if (line.trim() === '') continue;
    const cells = line.split('\t');
    const raw = (cells[iIndex] ?? '').trim();
    const index = Number(raw);
    if (raw === '' || !Number.isInteger(index)) {
      throw new InputError(
        `${source}: line ${l + 1}: column "index" must be an integer label value; got ${JSON.stringify(raw)}`,
      );
    }
    if (names.has(index)) throw new InputError(`${source}: line ${l + 1}: label ${index} is listed twice`);
    names.set(index, (cells[iName] ?? '').trim());
  }
  return names;
}
