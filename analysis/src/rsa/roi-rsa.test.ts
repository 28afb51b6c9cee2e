import { describe, expect, it } from 'vitest';
import { computeRdm, createNormalRng, spearman } from '@orthostim/rdm';
import { prepareSphereData } from '../searchlight/sphere-rdms';
import { buildModelSet } from './compare-models';
import { computeRoiRsa, formatRoiTable } from './roi-rsa';

describe('computeRoiRsa', () => {
  it('computes each region RDM from its voxels and compares it with every model', () => {
    const rng = createNormalRng(4);
    const K = 6;
    const V = 40;
    const R = 2;
    const data = Float32Array.from({ length: R * K * V }, () => rng());
    // Region 3 = voxels 0..14, region 8 = voxels 15..29, label 0 (unused) = the rest; region 5 is empty.
    const labels = Array.from({ length: V }, (_, v) => (v < 15 ? 3 : v < 30 ? 8 : 0));
    const layerA = Float64Array.from({ length: 15 }, () => rng());
    const layerB = Float64Array.from({ length: 15 }, () => rng());
    const models = buildModelSet(['a', 'b'], [layerA, layerB], 'spearman', ['standard', 'semipartial']);
    const prepared = prepareSphereData('correlation', { data, nRuns: R, nImages: K, nVoxels: V });
    const result = computeRoiRsa(
      prepared,
      labels,
      [
        { id: 8, name: 'VT' },
        { id: 3, name: 'V1' },
        { id: 5, name: 'empty' },
      ],
      models,
    );
    const [vt, v1, empty] = result.regions;
    expect(vt!.nVoxels).toBe(15);
    expect(empty!.nVoxels).toBe(0);
    expect(Array.from(empty!.values).every(Number.isNaN)).toBe(true);
    // The VT RDM from its own voxels' run-averaged patterns.
    const patterns = new Float64Array(K * 15);
    for (let i = 0; i < K; i++)
      for (let t = 0; t < 15; t++) patterns[i * 15 + t] = (data[i * V + 15 + t]! + data[(K + i) * V + 15 + t]!) / 2;
    const want = computeRdm(patterns, K, 15, 'correlation');
    for (let k = 0; k < 15; k++) expect(vt!.rdm[k]).toBeCloseTo(want[k]!, 10);
    expect(vt!.values[0]).toBeCloseTo(spearman(want, layerA), 10);
    expect(v1!.values[1]).toBeCloseTo(spearman(v1!.rdm, layerB), 10);
    const tsv = formatRoiTable(result);
    expect(tsv.split('\n')[0]).toBe('region\tlabel\tn_voxels\tlayer\tmethod\tr');
    expect(tsv).toContain('empty\t5\t0\tb\tsemipartial\tn/a');
    expect(tsv.trim().split('\n')).toHaveLength(1 + 3 * 4);
  });
});
