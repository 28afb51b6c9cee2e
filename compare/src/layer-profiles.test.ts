import { describe, expect, it } from 'vitest';
import { computeLayerProfiles, noiseCeiling } from './layer-profiles';

/*
 * 4 images -> 6 pairs. Every RDM below is a permutation of 1..6, so its ranks are its values and
 * Spearman's rho = 1 - 6 sum(d^2) / (6 (36 - 1)) = 1 - sum(d^2) / 35.
 *
 *   layer A = [1 2 3 4 5 6]      layer B = [1 2 3 6 5 4]
 *   s1 = [1 2 3 4 5 6]   vs A: d = 0                      -> 1
 *                        vs B: d = (0 0 0 -2 0 2), 8      -> 27/35
 *   s2 = [2 1 3 4 6 5]   vs A: d = (1 -1 0 0 1 -1), 4     -> 31/35
 *                        vs B: d = (1 -1 0 -2 1 1), 8     -> 27/35
 *   s3 = [1 3 2 5 4 6]   vs A: d = (0 1 -1 1 -1 0), 4     -> 31/35
 *                        vs B: d = (0 1 -1 -1 -1 2), 8    -> 27/35
 *   mean A = (35 + 31 + 31) / 105 = 97/105; mean B = 27/35; best layer A.
 *
 * Noise ceiling (Spearman, on ranks): mean of all = [4 6 8 13 15 17]/3, ranked = A, so the upper
 * bound is mean(rho(s_k, A)) = 97/105. Lower: s1 vs mean(s2, s3) = [1.5 2 2.5 4.5 5 5.5] (ranks
 * = A) -> 1; s2 vs mean(s1, s3) = [1 2.5 2.5 4.5 4.5 6]: centred s2 = [-1.5 -2.5 -.5 .5 2.5 1.5],
 * centred ranks = [-2.5 -1 -1 1 1 2.5], dot 13.5, norms^2 17.5 and 16.5 -> 13.5 / sqrt(288.75) =
 * 0.7944613; s3 vs mean(s1, s2) = [1.5 1.5 3 4 5.5 5.5]: centred s3 = [-2.5 -.5 -1.5 1.5 .5 2.5],
 * ranks [-2 -2 -.5 .5 2 2], dot 13.5, norms^2 17.5 and 16.5 -> 0.7944613. Lower = (1 + 2 x
 * 0.7944613) / 3 = 0.8629742.
 *
 * Residual method (Spearman): A regressed on B (centred ranks a = [-2.5 -1.5 -.5 .5 1.5 2.5],
 * b = [-2.5 -1.5 -.5 2.5 1.5 .5], a.b = 13.5, |b|^2 = 17.5). For s1 (= A) the semipartial
 * correlation is a.res / (|a| |res|) with a.res = |res|^2 = 17.5 - 13.5^2 / 17.5 = 7.0857143, so
 * sqrt(7.0857143 / 17.5) = 0.6363158.
 *
 * Pearson ceiling, s1 against the plain mean of z-scores (all three share mean 3.5 and SD, so the
 * mean of z-scores is the z-score of [4 6 8 13 15 17]/3): centred s1 = [-2.5 ... 2.5], centred
 * 3 x mean = [-6.5 -4.5 -2.5 2.5 4.5 6.5], dot 48.5, norms^2 17.5 and 137.5 -> 48.5 / sqrt(2406.25)
 * = 0.9887156.
 */
const A = Float64Array.from([1, 2, 3, 4, 5, 6]);
const B = Float64Array.from([1, 2, 3, 6, 5, 4]);
const s1 = Float64Array.from([1, 2, 3, 4, 5, 6]);
const s2 = Float64Array.from([2, 1, 3, 4, 6, 5]);
const s3 = Float64Array.from([1, 3, 2, 5, 4, 6]);

describe('layer profiles (hand-computed, 4 images, 3 subjects)', () => {
  const [profile] = computeLayerProfiles(['A', 'B'], [A, B], [{ name: 'V1', subjects: [s1, s2, s3] }], {
    comparator: 'spearman',
    method: 'standard',
    seed: 3,
  });

  it('per-subject and mean Spearman, best layer', () => {
    const [a, b] = profile!.layers;
    expect(a!.perSubject[0]).toBeCloseTo(1, 12);
    expect(a!.perSubject[1]).toBeCloseTo(31 / 35, 12);
    expect(a!.perSubject[2]).toBeCloseTo(31 / 35, 12);
    expect(a!.mean).toBeCloseTo(97 / 105, 12);
    for (const v of b!.perSubject) expect(v).toBeCloseTo(27 / 35, 12);
    expect(b!.mean).toBeCloseTo(27 / 35, 12);
    expect(profile!.best).toEqual({ layer: 'A', mean: a!.mean });
    expect(profile!.nSubjects).toBe(3);
  });

  it('noise ceiling: upper 97/105, lower 0.8629742', () => {
    expect(profile!.noiseCeiling!.upper).toBeCloseTo(97 / 105, 10);
    expect(profile!.noiseCeiling!.lower).toBeCloseTo((1 + 2 * (13.5 / Math.sqrt(288.75))) / 3, 10);
    expect(profile!.noiseCeiling!.lower).toBeCloseTo(0.8629742, 6);
  });

  it('bootstrap interval: within the subjects range, around the mean, exact for equal values', () => {
    const [a, b] = profile!.layers;
    expect(a!.ciLow!).toBeGreaterThanOrEqual(31 / 35 - 1e-12);
    expect(a!.ciHigh!).toBeLessThanOrEqual(1 + 1e-12);
    expect(a!.ciLow!).toBeLessThan(a!.mean);
    expect(a!.ciHigh!).toBeGreaterThan(a!.mean);
    expect(b!.ciLow!).toBeCloseTo(27 / 35, 12);
    expect(b!.ciHigh!).toBeCloseTo(27 / 35, 12);
    // Seeded: the same seed gives the same interval.
    const [again] = computeLayerProfiles(['A', 'B'], [A, B], [{ name: 'V1', subjects: [s1, s2, s3] }], {
      comparator: 'spearman',
      method: 'standard',
      seed: 3,
    });
    expect(again!.layers[0]!.ciLow).toBe(a!.ciLow);
  });

  it('residual method: semipartial correlation 0.6363158 for s1 with layer A', () => {
    const [res] = computeLayerProfiles(['A', 'B'], [A, B], [{ name: 'V1', subjects: [s1] }], {
      comparator: 'spearman',
      method: 'semipartial',
    });
    expect(res!.layers[0]!.perSubject[0]).toBeCloseTo(Math.sqrt((17.5 - 13.5 ** 2 / 17.5) / 17.5), 10);
    expect(res!.layers[0]!.perSubject[0]).toBeCloseTo(0.6363158, 6);
    // One subject: no interval, no ceiling.
    expect(res!.layers[0]!.ciLow).toBeNull();
    expect(res!.noiseCeiling).toBeNull();
  });

  it('Pearson ceiling on z-scores: s1 against the group mean 0.9887156', () => {
    // With one subject per region nothing is averaged, so check the upper bound term by term:
    // the other two subjects' terms are computed the same way, by hand below.
    const z = (x: number[]) => {
      const m = x.reduce((p, q) => p + q, 0) / x.length;
      return x.map((v) => v - m);
    };
    const r = (x: number[], y: number[]) => {
      const a = z(x);
      const b = z(y);
      return (
        a.reduce((s, v, i) => s + v * b[i]!, 0) /
        Math.sqrt(a.reduce((s, v) => s + v * v, 0) * b.reduce((s, v) => s + v * v, 0))
      );
    };
    const mean = [4, 6, 8, 13, 15, 17];
    expect(r([...s1], mean)).toBeCloseTo(48.5 / Math.sqrt(2406.25), 12);
    const upper = (r([...s1], mean) + r([...s2], mean) + r([...s3], mean)) / 3;
    expect(noiseCeiling([s1, s2, s3], 'pearson').upper).toBeCloseTo(upper, 12);
    expect(r([...s1], mean)).toBeCloseTo(0.9887156, 6);
  });
});
