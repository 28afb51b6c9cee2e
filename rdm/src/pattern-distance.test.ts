import { describe, expect, it } from 'vitest';
import { pairCount } from './condensed';
import {
  computeGram,
  computeRdm,
  PATTERN_DISTANCE_NAMES,
  PATTERN_DISTANCES,
  type PatternDistance,
} from './pattern-distance';
import { createNormalRng } from './seeded-random';

/** Independent per-pair implementation, straight from the definitions. */
function naiveDistance(x: number[], y: number[], distance: PatternDistance): number {
  const p = x.length;
  const dot = (a: number[], b: number[]) => a.reduce((s, v, k) => s + v * (b[k] as number), 0);
  if (distance === 'euclidean' || distance === 'sqeuclidean') {
    const ss = x.reduce((s, v, k) => s + (v - (y[k] as number)) ** 2, 0);
    return distance === 'euclidean' ? Math.sqrt(ss) : ss;
  }
  if (distance === 'cosine') return 1 - dot(x, y) / Math.sqrt(dot(x, x) * dot(y, y));
  const mx = x.reduce((s, v) => s + v, 0) / p;
  const my = y.reduce((s, v) => s + v, 0) / p;
  const cx = x.map((v) => v - mx);
  const cy = y.map((v) => v - my);
  return 1 - dot(cx, cy) / Math.sqrt(dot(cx, cx) * dot(cy, cy));
}

function naiveRdm(patterns: ArrayLike<number>, n: number, p: number, distance: PatternDistance): number[] {
  const rows = Array.from({ length: n }, (_, i) => Array.from({ length: p }, (_, k) => patterns[i * p + k] as number));
  const out: number[] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out.push(naiveDistance(rows[i]!, rows[j]!, distance));
  return out;
}

function randomPatterns(n: number, p: number, seed: number, offset = 0): Float64Array {
  const rnd = createNormalRng(seed);
  return Float64Array.from({ length: n * p }, () => offset + rnd());
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let k = 0; k < actual.length; k++) {
    const e = expected[k] as number;
    expect(Math.abs((actual[k] as number) - e), `entry ${k}: ${actual[k]} vs ${e}`).toBeLessThanOrEqual(
      tol * Math.max(1, Math.abs(e)),
    );
  }
}

describe('computeRdm known answers', () => {
  // rows: a = [1,2,3,4], b = [1,3,2,4], c = [4,3,2,1] (3 images x 4 features)
  // centred: a' = [-1.5,-.5,.5,1.5], b' = [-1.5,.5,-.5,1.5], c' = -a'
  // a'.b' = 2.25-.25-.25+2.25 = 4, |a'|^2 = |b'|^2 = 5 -> r(a,b) = 0.8; r(a,c) = -1; r(b,c) = -0.8
  const x = Float64Array.from([1, 2, 3, 4, 1, 3, 2, 4, 4, 3, 2, 1]);

  it('correlation distance', () => {
    expectClose(computeRdm(x, 3, 4, 'correlation'), [0.2, 2, 1.8], 1e-12);
  });

  it('euclidean, squared euclidean and cosine', () => {
    // a-b = [0,-1,1,0] -> 2; a-c = [-3,-1,1,3] -> 20; b-c = [-3,0,0,3] -> 18
    expectClose(computeRdm(x, 3, 4, 'sqeuclidean'), [2, 20, 18], 1e-12);
    expectClose(computeRdm(x, 3, 4, 'euclidean'), [Math.SQRT2, Math.sqrt(20), Math.sqrt(18)], 1e-12);
    // a.b = 1+6+6+16 = 29, a.c = 4+6+6+4 = 20, b.c = 4+9+4+4 = 21, all norms^2 = 30
    expectClose(computeRdm(x, 3, 4, 'cosine'), [1 - 29 / 30, 1 - 20 / 30, 1 - 21 / 30], 1e-12);
  });

  it('gives the Gram matrix of the rows', () => {
    // norms^2 = 30; a.b = 29, a.c = 20, b.c = 21 (see above)
    expect([...computeGram(x, 3, 4)]).toEqual([30, 29, 20, 29, 30, 21, 20, 21, 30]);
  });

  it('accepts fewer features than images (n != p)', () => {
    // 4 images of 2 features: points (0,0) (3,4) (6,8) (0,1)
    const pts = Float32Array.from([0, 0, 3, 4, 6, 8, 0, 1]);
    // d01 = 5, d02 = 10, d03 = 1, d12 = 5, d13 = sqrt(9+9), d23 = sqrt(36+49)
    expectClose(computeRdm(pts, 4, 2, 'euclidean'), [5, 10, 1, 5, Math.sqrt(18), Math.sqrt(85)], 1e-12);
  });
});

describe('computeRdm against a naive per-pair implementation', () => {
  // 37 images x 301 features crosses the 32-row tile and the 256-column chunk boundaries.
  for (const distance of PATTERN_DISTANCE_NAMES) {
    it(`${distance} on seeded random data (n=37, p=301)`, () => {
      const x = randomPatterns(37, 301, 7);
      expectClose(computeRdm(x, 37, 301, distance), naiveRdm(x, 37, 301, distance), 1e-10);
    });
  }

  it('float32 input, more images than features (n=50, p=3)', () => {
    const x = Float32Array.from(randomPatterns(50, 3, 11));
    for (const distance of PATTERN_DISTANCE_NAMES)
      expectClose(computeRdm(x, 50, 3, distance), naiveRdm(x, 50, 3, distance), 1e-10);
  });

  it('stays accurate when the rows have a large common offset', () => {
    const x = randomPatterns(10, 600, 3, 1000);
    expectClose(computeRdm(x, 10, 600, 'correlation'), naiveRdm(x, 10, 600, 'correlation'), 1e-9);
  });
});

describe('computeRdm degenerate inputs', () => {
  it('constant rows give NaN for correlation, zero rows NaN for cosine, finite Euclidean', () => {
    // rows: varying, constant 0.1 (mean not exact in floating point), zeros, varying
    const x = Float64Array.from([1, 2, 4, 0.1, 0.1, 0.1, 0, 0, 0, 3, 1, 2]);
    const corr = computeRdm(x, 4, 3, 'correlation');
    // pairs: 01 02 03 12 13 23
    expect([...corr].map(Number.isNaN)).toEqual([true, true, false, true, true, true]);
    const cos = computeRdm(x, 4, 3, 'cosine');
    expect([...cos].map(Number.isNaN)).toEqual([false, true, false, true, false, true]);
    expect([...computeRdm(x, 4, 3, 'euclidean')].every(Number.isFinite)).toBe(true);
  });

  it("a NaN in a row makes only that row's distances NaN", () => {
    const x = randomPatterns(4, 5, 1);
    x[2 * 5 + 3] = Number.NaN; // image 2
    for (const distance of PATTERN_DISTANCE_NAMES) {
      // pairs: 01 02 03 12 13 23
      expect([...computeRdm(x, 4, 5, distance)].map(Number.isNaN)).toEqual([false, true, false, true, false, true]);
    }
  });

  it('identical rows are at distance exactly 0', () => {
    const row = [0.3, 1.7, -2.2, 5.1, 0.01];
    const x = Float64Array.from([...row, ...row]);
    for (const distance of PATTERN_DISTANCE_NAMES) expect(computeRdm(x, 2, 5, distance)[0]).toBe(0);
  });

  it('one image gives an empty RDM; shape and name errors name the values', () => {
    expect(computeRdm(Float64Array.from([1, 2]), 1, 2, 'correlation').length).toBe(pairCount(1));
    expect(() => computeRdm(new Float64Array(10), 3, 4, 'euclidean')).toThrow(/n\*p = 3\*4 = 12 values .* got 10/);
    expect(() => computeRdm(new Float64Array(0), 3, 0, 'euclidean')).toThrow(/p=0/);
    expect(() => computeRdm(new Float64Array(4), 2, 2, 'manhattan' as PatternDistance)).toThrow(
      'computeRdm: distance must be one of correlation, euclidean, sqeuclidean, cosine; got "manhattan"',
    );
  });

  it('every registered distance is described', () => {
    for (const name of PATTERN_DISTANCE_NAMES) expect(PATTERN_DISTANCES[name].description.length).toBeGreaterThan(10);
  });
});
