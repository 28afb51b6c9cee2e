/**
 * The GLM's AR(1) estimators, its smoothing and crossnobis's noise normalisations against numbers
 * computed by nilearn's and rsatoolbox's own code (copied into
 * analysis/bench/reference/estimators_reference.py; fixtures/README.md says how the fixture was made).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pairCount } from '@orthostim/rdm';
import { affineVoxelSizes } from '../io/affine';
import { computeSphereRdms, prepareSphereData } from '../searchlight/sphere-rdms';
import type { NoiseNormalization } from '../searchlight/crossnobis-noise';
import { fitGlm, type Ar1Estimator } from './fit-glm';
import { smoothVolumes } from './smooth-volume';

const ref = JSON.parse(readFileSync(new URL('./fixtures/estimators-reference.json', import.meta.url), 'utf8'));

describe('AR(1) estimators against nilearn run_glm', () => {
  const X: number[][] = ref.glm.design;
  const Y: number[][] = ref.glm.series; // [voxel][t]
  const T = X.length;
  const K = X[0]!.length;
  const V = Y.length;
  const design = { nRows: T, nCols: K, values: Float64Array.from(X.flat()) };
  const series = Float32Array.from(Y.flat());

  for (const estimator of ['yule-walker', 'lag-ratio'] as Ar1Estimator[]) {
    it(`${estimator}: rho, betas, residual variance and whitened residuals`, () => {
      const want = ref.glm[estimator];
      const fit = fitGlm(series, design, { noiseModel: 'ar1', ar1Estimator: estimator, residuals: true });
      for (let v = 0; v < V; v++) {
        expect(fit.rho[v]).toBeCloseTo(want.rho[v], 6);
        for (let k = 0; k < K; k++) expect(fit.betas[k * V + v]).toBeCloseTo(want.betas[k][v], 4);
        expect(fit.residualVariance[v]! / want.residualVariance[v]).toBeCloseTo(1, 4);
        for (let t = 0; t < T; t++) expect(fit.residuals![v * T + t]).toBeCloseTo(want.whitenedResiduals[v][t], 4);
      }
    });
  }

  it('the two estimators differ where T / (T - 1) crosses a 0.01 bin, and yule-walker is the default', () => {
    const yw: number[] = ref.glm['yule-walker'].rho;
    const lr: number[] = ref.glm['lag-ratio'].rho;
    expect(yw.some((r, v) => r !== lr[v])).toBe(true);
    const fit = fitGlm(series, design, { noiseModel: 'ar1' });
    yw.forEach((r, v) => expect(fit.rho[v]).toBeCloseTo(r, 6));
  });
});

describe('smoothVolumes against nilearn smooth_array (scipy gaussian_filter1d)', () => {
  it('smooths every volume with per-axis sigma from the affine, NaN as 0, reflect at the edges', () => {
    const s = ref.smoothing;
    const data = Float32Array.from(s.input as (number | null)[], (x) => (x === null ? Number.NaN : x));
    smoothVolumes(data, s.dims, affineVoxelSizes(s.affine), s.fwhmMm);
    const want: number[] = s.smoothed;
    want.forEach((w, i) => expect(Math.abs(data[i]! - w)).toBeLessThan(1e-4));
  });
});

describe('crossnobis noise normalisations against rsatoolbox calc_rdm_crossnobis', () => {
  const c = ref.crossnobis;
  const { nRuns: R, nImages: K, nVoxels: p } = c;
  const betas = {
    data: Float32Array.from((c.betas as number[][][]).flatMap((run) => run.flatMap((img) => img))),
    nRuns: R,
    nImages: K,
    nVoxels: p,
  };
  // [run][image][voxel] is how the fixture stores them; BetaSet wants [run][image][voxel] too.
  const residualVariance = Float32Array.from((c.residualVariance as number[][]).flat());
  const rows = (c.residuals as number[][])[0]!.length;
  const residualSeries = { values: Float32Array.from((c.residuals as number[][]).flat()), nRows: rows, dof: c.dof };
  const offsets = Int32Array.from([0, p]);
  const indices = Int32Array.from({ length: p }, (_, i) => i);

  const rdmOf = (normalization: NoiseNormalization, dof = c.dof) => {
    const data = prepareSphereData('crossnobis', betas, residualVariance, {
      normalization,
      residualSeries: { ...residualSeries, dof },
    });
    const out = new Float64Array(pairCount(K));
    computeSphereRdms(data, offsets, indices, 0, 1, out);
    return out;
  };

  for (const name of ['univariate', 'pooled', 'pairwise', 'multivariate', 'multivariate-eye'] as NoiseNormalization[]) {
    it(`${name} equals rsatoolbox`, () => {
      const got = rdmOf(name);
      (c.rdms[name] as number[]).forEach((w, k) => expect(got[k]! / w).toBeCloseTo(1, 5));
    });
  }

  it('multivariate with rsatoolbox default dof (rows - 1)', () => {
    const got = rdmOf('multivariate', rows - 1);
    (c.rdms['multivariate-default-dof'] as number[]).forEach((w, k) => expect(got[k]! / w).toBeCloseTo(1, 5));
  });

  it('the normalisations give different RDMs on spatially correlated, heteroscedastic noise', () => {
    const u = rdmOf('univariate');
    const m = rdmOf('multivariate');
    expect(Math.max(...u.map((x, k) => Math.abs(x - m[k]!)))).toBeGreaterThan(0.01);
  });

  it('multivariate without residual series is refused', () => {
    expect(() => prepareSphereData('crossnobis', betas, residualVariance, { normalization: 'multivariate' })).toThrow(
      /needs the GLM residual series/,
    );
  });
});
