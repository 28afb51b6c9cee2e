import { describe, expect, it } from 'vitest';
import { computeHrf, gammaPdf, logGamma } from './hrf';
import { computeFrameTimes, computeRegressor, cosineDrift, type ConditionEvent } from './regressors';

describe('computeHrf (nilearn spm_hrf / glover_hrf)', () => {
  it('logGamma matches factorials and Gamma(1/2) = sqrt(pi)', () => {
    expect(logGamma(6)).toBeCloseTo(Math.log(120), 12);
    expect(logGamma(16)).toBeCloseTo(Math.log(1307674368000), 10);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(gammaPdf(1, 1, 0, 1)).toBeCloseTo(Math.exp(-1), 14);
  });

  it('SPM: 800 samples for TR 2 at oversampling 50, sums to 1, peaks near 5 s and dips near 15 s', () => {
    const h = computeHrf('spm', 2, 50);
    expect(h.length).toBe(800); // rint(32 / 0.04)
    expect(h.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    const t = (i: number) => (i * 32) / 799; // linspace(0, 32, 800)
    let peak = 0;
    let dip = 0;
    for (let i = 1; i < h.length; i++) {
      if (h[i]! > h[peak]!) peak = i;
      if (h[i]! < h[dip]!) dip = i;
    }
    expect(t(peak)).toBeGreaterThan(4.9);
    expect(t(peak)).toBeLessThan(5.2);
    expect(t(dip)).toBeGreaterThan(14.5);
    expect(t(dip)).toBeLessThan(16.5);
    expect(h[dip]).toBeLessThan(0);
  });

  it('SPM values equal the closed form with integer factorials (Gamma(6) = 5!, Gamma(16) = 15!)', () => {
    const dt = 2.5 / 50;
    const h = computeHrf('spm', 2.5, 50);
    const n = h.length;
    const raw = Array.from({ length: n }, (_, i) => {
      const x = (i * 32) / (n - 1) - dt;
      if (x <= 0) return 0;
      return (x ** 5 * Math.exp(-x)) / 120 - (0.167 * x ** 15 * Math.exp(-x)) / 1307674368000;
    });
    const sum = raw.reduce((s, v) => s + v, 0);
    for (const i of [0, 1, 50, 100, 200, 400, 639]) expect(h[i]).toBeCloseTo(raw[i]! / sum, 14);
  });

  it('Glover peaks near 5 s too and undershoots more than SPM', () => {
    const s = computeHrf('spm', 1, 50);
    const g = computeHrf('glover', 1, 50);
    const argmax = (a: Float64Array) => a.reduce((m, v, i) => (v > a[m]! ? i : m), 0);
    const argmin = (a: Float64Array) => a.reduce((m, v, i) => (v < a[m]! ? i : m), 0);
    const t = (i: number) => (i * 32) / 1599;
    expect(t(argmax(g))).toBeGreaterThan(4.8);
    expect(t(argmax(g))).toBeLessThan(5.4);
    expect(g[argmin(g)]! / g[argmax(g)]!).toBeLessThan(s[argmin(s)]! / s[argmax(s)]!);
  });
});

/** nilearn's algorithm done literally: boxcar on the high-resolution grid, np.convolve, interp1d. */
function bruteForceRegressor(
  events: ConditionEvent[],
  frameTimes: Float64Array,
  tr: number,
  oversampling = 50,
  minOnset = -24,
): Float64Array {
  const n = frameTimes.length;
  const fMin = frameTimes[0]!;
  const fMax = frameTimes[n - 1]!;
  const nHr = Math.round(((n - 1) / (fMax - fMin)) * (fMax * (1 + 1 / (n - 1)) - fMin - minOnset) * oversampling + 1);
  const start = fMin + minOnset;
  const stop = fMax * (1 + 1 / (n - 1));
  const hr = Float64Array.from({ length: nHr }, (_, i) =>
    i === nHr - 1 ? stop : start + (i * (stop - start)) / (nHr - 1),
  );
  const search = (x: number) => {
    let i = 0;
    while (i < nHr && hr[i]! < x) i++;
    return i;
  };
  const d = new Float64Array(nHr);
  for (const e of events) {
    const on = Math.min(search(e.onsetS), nHr - 1);
    let off = Math.min(search(e.onsetS + e.durationS), nHr - 1);
    if (off < nHr - 1 && off === on) off++;
    d[on] = d[on]! + e.amplitude;
    d[off] = d[off]! - e.amplitude;
  }
  const box = new Float64Array(nHr);
  let acc = 0;
  for (let i = 0; i < nHr; i++) box[i] = acc += d[i]!;
  const h = computeHrf('spm', tr, oversampling);
  const conv = new Float64Array(nHr);
  for (let i = 0; i < nHr; i++) {
    let s = 0;
    for (let j = 0; j < h.length && j <= i; j++) s += h[j]! * box[i - j]!;
    conv[i] = s;
  }
  return frameTimes.map((x) => {
    let j = 0;
    while (j < nHr - 2 && hr[j + 1]! < x) j++;
    const w = (x - hr[j]!) / (hr[j + 1]! - hr[j]!);
    return conv[j]! * (1 - w) + conv[j + 1]! * w;
  });
}

describe('computeRegressor (nilearn compute_regressor, spm)', () => {
  it('equals the literal boxcar-convolve-interpolate computation', () => {
    const frames = computeFrameTimes(60, 2);
    const events: ConditionEvent[] = [
      { onsetS: 4, durationS: 1, amplitude: 1 },
      { onsetS: 30.3, durationS: 0, amplitude: 1 },
      { onsetS: 50, durationS: 12.5, amplitude: 2 },
      { onsetS: 117, durationS: 3, amplitude: 1 }, // runs past the last frame
    ];
    const fast = computeRegressor(events, frames);
    const slow = bruteForceRegressor(events, frames, 2);
    for (let i = 0; i < 60; i++) expect(fast[i]).toBeCloseTo(slow[i]!, 11);
    // slice-time reference shifts the frames: still the same algorithm
    const shifted = computeFrameTimes(60, 2, 1);
    const f2 = computeRegressor(events, shifted);
    const s2 = bruteForceRegressor(events, shifted, 2);
    for (let i = 0; i < 60; i++) expect(f2[i]).toBeCloseTo(s2[i]!, 11);
  });

  it('is 0 before the onset and reaches the HRF sum (1) during a long block', () => {
    const frames = computeFrameTimes(120, 2);
    const r = computeRegressor([{ onsetS: 20, durationS: 180, amplitude: 1 }], frames);
    for (let i = 0; i <= 10; i++) expect(r[i]).toBe(0);
    for (let i = 40; i < 100; i++) expect(r[i]).toBeCloseTo(1, 6);
  });
});

describe('cosineDrift (nilearn _cosine_drift)', () => {
  it('has floor(2 n dt / 128) orthonormal columns, orthogonal to the constant', () => {
    const frames = computeFrameTimes(300, 2);
    const cols = cosineDrift(frames, 1 / 128);
    expect(cols.length).toBe(9); // floor(2 * 300 * 2 / 128) = floor(9.375)
    for (let a = 0; a < cols.length; a++) {
      let sum = 0;
      for (let t = 0; t < 300; t++) sum += cols[a]![t]!;
      expect(Math.abs(sum)).toBeLessThan(1e-12);
      for (let b = a; b < cols.length; b++) {
        let dot = 0;
        for (let t = 0; t < 300; t++) dot += cols[a]![t]! * cols[b]![t]!;
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 12);
      }
    }
    // the slowest column completes half a cycle over the run
    expect(cols[0]![0]! * cols[0]![299]!).toBeLessThan(0);
  });
});
