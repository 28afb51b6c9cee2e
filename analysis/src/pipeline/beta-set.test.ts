import { describe, expect, it } from 'vitest';
import { assembleBetas, type RunBetas } from './beta-set';

const candidates = Int32Array.from([3, 5, 9]);
const f = (...v: number[]) => Float32Array.from(v);
/** Run r holds the listed images; image i's betas in run r are (10 r + i) x (1, 2, 3). */
function run(r: number, images: string[]): RunBetas {
  const ids = ['a', 'b', 'c'];
  return {
    run: String(r),
    images: new Map(images.map((id) => [id, f(...[1, 2, 3].map((x) => (10 * r + ids.indexOf(id)) * x))])),
  };
}

describe('assembleBetas with images absent from runs (condition-rich designs)', () => {
  const runs = [run(1, ['a', 'b']), run(2, ['b', 'c']), run(3, ['a', 'b', 'c'])];

  it('correlation: each image is the mean over the runs that have it', () => {
    const out = assembleBetas(candidates, runs, ['a', 'b', 'c'], 'correlation', 'test');
    expect(out.betas.nRuns).toBe(1);
    expect(out.betas.present).toBeUndefined();
    // a: runs 1 and 3 -> (10 + 30) / 2 = 20; b: runs 1-3 -> (11 + 21 + 31) / 3 = 21; c: runs 2, 3 -> 27.
    expect(Array.from(out.betas.data)).toEqual([20, 40, 60, 21, 42, 63, 27, 54, 81]);
    expect(out.runsUsed).toEqual(['1', '2', '3']);
  });

  it('crossnobis: keeps every run with presence flags when every pair shares 2 runs', () => {
    const four = [...runs, run(4, ['a', 'c'])];
    const out = assembleBetas(candidates, four, ['a', 'b', 'c'], 'crossnobis', 'test');
    expect(out.runsUsed).toEqual(['1', '2', '3', '4']);
    expect(Array.from(out.betas.present!)).toEqual([1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1]);
    expect(out.betas.nRuns).toBe(4);
    // Run 2, image b (row 1 * 3 + 1) holds its betas; absent run 2 image a stays 0.
    expect(Array.from(out.betas.data.subarray(12, 15))).toEqual([21, 42, 63]);
    expect(Array.from(out.betas.data.subarray(9, 12))).toEqual([0, 0, 0]);
    expect(out.notes.join('\n')).toMatch(/cross-validated over the runs that have both/);
  });

  it('crossnobis: refuses a pair of images in fewer than 2 common runs, naming it', () => {
    // a and c share only run 3.
    expect(() => assembleBetas(candidates, runs, ['a', 'b', 'c'], 'crossnobis', 'participant 01')).toThrow(
      /participant 01: --distance crossnobis needs every pair of images in at least 2 common runs; 1 of 3 pairs are not \(e\.g\. "a" and "c"\)/,
    );
  });

  it('crossnobis with every image in every run: no presence flags (the plain estimator)', () => {
    const full = [run(1, ['a', 'b', 'c']), run(2, ['a', 'b', 'c'])];
    const out = assembleBetas(candidates, full, ['a', 'b', 'c'], 'crossnobis', 'test');
    expect(out.betas.present).toBeUndefined();
    expect(out.notes).toEqual([
      'crossnobis without residual variances: the cross-validated Euclidean distance of the betas as given',
    ]);
  });
});
