/**
 * Step 2 of the searchlight: the RDM of each sphere (or of any voxel group: ROI RSA uses the same
 * step) from GLM betas. Betas arrive as [run][image][voxel] (mask voxels only); `prepareSphereData`
 * turns them once into a voxel-major table so that every sphere is a gather of a few contiguous
 * rows, and `computeSphereRdms` fills condensed RDMs (see @orthostim/rdm) for a range of spheres.
 *
 * Distances (registry `SPHERE_DISTANCES`):
 * - correlation: 1 - Pearson r between the run-averaged patterns (rdm's `correlation`).
 * - euclidean: Euclidean distance between the run-averaged patterns (rdm's `euclidean`).
 * - crossnobis: cross-validated Mahalanobis distance, leave-one-run-out, as rsatoolbox's
 *   `calc_rdm_crossnobis` with a diagonal noise precision (univariate noise normalization):
 *   each run's betas are divided voxel by voxel by the square root of that run's residual variance,
 *   then, with d_r = b_i,r - b_j,r the pattern difference in run r over the p sphere voxels,
 *     d(i, j) = 1 / (R (R - 1) p) * sum over run pairs a != b of d_a . d_b.
 *   rsatoolbox averages, over folds k, d_k . mean_{l != k} d_l / p, which is the same number.
 *   Per voxel the pair sum is (sum_r d_r)^2 - sum_r d_r^2, so it is precomputed once per voxel and a
 *   sphere only sums rows. Unbiased: its expectation is the true squared distance (0 when the
 *   images do not differ), so it can be negative. Images absent from some runs (condition-rich
 *   designs, `BetaSet.present`): each pair uses only the m runs where both images have a beta, with
 *   R replaced by m; a pair in fewer than 2 such runs has no cross-validated estimate (NaN).
 *
 * A sphere whose betas hold NaN gets an all-NaN RDM; (correlation) an image whose pattern is constant
 * in the sphere gets NaN distances. The comparison step turns any NaN RDM into NaN for every model.
 */
import { PATTERN_DISTANCES, pairCount, type PatternDistanceSpec } from '@orthostim/rdm';
import { UsageError } from '@orthostim/protocol';

export type SearchlightDistance = 'correlation' | 'euclidean' | 'crossnobis';

/** GLM betas of the mask voxels, laid out [run][image][voxel]. */
export interface BetaSet {
  readonly data: Float32Array | Float64Array;
  readonly nRuns: number;
  readonly nImages: number;
  readonly nVoxels: number;
  /**
   * Crossnobis only: [run][image], 1 where the image has a beta in the run (condition-rich
   * designs); the values of absent images are ignored. Absent: every image in every run.
   */
  readonly present?: Uint8Array;
}

/** What a sphere's RDM is computed from: one voxel-major row of `width` values per mask voxel. */
export interface SphereData {
  readonly distance: SearchlightDistance;
  readonly nImages: number;
  readonly nVoxels: number;
  readonly width: number;
  /** Voxel-major, on a SharedArrayBuffer so that worker threads read it in place. */
  readonly values: Float64Array;
}

interface SphereDistanceSpec {
  readonly description: string;
  /** Values per voxel in the prepared table. */
  readonly width: (nImages: number) => number;
  readonly minRuns: number;
  /** Fill the voxel-major table. */
  readonly prepare: (betas: BetaSet, out: Float64Array, residualVariance?: ArrayLike<number>) => void;
  /** 'gram': distances from the sphere's Gram matrix; 'mean': mean of the rows. */
  readonly kernel:
    | { readonly kind: 'gram'; readonly center: boolean; readonly spec: PatternDistanceSpec }
    | { readonly kind: 'mean' };
}

/** Voxels per block when transposing [run][image][voxel] to voxel-major: keeps the reads streaming. */
const VOXEL_BLOCK = 512;

/**
 * Copy voxels v0 .. v0+nv of every (run, image) row into block[(r * K + i) * nv + t]: contiguous
 * reads from each row, so the later per-voxel loops stay in cache.
 */
function copyVoxelBlock(betas: BetaSet, v0: number, nv: number, block: Float64Array): void {
  const rows = betas.nRuns * betas.nImages;
  const V = betas.nVoxels;
  const data = betas.data;
  for (let q = 0; q < rows; q++) {
    const src = q * V + v0;
    const dst = q * nv;
    for (let t = 0; t < nv; t++) block[dst + t] = data[src + t] as number;
  }
}

/** Run-averaged patterns, voxel-major: out[v * K + i] = mean over runs of beta(run, i, v). */
function prepareRunAverage(betas: BetaSet, out: Float64Array): void {
  const { nRuns: R, nImages: K, nVoxels: V } = betas;
  const block = new Float64Array(R * K * VOXEL_BLOCK);
  for (let v0 = 0; v0 < V; v0 += VOXEL_BLOCK) {
    const nv = Math.min(VOXEL_BLOCK, V - v0);
    copyVoxelBlock(betas, v0, nv, block);
    for (let t = 0; t < nv; t++) {
      const o = (v0 + t) * K;
      for (let i = 0; i < K; i++) {
        let sum = 0;
        for (let r = 0; r < R; r++) sum += block[(r * K + i) * nv + t] as number;
        out[o + i] = sum / R;
      }
    }
  }
}

/**
 * Per pair of images, 1 / (m (m - 1)) with m the runs where both have a beta (`present`); NaN
 * where m < 2. Without `present` every pair has all R runs.
 */
export function crossnobisPairScales(nRuns: number, nImages: number, present?: Uint8Array): Float64Array {
  const scales = new Float64Array(pairCount(nImages));
  let k = 0;
  for (let i = 0; i < nImages; i++) {
    for (let j = i + 1; j < nImages; j++) {
      let m = 0;
      for (let r = 0; r < nRuns; r++) if (!present || (present[r * nImages + i] && present[r * nImages + j])) m++;
      scales[k++] = m >= 2 ? 1 / (m * (m - 1)) : Number.NaN;
    }
  }
  return scales;
}

/**
 * Crossnobis rows with absent images: as prepareCrossnobis, each pair over the m runs where both
 * images have a beta, scaled by 1 / (m (m - 1)). `x` holds the run's noise-normalized betas.
 */
function crossnobisPresentPairs(
  x: Float64Array,
  present: Uint8Array,
  scales: Float64Array,
  R: number,
  K: number,
  out: Float64Array,
  k0: number,
): void {
  let k = k0;
  for (let i = 0; i < K; i++) {
    for (let j = i + 1; j < K; j++) {
      let ds = 0;
      let within = 0;
      for (let r = 0; r < R; r++) {
        if (!present[r * K + i] || !present[r * K + j]) continue;
        const d = (x[r * K + i] as number) - (x[r * K + j] as number);
        ds += d;
        within += d * d;
      }
      out[k] = (ds * ds - within) * (scales[k - k0] as number);
      k++;
    }
  }
}

/**
 * Crossnobis rows: out[v * P + pair(i, j)] = ((sum_r d_r)^2 - sum_r d_r^2) / (R (R - 1)) with
 * d_r = (b_i,r - b_j,r) / sigma_r(v); the sphere RDM is the mean of its voxels' rows. With
 * `betas.present` (images absent from some runs) each pair sums over the m runs where both images
 * have a beta, / (m (m - 1)); a pair with m < 2 is NaN.
 */
function prepareCrossnobis(betas: BetaSet, out: Float64Array, residualVariance?: ArrayLike<number>): void {
  const { nRuns: R, nImages: K, nVoxels: V } = betas;
  const P = pairCount(K);
  if (residualVariance && residualVariance.length !== V && residualVariance.length !== R * V) {
    throw new UsageError(
      `crossnobis: residual variance must hold one value per voxel (${V}) or per run and voxel (${R}*${V} = ${R * V}); got ${residualVariance.length}`,
    );
  }
  const perRun = residualVariance !== undefined && residualVariance.length === R * V;
  const x = new Float64Array(R * K);
  const s = new Float64Array(K);
  const scale = 1 / (R * (R - 1));
  const pairScales = betas.present ? crossnobisPairScales(R, K, betas.present) : null;
  const block = new Float64Array(R * K * VOXEL_BLOCK);
  let v0 = -VOXEL_BLOCK;
  let nv = 0;
  for (let v = 0; v < V; v++) {
    if (v >= v0 + nv) {
      v0 = v;
      nv = Math.min(VOXEL_BLOCK, V - v0);
      copyVoxelBlock(betas, v0, nv, block);
    }
    const t = v - v0;
    s.fill(0);
    const present = betas.present;
    for (let r = 0; r < R; r++) {
      let w = 1;
      if (residualVariance) {
        const sigma2 = residualVariance[perRun ? r * V + v : v] as number;
        w = sigma2 > 0 ? 1 / Math.sqrt(sigma2) : Number.NaN; // no noise estimate: the voxel is unusable
      }
      for (let i = 0; i < K; i++) {
        const b = (block[(r * K + i) * nv + t] as number) * w;
        x[r * K + i] = b;
        s[i] = (s[i] as number) + b;
      }
    }
    if (present) {
      crossnobisPresentPairs(x, present, pairScales!, R, K, out, v * P);
      continue;
    }
    let k = v * P;
    for (let i = 0; i < K; i++) {
      for (let j = i + 1; j < K; j++) {
        const ds = (s[i] as number) - (s[j] as number);
        let within = 0;
        for (let r = 0; r < R; r++) {
          const d = (x[r * K + i] as number) - (x[r * K + j] as number);
          within += d * d;
        }
        out[k++] = (ds * ds - within) * scale;
      }
    }
  }
}

export const SPHERE_DISTANCES = {
  correlation: {
    description: '1 - Pearson r between the run-averaged patterns (default)',
    width: (K) => K,
    minRuns: 1,
    prepare: prepareRunAverage,
    kernel: { kind: 'gram', center: true, spec: PATTERN_DISTANCES.correlation },
  },
  euclidean: {
    description: 'Euclidean distance between the run-averaged patterns',
    width: (K) => K,
    minRuns: 1,
    prepare: prepareRunAverage,
    kernel: { kind: 'gram', center: false, spec: PATTERN_DISTANCES.euclidean },
  },
  crossnobis: {
    description: 'cross-validated Mahalanobis distance (leave-one-run-out), noise-normalized by the residual variance',
    width: (K) => pairCount(K),
    minRuns: 2,
    prepare: prepareCrossnobis,
    kernel: { kind: 'mean' },
  },
} as const satisfies Record<SearchlightDistance, SphereDistanceSpec>;

export const SPHERE_DISTANCE_NAMES = Object.keys(SPHERE_DISTANCES) as SearchlightDistance[];

export function isSearchlightDistance(name: string): name is SearchlightDistance {
  return Object.hasOwn(SPHERE_DISTANCES, name);
}

/**
 * Prepare betas for `computeSphereRdms`. `residualVariance` (crossnobis only; one value per voxel,
 * or [run][voxel]) normalizes each voxel by its noise; without it crossnobis is the cross-validated
 * Euclidean distance of the betas as given.
 */
export function prepareSphereData(
  distance: SearchlightDistance,
  betas: BetaSet,
  residualVariance?: ArrayLike<number>,
): SphereData {
  if (!isSearchlightDistance(distance)) {
    throw new UsageError(
      `--distance must be one of ${SPHERE_DISTANCE_NAMES.join(', ')}; got ${JSON.stringify(distance)}`,
    );
  }
  const { nRuns, nImages, nVoxels, data } = betas;
  if (!(nImages >= 2 && nRuns >= 1 && nVoxels >= 1) || data.length !== nRuns * nImages * nVoxels) {
    throw new UsageError(
      `betas must hold runs*images*voxels = ${nRuns}*${nImages}*${nVoxels} values with at least 2 images; got ${data.length} values`,
    );
  }
  const spec: SphereDistanceSpec = SPHERE_DISTANCES[distance];
  if (nRuns < spec.minRuns) {
    throw new UsageError(
      `--distance ${distance} needs at least ${spec.minRuns} runs (it cross-validates across runs); got ${nRuns}`,
    );
  }
  if (betas.present && (distance !== 'crossnobis' || betas.present.length !== nRuns * nImages)) {
    throw new UsageError(
      `betas with images absent from runs (present, ${betas.present.length} flags) are for --distance crossnobis with runs*images = ${nRuns * nImages} flags; got --distance ${distance}`,
    );
  }
  if (residualVariance && distance !== 'crossnobis') {
    throw new UsageError(
      `residual variances are used by --distance crossnobis only; got them with --distance ${distance}`,
    );
  }
  const width = spec.width(nImages);
  const values = new Float64Array(new SharedArrayBuffer(nVoxels * width * Float64Array.BYTES_PER_ELEMENT));
  spec.prepare(betas, values, residualVariance);
  return { distance, nImages, nVoxels, width, values };
}

/** Reusable per-thread buffers of `computeSphereRdms`. */
export interface SphereScratch {
  buf: Float64Array;
  gram: Float64Array;
}

export function createSphereScratch(data: Pick<SphereData, 'nImages' | 'width'>, maxSphereSize: number): SphereScratch {
  const kPad = Math.ceil(data.nImages / 4) * 4;
  return { buf: new Float64Array(kPad * Math.max(1, maxSphereSize) + data.width), gram: new Float64Array(kPad * kPad) };
}

/** Largest group in a CSR neighbour table. */
export function maxGroupSize(offsets: Int32Array): number {
  let max = 0;
  for (let c = 0; c + 1 < offsets.length; c++) max = Math.max(max, (offsets[c + 1] as number) - (offsets[c] as number));
  return max;
}

/**
 * Gram matrix of one sphere's patterns (image-major in `buf`, rows padded with zeros to a
 * multiple of 4): 4 x 2 register blocks, so each loaded value feeds several products.
 */
function blockedGram(buf: Float64Array, kPad: number, p: number, gram: Float64Array): void {
  for (let I = 0; I < kPad; I += 4) {
    const r0 = I * p;
    const r1 = r0 + p;
    const r2 = r1 + p;
    const r3 = r2 + p;
    for (let J = I; J < kPad; J += 2) {
      const c0 = J * p;
      const c1 = c0 + p;
      let a00 = 0,
        a01 = 0,
        a10 = 0,
        a11 = 0,
        a20 = 0,
        a21 = 0,
        a30 = 0,
        a31 = 0;
      for (let t = 0; t < p; t++) {
        const y0 = buf[c0 + t] as number;
        const y1 = buf[c1 + t] as number;
        const x0 = buf[r0 + t] as number;
        const x1 = buf[r1 + t] as number;
        const x2 = buf[r2 + t] as number;
        const x3 = buf[r3 + t] as number;
        a00 += x0 * y0;
        a01 += x0 * y1;
        a10 += x1 * y0;
        a11 += x1 * y1;
        a20 += x2 * y0;
        a21 += x2 * y1;
        a30 += x3 * y0;
        a31 += x3 * y1;
      }
      const g = I * kPad + J;
      gram[g] = a00;
      gram[g + 1] = a01;
      gram[g + kPad] = a10;
      gram[g + kPad + 1] = a11;
      gram[g + 2 * kPad] = a20;
      gram[g + 2 * kPad + 1] = a21;
      gram[g + 3 * kPad] = a30;
      gram[g + 3 * kPad + 1] = a31;
    }
  }
}

/**
 * Condensed RDMs of groups `start .. end-1` of the neighbour table (`offsets`/`indices` as in
 * `SearchlightNeighbors`), written row by row into `out` (pairCount(nImages) values per group).
 */
export function computeSphereRdms(
  data: SphereData,
  offsets: Int32Array,
  indices: Int32Array,
  start: number,
  end: number,
  out: Float64Array,
  scratch: SphereScratch = createSphereScratch(data, maxGroupSize(offsets.subarray(start, end + 1))),
): void {
  const K = data.nImages;
  const P = pairCount(K);
  const W = data.width;
  const values = data.values;
  const kernel = SPHERE_DISTANCES[data.distance].kernel;
  if (out.length < (end - start) * P) {
    throw new RangeError(`computeSphereRdms: out holds ${out.length} values; need ${(end - start) * P}`);
  }
  const { buf, gram } = scratch;
  const kPad = Math.ceil(K / 4) * 4;
  for (let c = start; c < end; c++) {
    const a = offsets[c] as number;
    const p = (offsets[c + 1] as number) - a;
    let o = (c - start) * P;
    if (p === 0) {
      out.fill(Number.NaN, o, o + P);
      continue;
    }
    if (kernel.kind === 'mean') {
      const acc = buf.subarray(0, W);
      acc.fill(0);
      for (let t = 0; t < p; t++) {
        const src = (indices[a + t] as number) * W;
        for (let k = 0; k < W; k++) acc[k] = (acc[k] as number) + (values[src + k] as number);
      }
      let finite = true;
      for (let k = 0; k < W; k++) {
        const d = (acc[k] as number) / p;
        if (!(d - d === 0)) finite = false;
        out[o++] = d;
      }
      if (!finite) out.fill(Number.NaN, o - W, o); // a NaN voxel spoils the whole sphere, as in the sliding kernel
      continue;
    }
    if (buf.length < kPad * p) throw new RangeError(`computeSphereRdms: scratch too small for a group of ${p} voxels`);
    // Gather image-major rows (row i at i * p), then centre each row; a constant row becomes exact
    // zeros so that its correlations are NaN rather than rounding noise.
    for (let t = 0; t < p; t++) {
      const src = (indices[a + t] as number) * K;
      for (let i = 0; i < K; i++) buf[i * p + t] = values[src + i] as number;
    }
    buf.fill(0, K * p, kPad * p);
    let finite = true;
    for (let i = 0; i < K; i++) {
      const r = i * p;
      const first = buf[r] as number;
      let sum = 0;
      let constant = true;
      for (let t = 0; t < p; t++) {
        const x = buf[r + t] as number;
        sum += x;
        if (x !== first) constant = false;
      }
      if (!(sum - sum === 0)) finite = false;
      if (!kernel.center) continue;
      const mean = constant ? first : sum / p;
      for (let t = 0; t < p; t++) buf[r + t] = (buf[r + t] as number) - mean;
    }
    if (!finite) {
      // A NaN voxel spoils the whole sphere (not only the pairs of its image).
      out.fill(Number.NaN, o, o + P);
      continue;
    }
    blockedGram(buf, kPad, p, gram);
    const fromGram = kernel.spec.fromGram;
    for (let i = 0; i < K; i++) {
      const gii = gram[i * kPad + i] as number;
      for (let j = i + 1; j < K; j++)
        out[o++] = fromGram(gii, gram[j * kPad + j] as number, gram[i * kPad + j] as number);
    }
  }
}
