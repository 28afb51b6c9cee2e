import { describe, expect, it } from 'vitest';
import { lusolve } from 'mathjs';
import { createNormalRng, createRng } from '@orthostim/rdm';
import { buildRunDesign, type RunEvent } from './design-matrix';
import { fitGlm } from './fit-glm';
import { scaleToPercentSignalChange } from './signal-scaling';

const IMAGES = ['a', 'b', 'c', 'd', 'e', 'f'];

/** A run of 200 volumes (TR 2): each image 4 times in shuffled order, 3 s trials, null trials, fixation changes. */
function makeDesign(seed = 1, nScans = 200, highPassHz?: number) {
  const rng = createRng(seed);
  const order = IMAGES.flatMap((id) => [id, id, id, id, 'null']);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const events: RunEvent[] = order.map((id, i) => ({
    onsetS: 8 + i * 12,
    durationS: 3,
    imageId: id === 'null' ? null : id,
    trialType: id,
  }));
  for (let i = 0; i < 10; i++)
    events.push({ onsetS: 20 + i * 35, durationS: 0.2, imageId: null, trialType: 'fixation_change' });
  const confounds = {
    names: ['trans_x'],
    values: [Float64Array.from({ length: nScans }, (_, t) => Math.sin(t / 17) * 0.3)],
  };
  return buildRunDesign({
    nScans,
    repetitionTimeS: 2,
    images: IMAGES,
    events,
    confounds,
    ...(highPassHz === undefined ? {} : { highPassHz }),
  });
}

/** Voxel-major series y = X beta (+ noise) for planted betas. */
function simulate(
  design: ReturnType<typeof makeDesign>,
  betas: Float64Array[],
  noise: (v: number, t: number) => number,
) {
  const { nRows: T, nCols: K, values: X } = design;
  const series = new Float32Array(betas.length * T);
  betas.forEach((b, v) => {
    for (let t = 0; t < T; t++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += X[t * K + k]! * b[k]!;
      series[v * T + t] = s + noise(v, t);
    }
  });
  return series;
}

describe('buildRunDesign', () => {
  it('orders columns images, nuisance, confounds, drifts, constant; null trials are not modelled', () => {
    const d = makeDesign();
    expect(d.columns.map((c) => c.name)).toEqual([
      ...IMAGES,
      'fixation_change',
      'trans_x',
      ...Array.from({ length: 6 }, (_, k) => `cosine0${k}`),
      'constant',
    ]);
    // floor(2 * 200 * 2 / 128) = 6 cosines
    expect(d.imagesAbsent).toEqual([]);
    const absent = buildRunDesign({
      nScans: 50,
      repetitionTimeS: 2,
      images: ['a', 'b'],
      events: [{ onsetS: 4, durationS: 1, imageId: 'a', trialType: 'a' }],
    });
    expect(absent.imagesAbsent).toEqual(['b']);
    expect(absent.columns.map((c) => c.kind)).toEqual(['image', 'drift', 'constant']);
  });
});

describe('fitGlm', () => {
  const design = makeDesign();
  const { nCols: K, nRows: T } = design;
  const planted = Array.from({ length: 40 }, (_, v) => {
    const rng = createNormalRng(100 + v);
    return Float64Array.from({ length: K }, (_, k) => (k === K - 1 ? 0 : rng()));
  });

  it('recovers planted betas exactly without noise (OLS and AR(1))', () => {
    const series = simulate(design, planted, () => 0);
    for (const noiseModel of ['ols', 'ar1'] as const) {
      const fit = fitGlm(series, design, { noiseModel });
      planted.forEach((b, v) => {
        for (let k = 0; k < K; k++) expect(Math.abs(fit.betas[k * 40 + v]! - b[k]!)).toBeLessThan(2e-4);
        expect(fit.residualVariance[v]).toBeLessThan(1e-6);
      });
    }
  });

  it('recovers planted image betas at high SNR with AR(1) noise (r > 0.9 per voxel)', () => {
    const noise = createNormalRng(5);
    const ar: number[] = new Array(40).fill(0);
    const series = simulate(design, planted, (v) => (ar[v] = 0.3 * ar[v]! + 0.1 * noise()));
    const fit = fitGlm(series, design, { noiseModel: 'ar1' });
    planted.forEach((b, v) => {
      const est = IMAGES.map((_, k) => fit.betas[k * 40 + v]!);
      const truth = IMAGES.map((_, k) => b[k]!);
      const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
      const me = mean(est);
      const mt = mean(truth);
      let sxy = 0,
        sxx = 0,
        syy = 0; // prettier-ignore
      est.forEach((e, i) => {
        sxy += (e - me) * (truth[i]! - mt);
        sxx += (e - me) ** 2;
        syy += (truth[i]! - mt) ** 2;
      });
      expect(sxy / Math.sqrt(sxx * syy)).toBeGreaterThan(0.9);
    });
  });

  it('estimates rho of AR(1) noise from the OLS residuals, truncated to 0.01', () => {
    // No drift terms: 46 cosines over 3000 s would absorb part of the slow AR power.
    const long = makeDesign(3, 1500, 0);
    const noise = createNormalRng(9);
    const zeros = Array.from({ length: 30 }, () => new Float64Array(long.nCols));
    let prev = 0;
    const series = simulate(long, zeros, (_v, t) => (prev = (t === 0 ? 0 : 0.4 * prev) + noise()));
    const fit = fitGlm(series, long, { noiseModel: 'ar1' });
    let mean = 0;
    for (let v = 0; v < 30; v++) {
      const r = fit.rho[v]!;
      expect(Math.abs(r * 100 - Math.round(r * 100))).toBeLessThan(1e-4); // float32 storage of k / 100
      mean += r / 30;
    }
    expect(mean).toBeGreaterThan(0.35);
    expect(mean).toBeLessThan(0.43);
    const ols = fitGlm(series, long, { noiseModel: 'ols' });
    expect(Array.from(ols.rho).every((r) => r === 0)).toBe(true);
  });

  it('equals explicit residuals, explicit whitening and a mathjs solve (nilearn ARModel)', () => {
    const noise = createNormalRng(21);
    const ar: number[] = new Array(40).fill(0);
    const series = simulate(design, planted, (v) => (ar[v] = 0.5 * ar[v]! + noise()));
    const fit = fitGlm(series, design, { noiseModel: 'ar1' });
    const X = design.values;
    const solve = (x: (t: number, k: number) => number, y: (t: number) => number) => {
      const xtx = Array.from({ length: K }, (_, i) =>
        Array.from({ length: K }, (_, j) => {
          let s = 0;
          for (let t = 0; t < T; t++) s += x(t, i) * x(t, j);
          return s;
        }),
      );
      const xty = Array.from({ length: K }, (_, i) => {
        let s = 0;
        for (let t = 0; t < T; t++) s += x(t, i) * y(t);
        return [s];
      });
      return (lusolve(xtx, xty) as number[][]).map((r) => r[0]!);
    };
    for (const v of [0, 7, 19, 33]) {
      const y = (t: number) => series[v * T + t]!;
      const xo = (t: number, k: number) => X[t * K + k]!;
      const b = solve(xo, y);
      const e = Array.from({ length: T }, (_, t) => y(t) - b.reduce((s, bk, k) => s + bk * xo(t, k), 0));
      let r1 = 0,
        r0 = 0; // prettier-ignore
      for (let t = 0; t < T; t++) {
        r0 += e[t]! ** 2;
        if (t > 0) r1 += e[t]! * e[t - 1]!;
      }
      // nilearn >= 0.8's Yule-Walker (the default): (r1 / (T - 1)) / (r0 / T); <= 0.7: r1 / r0.
      const rho = Math.trunc((r1 / (T - 1) / (r0 / T)) * 100) / 100;
      expect(fit.rho[v]).toBeCloseTo(rho, 6);
      const old = fitGlm(series, design, { noiseModel: 'ar1', ar1Estimator: 'lag-ratio' });
      expect(old.rho[v]).toBeCloseTo(Math.trunc((r1 / r0) * 100) / 100, 6);
      const xw = (t: number, k: number) => xo(t, k) - (t > 0 ? rho * xo(t - 1, k) : 0);
      const yw = (t: number) => y(t) - (t > 0 ? rho * y(t - 1) : 0);
      const bw = solve(xw, yw);
      bw.forEach((bk, k) => expect(fit.betas[k * 40 + v]).toBeCloseTo(bk, 3));
      let ssr = 0;
      for (let t = 0; t < T; t++) ssr += (yw(t) - bw.reduce((s, bk, k) => s + bk * xw(t, k), 0)) ** 2;
      expect(fit.residualVariance[v]! / (ssr / (T - K))).toBeCloseTo(1, 4);
    }
  });

  it('skips invalid voxels with NaN maps', () => {
    const series = simulate(design, planted.slice(0, 3), () => 0);
    const fit = fitGlm(series, design, { valid: Uint8Array.from([1, 0, 1]) });
    expect(Number.isNaN(fit.betas[0 * 3 + 1]!)).toBe(true);
    expect(Number.isNaN(fit.residualVariance[1]!)).toBe(true);
    expect(Number.isNaN(fit.betas[0 * 3 + 2]!)).toBe(false);
  });
});

describe('scaleToPercentSignalChange (nilearn mean_scaling)', () => {
  it('maps each series to 100 (y / mean - 1) and flags NaN, zero-mean and constant voxels', () => {
    const T = 4;
    const s = Float32Array.from([
      90,
      110,
      100,
      100,
      /**/ 0,
      0,
      0,
      0,
      /**/ 5,
      5,
      5,
      5,
      /**/ 1,
      Number.NaN,
      1,
      1,
      /**/ -1,
      1,
      -2,
      2,
    ]);
    const r = scaleToPercentSignalChange(s, T);
    expect(Array.from(s.subarray(0, 4))).toEqual([-10, 10, 0, 0]);
    expect(Array.from(r.valid)).toEqual([1, 0, 0, 0, 0]);
    expect(r.skipped).toEqual({ nonFinite: 1, zeroMean: 2, constant: 1 });
    expect(r.mean[0]).toBe(100);
  });
});
