import { describe, expect, it } from 'vitest';
import { parseAtlasLabels } from './atlas-labels';
import { clusterTable, labelClusters } from './clusters';

// A hand-drawn 5 x 4 x 3 volume (unequal sides). Slices k = 0, 1, 2, rows j = 0..3, columns i = 0..4.
const dims = [5, 4, 3] as const;
const drawing = [
  ['11000', '10000', '00000', '00022'],
  ['00000', '00000', '00300', '00002'],
  ['00000', '00000', '00003', '00000'],
];
// Group "1": three voxels touching by faces. Group "2": (3,3,0), (4,3,0), (4,3,1) by faces.
// "3": (2,2,1) and (4,2,2) touch nothing by face; (2,2,1) touches (3,3,0) by a corner and (4,2,2)
// touches (4,3,1) by an edge.
function volume(): Float32Array {
  const v = new Float32Array(60);
  drawing.forEach((rows, k) =>
    rows.forEach((row, j) => [...row].forEach((ch, i) => (v[i + 5 * (j + 4 * k)] = Number(ch)))),
  );
  return v;
}

describe('labelClusters', () => {
  it('6-connectivity: faces only', () => {
    const { sizes } = labelClusters(volume(), dims, 6);
    expect(sizes).toEqual([3, 3, 1, 1]);
  });
  it('18-connectivity joins the edge neighbour (4,2,2)', () => {
    const { sizes, labels } = labelClusters(volume(), dims, 18);
    expect(sizes).toEqual([4, 3, 1]);
    expect(labels[4 + 5 * (2 + 4 * 2)]).toBe(labels[4 + 5 * (3 + 4 * 1)]);
    expect(labels[0]).toBe(2); // the "1" group (3 voxels) after the 4-voxel group
  });
  it('26-connectivity (default) joins the corner neighbour (2,2,1) too', () => {
    const { sizes, labels } = labelClusters(volume(), dims);
    expect(sizes).toEqual([5, 3]);
    expect(labels[2 + 5 * (2 + 4 * 1)]).toBe(1);
    expect(labels[1 + 5 * 0]).toBe(2);
    expect(labels[2]).toBe(0);
  });
});

describe('clusterTable', () => {
  it('reports size, volume, signed peak, peak voxel and mm, atlas label', () => {
    const map = volume();
    map[4 + 5 * (3 + 4 * 1)] = -9; // strongest in cluster 1, negative
    const affine = [2, 0, 0, -10, 0, 3, 0, 20, 0, 0, 4, 5, 0, 0, 0, 1];
    const atlasValues = new Int16Array(60);
    atlasValues[4 + 5 * (3 + 4 * 1)] = 7;
    const names = parseAtlasLabels('index\tname\tcolor\n7\tfusiform\t#ff0000\n', 'atlas.tsv');
    const rows = clusterTable(map, dims, affine, { atlas: { values: atlasValues, names } });
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual({
      cluster: 1,
      sizeVoxels: 5,
      volumeMm3: 5 * 24,
      peakValue: -9,
      peakVoxel: [4, 3, 1],
      peakMm: [-10 + 8, 20 + 9, 5 + 4],
      peakLabel: 'fusiform',
    });
    expect(rows[1]!.peakLabel).toBe('unlabelled');
    expect(clusterTable(map, dims, affine, { minSize: 4 })).toHaveLength(1);
  });

  it('refuses an atlas on another grid and a bad labels file', () => {
    expect(() =>
      clusterTable(volume(), dims, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], {
        atlas: { values: new Int16Array(10), names: new Map() },
      }),
    ).toThrow(/atlas has 10 voxels but the maps have 60/);
    expect(() => parseAtlasLabels('label\tname\n1\tx\n', 'a.tsv')).toThrow(
      /a.tsv: line 1: the header must have the columns "index" and "name"/,
    );
    expect(() => parseAtlasLabels('index\tname\n1.5\tx\n', 'a.tsv')).toThrow(
      /a.tsv: line 2: column "index" must be an integer/,
    );
  });
});
