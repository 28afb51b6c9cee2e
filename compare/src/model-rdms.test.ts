import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseModelRdmSpec, readModelRdm, readModelRdms } from './model-rdms';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-model-rdms-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const ids = ['a', 'b', 'c', 'd'];
// Condensed order (a,b) (a,c) (a,d) (b,c) (b,d) (c,d).
const condensed = [1, 2, 3, 4, 5, 6];
const file = (name: string, text: string) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

describe('model RDM files', () => {
  it('reads a condensed vector as a CSV row or a TSV column', async () => {
    const row = await readModelRdm('m', file('row.csv', `${condensed.join(',')}\n`), ids);
    expect(Array.from(row.rdm)).toEqual(condensed);
    const column = await readModelRdm('m', file('col.tsv', `${condensed.join('\n')}\n`), ids);
    expect(Array.from(column.rdm)).toEqual(condensed);
  });

  it("reads a square CSV matrix with image ids, reordered to the set's order", async () => {
    // The file lists the images as d, c, b, a; (d,c) = 9 is the set's pair (c,d).
    const order = ['d', 'c', 'b', 'a'];
    const value = (x: string, y: string) =>
      x === y ? 0 : ({ cd: 9, bd: 8, ad: 7, bc: 6, ac: 5, ab: 4 } as Record<string, number>)[[x, y].sort().join('')]!;
    const text = [`,${order.join(',')}`, ...order.map((r) => `${r},${order.map((c) => value(r, c)).join(',')}`)].join(
      '\n',
    );
    const m = await readModelRdm('m', file('square.csv', text), ids);
    expect(Array.from(m.rdm)).toEqual([4, 5, 7, 6, 8, 9]);
  });

  it('reads JSON: a bare list or an object holding one RDM', async () => {
    const square = [
      [0, 1, 2, 3],
      [1, 0, 4, 5],
      [2, 4, 0, 6],
      [3, 5, 6, 0],
    ];
    expect(Array.from((await readModelRdm('m', file('list.json', JSON.stringify(square)), ids)).rdm)).toEqual(
      condensed,
    );
    const obj = await readModelRdm('m', file('obj.json', JSON.stringify({ animacy: condensed })), ids);
    expect(Array.from(obj.rdm)).toEqual(condensed);
  });

  it('refuses files with several RDMs, malformed specs and repeated names', async () => {
    const two = file('two.json', JSON.stringify({ x: condensed, y: condensed }));
    await expect(readModelRdm('m', two, ids)).rejects.toThrow(/holds 2 RDMs .* a model RDM file holds one/);
    expect(() => parseModelRdmSpec('faces.tsv')).toThrow(/expected <name>=<file>/);
    expect(parseModelRdmSpec('faces=dir/a=b.tsv')).toEqual({ name: 'faces', path: 'dir/a=b.tsv' });
    const p = file('ok.tsv', condensed.join('\t'));
    await expect(readModelRdms([`x=${p}`, `x=${p}`], ids)).rejects.toThrow(/"x" is given twice/);
    await expect(readModelRdm('m', file('flat.tsv', '1\t1\t1\t1\t1\t1'), ids)).rejects.toThrow(
      /all 6 dissimilarities are equal/,
    );
  });
});
