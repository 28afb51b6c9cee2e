/**
 * Canonical haemodynamic response functions as nilearn defines them
 * (`nilearn/glm/first_level/hemodynamic_models.py`, `_gamma_difference_hrf`): a peak gamma minus a
 * scaled undershoot gamma, both shifted by one high-resolution step (`loc = dt`), sampled at
 * `linspace(0, timeLength, rint(timeLength / dt))` with dt = TR / oversampling, normalised to sum 1.
 */

export interface GammaDifferenceHrf {
  /** Peak delay (s), shape = delay / dispersion. */
  delayS: number;
  undershootS: number;
  dispersion: number;
  undershootDispersion: number;
  /** Weight of the undershoot gamma. */
  ratio: number;
}

export type HrfModelName = 'spm' | 'glover';

/** nilearn's parameters: SPM (ratio 0.167, nilearn's rounding of SPM's 1/6) and Glover (1999). */
export const HRF_MODELS = {
  spm: { delayS: 6, undershootS: 16, dispersion: 1, undershootDispersion: 1, ratio: 0.167 },
  glover: { delayS: 6, undershootS: 12, dispersion: 0.9, undershootDispersion: 0.9, ratio: 0.48 },
} as const satisfies Record<HrfModelName, GammaDifferenceHrf>;

export const HRF_MODEL_NAMES = Object.keys(HRF_MODELS) as HrfModelName[];

/** log Gamma(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error ~1e-15). */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** scipy.stats.gamma.pdf(x, shape, loc, scale). */
export function gammaPdf(x: number, shape: number, loc: number, scale: number): number {
  const z = (x - loc) / scale;
  if (z < 0) return 0;
  if (z === 0) return shape === 1 ? 1 / scale : shape < 1 ? Infinity : 0;
  return Math.exp((shape - 1) * Math.log(z) - z - logGamma(shape)) / scale;
}

/** The HRF kernel on the high-resolution grid (dt = TR / oversampling), as nilearn's `spm_hrf`/`glover_hrf`. */
export function computeHrf(
  model: HrfModelName | GammaDifferenceHrf,
  repetitionTimeS: number,
  oversampling = 50,
  timeLengthS = 32,
  onsetS = 0,
): Float64Array {
  const p = typeof model === 'string' ? HRF_MODELS[model] : model;
  const dt = repetitionTimeS / oversampling;
  const n = Math.round(timeLengthS / dt); // numpy rint: ties to even; ties never occur for real TRs
  const h = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const t = (n === 1 ? 0 : (i * timeLengthS) / (n - 1)) - onsetS;
    const v =
      gammaPdf(t, p.delayS / p.dispersion, dt, p.dispersion) -
      p.ratio * gammaPdf(t, p.undershootS / p.undershootDispersion, dt, p.undershootDispersion);
    h[i] = v;
    sum += v;
  }
  for (let i = 0; i < n; i++) h[i] = h[i]! / sum;
  return h;
}
