import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import h5wasm from 'h5wasm/node';
import { readBrainRdms, readBrainRdmsFiles, rdmsFromArray } from './brain-rdms';
import { encodeMatV5 } from '../test/mat-v5-writer';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-brain-rdms-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const IDS = ['a', 'b', 'c', 'd'];
// Condensed order for 4 images: (a,b) (a,c) (a,d) (b,c) (b,d) (c,d).
const R1 = [1, 2, 3, 4, 5, 6];
const R2 = [6, 5, 4, 3, 2, 1];
const R3 = [2, 1, 4, 3, 6, 5];

/** Square form of a condensed RDM, row-major rows. */
function square(c: number[]): number[][] {
  const m = IDS.map(() => IDS.map(() => 0));
  let k = 0;
  for (let i = 0; i < 4; i++)
    for (let j = i + 1; j < 4; j++) {
      m[i]![j] = c[k]!;
      m[j]![i] = c[k++]!;
    }
  return m;
}
/** Column-major flattening of MATLAB dims (any rank) from an accessor. */
function columnMajor(dims: number[], at: (...idx: number[]) => number): number[] {
  const total = dims.reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let lin = 0; lin < total; lin++) {
    const idx: number[] = [];
    let r = lin;
    for (const d of dims) {
      idx.push(r % d);
      r = Math.floor(r / d);
    }
    out.push(at(...idx));
  }
  return out;
}
const write = (name: string, data: string | Uint8Array) => {
  const p = join(tmp, name);
  writeFileSync(p, data);
  return p;
};
const arrays = (rs: Float64Array[]) => rs.map((r) => Array.from(r));

describe('brain RDM files', () => {
  it('JSON: condensed, square, subject stacks, and an image order that differs from the set', async () => {
    const p = write(
      'rdms.json',
      JSON.stringify({
        V1: R1,
        IT: square(R2),
        LO: [R1, R2, R3],
        FFA: [square(R1), square(R2), square(R3), square(R1)],
      }),
    );
    const r = await readBrainRdms(p, IDS);
    expect(r.format).toBe('json');
    expect(r.regions.map((x) => [x.name, x.subjects.length])).toEqual([
      ['V1', 1],
      ['IT', 1],
      ['LO', 3],
      ['FFA', 4],
    ]);
    expect(arrays(r.regions[0]!.subjects)).toEqual([R1]);
    expect(arrays(r.regions[1]!.subjects)).toEqual([R2]);
    expect(arrays(r.regions[2]!.subjects)).toEqual([R1, R2, R3]);
    // 4 subjects of 4 x 4: JSON nests subjects first, even though n x n x S would also fit.
    expect(arrays(r.regions[3]!.subjects)).toEqual([R1, R2, R3, R1]);
    // File order b, a, c, d: its pairs (b,a)=1 (b,c)=2 (b,d)=3 (a,c)=4 (a,d)=5 (c,d)=6 are, in the
    // set's order, (a,b)=1 (a,c)=4 (a,d)=5 (b,c)=2 (b,d)=3 (c,d)=6.
    const q = write('ordered.json', JSON.stringify({ images: ['b', 'a', 'c', 'd'], regions: { V1: R1 } }));
    expect(arrays((await readBrainRdms(q, IDS)).regions[0]!.subjects)).toEqual([[1, 4, 5, 2, 3, 6]]);
  });

  it('TSV: one row per RDM (region, subject, condensed or n x n) and a square matrix with image ids', async () => {
    const wide = write(
      'wide.tsv',
      `region\tsubject\t${R1.map((_, k) => `p${k + 1}`).join('\t')}\nV1\ts1\t${R1.join('\t')}\nV1\ts2\t${R2.join('\t')}\nIT\ts1\t${R3.join('\t')}\n`,
    );
    const r = await readBrainRdms(wide, IDS);
    expect(r.regions.map((x) => [x.name, arrays(x.subjects)])).toEqual([
      ['V1', [R1, R2]],
      ['IT', [R3]],
    ]);
    const full = write(
      'full.tsv',
      `region\t${Array.from({ length: 16 }, (_, k) => `m${k}`).join('\t')}\nV1\t${square(R3).flat().join('\t')}\n`,
    );
    expect(arrays((await readBrainRdms(full, IDS)).regions[0]!.subjects)).toEqual([R3]);
    // Square with a header in file order b, a, c, d and row labels: the same reordering as JSON.
    const rows = square(R1);
    const sq = write(
      'EVC.tsv',
      `\tb\ta\tc\td\n${['b', 'a', 'c', 'd'].map((id, i) => `${id}\t${rows[i]!.join('\t')}`).join('\n')}\n`,
    );
    const s = await readBrainRdms(sq, IDS);
    expect(s.regions[0]!.name).toBe('EVC');
    expect(arrays(s.regions[0]!.subjects)).toEqual([[1, 4, 5, 2, 3, 6]]);
  });

  it('MAT v5: n x n, P x S, compressed n x n x S, big-endian single, RSA-toolbox RDM structs', async () => {
    const sq = (c: number[]) => columnMajor([4, 4], (i, j) => square(c)[i]![j]!);
    const bytes = encodeMatV5(
      [
        { name: 'V1', value: { dims: [4, 4], data: sq(R1) } },
        { name: 'IT', value: { dims: [6, 3], data: columnMajor([6, 3], (k, s) => [R1, R2, R3][s]![k]!) } },
        { name: 'note', value: { text: 'brain RDMs' } },
      ],
      {},
    );
    const r = await readBrainRdms(write('plain.mat', bytes), IDS);
    expect(r.format).toBe('mat-v5');
    expect(r.regions.map((x) => [x.name, arrays(x.subjects)])).toEqual([
      ['V1', [R1]],
      ['IT', [R1, R2, R3]],
    ]);
    expect(r.ignored).toEqual(['note: a char array']);

    const stack = encodeMatV5(
      [
        {
          name: 'LO',
          value: { dims: [4, 4, 2], data: columnMajor([4, 4, 2], (i, j, s) => square([R2, R3][s]!)[i]![j]!) },
        },
      ],
      { compress: true },
    );
    expect(arrays((await readBrainRdms(write('stack.mat', stack), IDS)).regions[0]!.subjects)).toEqual([R2, R3]);

    const be = encodeMatV5([{ name: 'V2', value: { dims: [1, 6], data: R3, className: 'single' } }], {
      bigEndian: true,
    });
    expect(arrays((await readBrainRdms(write('be.mat', be), IDS)).regions[0]!.subjects)).toEqual([R3]);

    const structs = encodeMatV5(
      [
        {
          name: 'RDMs',
          value: {
            dims: [1, 3],
            struct: [
              { RDM: { dims: [4, 4], data: sq(R1) }, name: { text: 'EVC' } },
              { RDM: { dims: [4, 4], data: sq(R2) }, name: { text: 'EVC' } },
              { RDM: { dims: [1, 6], data: R3 }, name: { text: 'IT' } },
            ],
          },
        },
      ],
      { compress: true },
    );
    const st = await readBrainRdms(write('structs.mat', structs), IDS);
    expect(st.regions.map((x) => [x.name, arrays(x.subjects)])).toEqual([
      ['EVC', [R1, R2]],
      ['IT', [R3]],
    ]);
  });

  it('MAT v7.3 (HDF5 behind the 512-byte MATLAB header): S x n x n stacks as saved from Python', async () => {
    await h5wasm.ready;
    const h5path = join(tmp, 'v73.h5');
    const f = new h5wasm.File(h5path, 'w');
    // MATLAB dims [S, n, n] = [3, 4, 4] are stored as HDF5 shape [4, 4, 3], C order = column-major.
    const subjects = [R1, R2, R3];
    const d = f.create_dataset({
      name: 'EVC_RDMs',
      data: Float64Array.from(columnMajor([3, 4, 4], (s, i, j) => square(subjects[s]!)[i]![j]!)),
      shape: [4, 4, 3],
    });
    d.create_attribute('MATLAB_class', 'double');
    const g = f.create_group('ROIs');
    g.create_attribute('MATLAB_class', 'struct');
    const it = g.create_dataset({ name: 'IT', data: Float64Array.from(R2), shape: [6, 1] });
    it.create_attribute('MATLAB_class', 'double');
    f.close();
    const header = Buffer.alloc(512, 0);
    header.write(
      'MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 .',
      0,
      'latin1',
    );
    header.writeUInt16LE(0x0200, 124);
    header.write('IM', 126, 'latin1');
    const p = write('v73.mat', Buffer.concat([header, readFileSync(h5path)]));
    const r = await readBrainRdms(p, IDS);
    expect(r.format).toBe('mat-v7.3');
    expect(r.regions.map((x) => [x.name, arrays(x.subjects)])).toEqual([
      ['EVC_RDMs', [R1, R2, R3]],
      ['ROIs.IT', [R2]],
    ]);
    // --regions keeps only the named variables.
    expect((await readBrainRdms(p, IDS, ['ROIs'])).regions.map((x) => x.name)).toEqual(['ROIs.IT']);
  });

  it('wrong shapes and values: one-line errors naming the variable, the shape and what is accepted', async () => {
    const five = encodeMatV5([{ name: 'V1', value: { dims: [5, 5], data: new Array(25).fill(0) } }]);
    await expect(readBrainRdms(write('five.mat', five), IDS)).rejects.toThrow(
      /five\.mat: variable V1: an array of 5 x 5 is not an RDM stack for 4 images \(P = 6 pairs\); accepted shapes: n x n, 1 x P or P x 1 \(condensed\), S x P or P x S, n x n x S or S x n x n$/,
    );
    expect(() => rdmsFromArray([6, 6], new Array(36).fill(1), 4, 'x')).toThrow(
      /x: a 6 x 6 array is ambiguous \(subjects in rows or columns\?\)/,
    );
    const asym = square(R1);
    asym[0]![1] = 9;
    await expect(readBrainRdms(write('asym.json', JSON.stringify({ V1: asym })), IDS)).rejects.toThrow(
      /region "V1": not symmetric: \(1,2\) is 9 but \(2,1\) is 1/,
    );
    const sim = square(R1);
    sim[2]![2] = 1;
    await expect(readBrainRdms(write('sim.json', JSON.stringify({ V1: sim })), IDS)).rejects.toThrow(
      /diagonal element \(3,3\) is 1; an RDM holds dissimilarities with a zero diagonal/,
    );
    await expect(
      readBrainRdms(write('ids.json', JSON.stringify({ images: ['a', 'b', 'c', 'e'], regions: { V1: R1 } })), IDS),
    ).rejects.toThrow(
      /field images: the images listed \(4\) are not the stimulus set's 4; missing d; not in the set: e/,
    );
    await expect(readBrainRdms(write('x.csv', 'a,b'), IDS)).rejects.toThrow(
      /unknown file type "\.csv"; expected \.json, \.tsv or \.mat/,
    );
    await expect(readBrainRdms(write('nan.json', JSON.stringify({ V1: [1, 2, null, 4, 5, 6] })), IDS)).rejects.toThrow(
      /value 3 of the condensed RDM is NaN/,
    );
    await expect(
      readBrainRdms(write('empty.mat', encodeMatV5([{ name: 'note', value: { text: 'x' } }])), IDS),
    ).rejects.toThrow(/holds no RDM of 4 images \(left out: note: a char array\)/);
  });
});

describe("analyze's ROI RDM files", () => {
  it('reads the regions array, leaves out a region without voxels, and merges files as subjects', async () => {
    const dir = join(tmp, 'roi-json');
    mkdirSync(dir);
    const ids = ['a', 'b', 'c'];
    // The file lists its images in another order: (c,b) (c,a) (b,a) -> set pairs (b,c) (a,c) (a,b).
    const roi = (v: number[]) => ({
      images: ['c', 'b', 'a'],
      distance: 'correlation',
      regions: [
        { id: 1, name: 'V1', nVoxels: 12, rdm: v, models: [] },
        { id: 2, name: 'empty', nVoxels: 0, rdm: [null, null, null], models: [] },
      ],
    });
    const f1 = join(dir, 'sub-01_rsa.json');
    const f2 = join(dir, 'sub-02_rsa.json');
    writeFileSync(f1, JSON.stringify(roi([1, 2, 3])));
    writeFileSync(f2, JSON.stringify(roi([4, 5, 6])));
    const brain = await readBrainRdmsFiles([f1, f2], ids);
    expect(brain.regions.map((r) => r.name)).toEqual(['V1']);
    expect(brain.regions[0]!.subjects.map((s) => Array.from(s))).toEqual([
      [3, 2, 1],
      [6, 5, 4],
    ]);
    expect(brain.ignored).toEqual([
      `${f1}: empty: no voxels (its RDM is all null)`,
      `${f2}: empty: no voxels (its RDM is all null)`,
    ]);
  });
});
