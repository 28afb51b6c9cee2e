import { describe, expect, it } from 'vitest';
import { createRng } from '@orthostim/rdm';
import { quantiles, selectKth } from './order-statistics';

describe('order statistics by quickselect', () => {
  it('selectKth gives the k-th smallest for every k, with ties and negatives (against a sort)', () => {
    const rng = createRng(4);
    for (const n of [1, 2, 7, 100, 1001]) {
      const base = Float32Array.from({ length: n }, () => Math.round(rng() * 20 - 10) / 2 + 0); // many ties (+ 0: no -0)
      const sorted = Float32Array.from(base).sort();
      for (let k = 0; k < n; k += Math.max(1, Math.floor(n / 37)))
        expect(selectKth(Float32Array.from(base), k)).toBe(sorted[k]);
    }
    expect(() => selectKth(Float32Array.of(1, 2), 2)).toThrow(/outside 0\.\.1/);
  });

  it('quantiles match the nearest-rank quantiles of the sorted finite values, in any order of qs', () => {
    const rng = createRng(9);
    const values = Float32Array.from({ length: 5000 }, () => rng() * 4 - 2);
    values[3] = Number.NaN;
    values[10] = Number.POSITIVE_INFINITY;
    values[11] = 0;
    const qs = [0.995, 0.02, 0.5, 0.9, 0, 1];
    for (const options of [{}, { abs: true }, { nonzero: true }]) {
      const finite = Array.from(values)
        .filter((v) => Number.isFinite(v) && !((options as { nonzero?: boolean }).nonzero && v === 0))
        .map((v) => ((options as { abs?: boolean }).abs ? Math.abs(v) : v));
      const sorted = Float32Array.from(finite).sort();
      const want = qs.map((q) => sorted[Math.round(q * (sorted.length - 1))]!);
      expect(quantiles(values, qs, options)).toEqual(want);
    }
    expect(quantiles([Number.NaN], [0.5])).toEqual([Number.NaN]);
  });
});
