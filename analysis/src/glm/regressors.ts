/**
 * Event regressors and drifts with nilearn's semantics (`compute_regressor`, `_sample_condition`,
 * `_resample_regressor`, `_cosine_drift`): events become a boxcar on a grid `oversampling` times
 * finer than the TR starting 24 s before the first frame, the boxcar is convolved with the HRF and
 * linearly interpolated at the frame times.
 *
 * The convolution is not done sample by sample: a boxcar is a sum of steps, and a step convolved
 * with h is the running sum H of h, so the convolved regressor at high-resolution index i is
 * sum over events of v (H[i - on] - H[i - off]); only the two indices around each frame time are
 * evaluated. Same numbers as np.convolve of the cumsum'd boxcar, at a fraction of the cost.
 */
import { computeHrf, type HrfModelName, type GammaDifferenceHrf } from './hrf';

export interface ConditionEvent {
  onsetS: number;
  durationS: number;
  /** Amplitude (nilearn's "modulation"); 1 for an ordinary trial. */
  amplitude: number;
}

/** Frame times (s) of a run: volume i at i x TR + reference (0: start of the volume). */
export function computeFrameTimes(nScans: number, repetitionTimeS: number, referenceS = 0): Float64Array {
  const f = new Float64Array(nScans);
  for (let i = 0; i < nScans; i++) f[i] = referenceS + i * repetitionTimeS;
  return f;
}

/** First index of sorted `a` with a[i] >= x (numpy searchsorted, side left). */
function searchSorted(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface RegressorOptions {
  hrf?: HrfModelName | GammaDifferenceHrf;
  oversampling?: number;
  /** Events starting more than this before the first frame are clipped to the grid start (nilearn -24 s). */
  minOnsetS?: number;
}

/** One condition's regressor sampled at `frameTimes`, as nilearn's `compute_regressor(..., 'spm')`. */
export function computeRegressor(
  events: readonly ConditionEvent[],
  frameTimes: Float64Array,
  options: RegressorOptions = {},
): Float64Array {
  const oversampling = options.oversampling ?? 50;
  const minOnset = options.minOnsetS ?? -24;
  const n = frameTimes.length;
  if (n < 2) throw new RangeError('computeRegressor: needs at least 2 frames');
  let tr = Infinity;
  let fMin = Infinity;
  let fMax = -Infinity;
  for (let i = 0; i < n; i++) {
    fMin = Math.min(fMin, frameTimes[i]!);
    fMax = Math.max(fMax, frameTimes[i]!);
    if (i > 0) tr = Math.min(tr, frameTimes[i]! - frameTimes[i - 1]!);
  }
  // _compute_n_frames_high_res and the linspace of _sample_condition
  const nHrExact = ((n - 1) / (fMax - fMin)) * (fMax * (1 + 1 / (n - 1)) - fMin - minOnset) * oversampling + 1;
  const nHr = Math.round(nHrExact);
  const start = fMin + minOnset;
  const stop = fMax * (1 + 1 / (n - 1));
  const step = (stop - start) / (nHr - 1);
  const hrTimes = new Float64Array(nHr);
  for (let i = 0; i < nHr; i++) hrTimes[i] = start + i * step;
  hrTimes[nHr - 1] = stop;
  const tmax = nHr;
  // Step positions: onset and offset indices on the high-resolution grid.
  const on: number[] = [];
  const off: number[] = [];
  const amp: number[] = [];
  for (const e of events) {
    const tOn = Math.min(searchSorted(hrTimes, e.onsetS), tmax - 1);
    let tOff = Math.min(searchSorted(hrTimes, e.onsetS + e.durationS), tmax - 1);
    if (tOff < tmax - 1 && tOff === tOn) tOff += 1; // a zero duration still lasts one sample
    on.push(tOn);
    off.push(tOff);
    amp.push(e.amplitude);
  }
  const h = computeHrf(options.hrf ?? 'spm', tr, oversampling);
  const running = new Float64Array(h.length);
  let acc = 0;
  for (let j = 0; j < h.length; j++) running[j] = acc += h[j]!;
  const stepResponse = (m: number) => (m < 0 ? 0 : running[Math.min(m, h.length - 1)]!);
  const convolvedAt = (i: number) => {
    let s = 0;
    for (let e = 0; e < on.length; e++) s += amp[e]! * (stepResponse(i - on[e]!) - stepResponse(i - off[e]!));
    return s;
  };
  // interp1d (linear) at the frame times.
  const out = new Float64Array(n);
  for (let f = 0; f < n; f++) {
    const x = frameTimes[f]!;
    let j = Math.floor((x - start) / step);
    j = Math.max(0, Math.min(nHr - 2, j));
    while (j > 0 && hrTimes[j]! > x) j--;
    while (j < nHr - 2 && hrTimes[j + 1]! < x) j++;
    const x0 = hrTimes[j]!;
    const x1 = hrTimes[j + 1]!;
    const w = (x - x0) / (x1 - x0);
    out[f] = convolvedAt(j) * (1 - w) + convolvedAt(j + 1) * w;
  }
  return out;
}

/**
 * nilearn's `_cosine_drift`: a DCT-II basis of the frequencies below `highPassHz`, each column
 * sqrt(2/n) cos(pi/n (t + 1/2) k) for k = 1..order, order = min(n - 1, floor(2 n highPass dt)).
 * The constant column of nilearn's basis is left to the caller (the design's intercept).
 */
export function cosineDrift(frameTimes: Float64Array, highPassHz: number): Float64Array[] {
  const n = frameTimes.length;
  const dt = (frameTimes[n - 1]! - frameTimes[0]!) / (n - 1);
  const order = Math.min(n - 1, Math.floor(2 * n * highPassHz * dt));
  const norm = Math.sqrt(2 / n);
  const cols: Float64Array[] = [];
  for (let k = 1; k <= order; k++) {
    const c = new Float64Array(n);
    for (let t = 0; t < n; t++) c[t] = norm * Math.cos((Math.PI / n) * (t + 0.5) * k);
    cols.push(c);
  }
  return cols;
}
