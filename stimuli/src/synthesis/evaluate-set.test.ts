import { expect, it } from 'vitest';
import { evaluateRdms, rdmSpread } from './evaluate-set';

it('rdmSpread gives the mean and the population coefficient of variation', () => {
  // mean 0.5, population sd sqrt(((0.3)^2 + (0.1)^2 + (0.1)^2 + (0.3)^2) / 4) = sqrt(0.05)
  const s = rdmSpread([0.2, 0.4, 0.6, 0.8]);
  expect(s.mean).toBeCloseTo(0.5, 12);
  expect(s.cv).toBeCloseTo(Math.sqrt(0.05) / 0.5, 12);
});

it('evaluateRdms: identical RDMs correlate 1, an anti-ordered one -1 (Pearson and Spearman)', () => {
  const a = Float64Array.from([0.1, 0.5, 0.3, 0.9, 0.7, 0.2]);
  const b = Float64Array.from(a, (v) => 2 * v + 0.1);
  const c = Float64Array.from(a, (v) => 1 - v);
  const e = evaluateRdms(['x', 'y', 'z'], [a, b, c]);
  expect(e.pearson[0]![1]).toBeCloseTo(1, 12);
  expect(e.pearson[0]![2]).toBeCloseTo(-1, 12);
  expect(e.spearman[1]![2]).toBeCloseTo(-1, 12);
  expect(e.meanAbsPearson).toBeCloseTo(1, 12);
  expect(e.spread.map((s) => s.layer)).toEqual(['x', 'y', 'z']);
});
