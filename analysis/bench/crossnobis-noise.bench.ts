/**
 * Benchmark: the crossnobis noise normalisations (searchlight/crossnobis-noise.ts) side by side.
 *
 * 1. Speed: sphere RDMs of every centre (prepare + searchlight, 2 threads) on arrays: a 24 x 24 x 24
 *    ball mask, radius 2 voxels, 16 images x 8 runs, 8 x 150 residual rows.
 * 2. Haxby split-half reliability (../shared/data/bids/haxby2001, 12 runs, 8 categories, 25 mm
 *    voxels): the AR(1) GLM of every run once (residuals kept), then per normalisation the RDM of
 *    every brain-mask sphere (radius 1 voxel) from the odd runs and from the even runs; reliability
 *    = Pearson r between the two halves' RDMs, mean over spheres, and for the 27-voxel neighbourhood
 *    of the ventral-temporal voxel.
 * 2b. Arrays: one group whose beta noise has exactly the residuals' spatial covariance (white signal).
 * 3. Recovery on a simulated study with spatially correlated (FWHM 6 mm) and heteroscedastic (log-SD
 *    0.5) noise: 2 participants x 6 runs, 4 layer regions, SNR 0.5; per normalisation each layer's
 *    participant r map (standard RSA, Spearman, radius 6 mm), scored top-k against its true region
 *    (Dice = fraction inside, k = the region's size), mean over layers and participants.
 *
 *   npm run bench -- crossnobis-noise     (or: npx tsx analysis/bench/crossnobis-noise.bench.ts [--part speed|haxby|simulated])
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeRdm, createNormalRng, createRng, pairCount, pearson, spearman } from '@orthostim/rdm';
import { readStimulusSet } from '@orthostim/protocol/node';
import { describeLoad, requireShared, writeTestStimulusSet, type Benchmark, type BenchResult } from '@orthostim/test';
import { simulateStudy } from '@orthostim/simulation';
import { findStudyRuns, readBidsDataset } from '../src/io/bids';
import { readNifti, readVolume3d } from '../src/io/nifti';
import { fitStudyRun } from '../src/io/run-glm';
import { buildRunDesign, type RunEvent } from '../src/glm/design-matrix';
import { fitGlm } from '../src/glm/fit-glm';
import { scaleToPercentSignalChange } from '../src/glm/signal-scaling';
import { assembleBetas, type AssembledBetas, type RunBetas } from '../src/pipeline/beta-set';
import { scoreRecovery, topKMap } from '../src/recovery/recovery';
import { buildModelSet } from '../src/rsa/compare-models';
import { NOISE_NORMALIZATION_NAMES, type NoiseNormalization } from '../src/searchlight/crossnobis-noise';
import { computeSearchlightNeighbors, listMaskVoxels, type Dims } from '../src/searchlight/neighbors';
import { runSearchlight } from '../src/searchlight/run-searchlight';
import { computeSphereRdms, prepareSphereData } from '../src/searchlight/sphere-rdms';

const NAMES = NOISE_NORMALIZATION_NAMES;

function sphereData(a: AssembledBetas, normalization: NoiseNormalization) {
  return prepareSphereData('crossnobis', a.betas, a.residualVariance, {
    normalization,
    ...(a.residualSeries ? { residualSeries: a.residualSeries } : {}),
  });
}

async function speed(): Promise<BenchResult[]> {
  const n = 24;
  const dims: Dims = [n, n, n];
  const mask = new Uint8Array(n * n * n);
  for (let g = 0; g < mask.length; g++) {
    const [x, y, z] = [g % n, Math.floor(g / n) % n, Math.floor(g / (n * n))].map((c) => (c - 11.5) / 11.5);
    mask[g] = x! * x! + y! * y! + z! * z! <= 1 ? 1 : 0;
  }
  const V = mask.reduce((s, m) => s + m, 0);
  const [R, K, T] = [8, 16, 150];
  const noise = createNormalRng(4);
  const betas = { data: Float32Array.from({ length: R * K * V }, noise), nRuns: R, nImages: K, nVoxels: V };
  const rv = Float32Array.from({ length: R * V }, () => 0.5 + Math.abs(noise()));
  const residualSeries = { values: Float32Array.from({ length: V * R * T }, noise), nRows: R * T, dof: R * (T - 30) };
  const rng = createRng(2);
  const models = buildModelSet(
    ['a', 'b'],
    [0, 1].map(() => Float64Array.from({ length: pairCount(K) }, rng)),
    'spearman',
    ['standard'],
  );
  const out: BenchResult[] = [];
  for (const name of NAMES) {
    const t0 = performance.now();
    const neighbors = computeSearchlightNeighbors(mask, dims, { radius: 2, unit: 'voxel', table: true });
    const data = prepareSphereData('crossnobis', betas, rv, { normalization: name, residualSeries });
    const res = await runSearchlight(data, neighbors, models, { threads: 2 });
    const s = (performance.now() - t0) / 1000;
    const note = `${V} voxels, ${res.nCenters} centres, radius 2 vox (33-voxel spheres), ${K} images x ${R} runs, ${R * T} residual rows, ${res.kernel} kernel, 2 threads; ${describeLoad()}`;
    out.push({ metric: `speed ${name}`, value: s, unit: 's', note });
  }
  return out;
}

/** Every run's AR(1) GLM (residuals kept) read back as RunBetas at the brain-mask voxels. */
export async function fitRuns(
  bidsDir: string,
  participant: string,
  set: { sha256: string; images: { id: string; file: string }[] },
  tmp: string,
  maskPath?: string,
) {
  const runs = findStudyRuns(readBidsDataset(bidsDir), participant);
  const mask = readVolume3d(maskPath ?? runs[0]!.maskPath!, 'mask');
  const dims = [mask.dims[0], mask.dims[1], mask.dims[2]] as Dims;
  const candidates = listMaskVoxels(mask.data, dims);
  const runBetas: RunBetas[] = [];
  for (const [i, run] of runs.entries()) {
    const res = await fitStudyRun(run, {
      stimulusSet: set,
      outDir: tmp,
      keepResiduals: true,
      threads: 2,
      ...(maskPath ? { maskPath } : {}),
    });
    const row = new Map<number, number>();
    res.voxels.forEach((g, k) => row.set(g, k));
    const T = res.residuals!.nVolumes;
    const images = new Map<string, Float32Array>();
    let rv = new Float32Array(0);
    for (const f of res.files) {
      if (f.stat !== 'beta' && f.stat !== 'residual-variance') continue;
      const vol = readNifti(join(tmp, f.path)).data;
      const data = Float32Array.from(candidates, (g) => vol[g]!);
      if (f.stat === 'beta') images.set(f.image!, data);
      else rv = data;
    }
    const values = new Float32Array(candidates.length * T);
    candidates.forEach((g, c) =>
      values.set(res.residuals!.values.subarray(row.get(g)! * T, (row.get(g)! + 1) * T), c * T),
    );
    runBetas.push({
      run: String(i + 1),
      images,
      residualVariance: rv,
      residuals: { values, nVolumes: T, dfResidual: res.residuals!.dfResidual },
    });
  }
  return { mask, dims, candidates, runBetas };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Pearson r between two halves' RDMs per group (condensed, P values each), NaN groups left out. */
function halfAgreement(a: Float64Array, b: Float64Array, P: number): number[] {
  const rs: number[] = [];
  for (let c = 0; c < a.length / P; c++) {
    const r = pearson(a.subarray(c * P, (c + 1) * P), b.subarray(c * P, (c + 1) * P));
    if (Number.isFinite(r)) rs.push(r);
  }
  return rs;
}

/**
 * Split-half reliability of every normalisation: RDMs of the spheres (and of `region`, positions
 * among the analysis voxels) from the odd and from the even runs, Pearson r between the halves.
 */
function splitHalf(
  tag: string,
  ids: readonly string[],
  dims: Dims,
  candidates: Int32Array,
  runBetas: readonly RunBetas[],
  radiusVox: number,
  region?: (voxels: Int32Array) => Int32Array,
): BenchResult[] {
  const halves = [runBetas.filter((_, i) => i % 2 === 0), runBetas.filter((_, i) => i % 2 === 1)];
  const assembled = halves.map((h) => assembleBetas(candidates, h, ids, 'crossnobis', `${tag} half`));
  const voxels = assembled[0]!.voxels;
  if (voxels.join() !== assembled[1]!.voxels.join()) throw new Error(`${tag}: the halves differ in voxels`);
  const analysisMask = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (const g of voxels) analysisMask[g] = 1;
  const nb = computeSearchlightNeighbors(analysisMask, dims, { radius: radiusVox, unit: 'voxel', minFraction: 0 });
  const roi = region?.(voxels);
  const P = pairCount(ids.length);
  const note = `${nb.centers.length} spheres (radius ${radiusVox} voxels), ${halves[0]!.length} odd vs ${halves[1]!.length} even runs, ${ids.length} categories`;
  return NAMES.flatMap((name) => {
    const rdms = assembled.map((a) => {
      const data = sphereData(a, name);
      const spheres = new Float64Array(nb.centers.length * P);
      computeSphereRdms(data, nb.offsets, nb.indices, 0, nb.centers.length, spheres);
      const r = new Float64Array(P);
      if (roi) computeSphereRdms(data, Int32Array.from([0, roi.length]), roi, 0, 1, r);
      return { spheres, r };
    });
    const rs = halfAgreement(rdms[0]!.spheres, rdms[1]!.spheres, P);
    return [
      { metric: `${tag} split-half r, spheres (mean) ${name}`, value: mean(rs), unit: 'r', note },
      ...(roi
        ? [
            {
              metric: `${tag} split-half r, region ${name}`,
              value: pearson(rdms[0]!.r, rdms[1]!.r),
              unit: 'r',
              note: `${roi.length} voxels`,
            },
          ]
        : []),
    ];
  });
}

const HAXBY_CATEGORIES = ['scissors', 'face', 'cat', 'shoe', 'house', 'scrambledpix', 'bottle', 'chair'];

/** The BIDS Haxby runs (25 mm voxels); region: the ventral-temporal voxel's 3 x 3 x 3 neighbourhood. */
async function haxby(): Promise<BenchResult[]> {
  const bids = requireShared('data/bids/haxby2001');
  const tmp = mkdtempSync(join(tmpdir(), 'orthostim-bench-cn-haxby-'));
  try {
    const ids = HAXBY_CATEGORIES;
    const set = { sha256: 'not recorded', images: ids.map((id) => ({ id, file: `${id}.png` })) };
    const { dims, candidates, runBetas } = await fitRuns(bids, '1', set, tmp);
    const vt = readNifti(join(bids, 'derivatives', 'masks', 'sub-1', 'sub-1_desc-vt_mask.nii.gz'));
    const v0 = [...vt.data.keys()].find((g) => vt.data[g]! > 0)!;
    const xyz = (g: number) => [g % dims[0], Math.floor(g / dims[0]) % dims[1], Math.floor(g / (dims[0] * dims[1]))];
    const near = (voxels: Int32Array) =>
      Int32Array.from(
        [...voxels.keys()].filter((k) => xyz(voxels[k]!).every((c, a) => Math.abs(c - xyz(v0)[a]!) <= 1)),
      );
    return splitHalf('haxby BIDS 25 mm', ids, dims, candidates, runBetas, 1, near);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The same subject at its native 3.75 mm resolution: PyMVPA's one posterior slice of all 12 runs
 * (data/bold/pymvpa_example, per-volume labels), each run's AR(1) GLM fitted here on arrays with
 * the labels' blocks as events. Region: the whole slice mask.
 */
function haxbySlice(): BenchResult[] {
  const dir = requireShared('data/bold/pymvpa_example');
  const bold = readNifti(join(dir, 'bold.nii.gz'));
  const mask = readVolume3d(join(dir, 'mask.nii.gz'), 'mask');
  const dims = [mask.dims[0], mask.dims[1], mask.dims[2]] as Dims;
  const candidates = listMaskVoxels(mask.data, dims);
  const labels = readFileSync(join(dir, 'attributes_literal.txt'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(' ')[0]!);
  const [nvox, T, V, tr] = [dims[0] * dims[1] * dims[2], 121, candidates.length, 2.5];
  const runBetas: RunBetas[] = [];
  for (let r = 0; r < 12; r++) {
    const series = new Float32Array(V * T);
    candidates.forEach((g, v) => {
      for (let t = 0; t < T; t++) series[v * T + t] = bold.data[(r * T + t) * nvox + g]!;
    });
    const events: RunEvent[] = [];
    for (let t = 0; t < T; t++) {
      const l = labels[r * T + t]!;
      if (l === 'rest' || (t > 0 && labels[r * T + t - 1] === l)) continue;
      let n = 1;
      while (t + n < T && labels[r * T + t + n] === l) n++;
      events.push({ onsetS: t * tr, durationS: n * tr, imageId: l, trialType: l });
    }
    const design = buildRunDesign({ nScans: T, repetitionTimeS: tr, images: HAXBY_CATEGORIES, events });
    const scaling = scaleToPercentSignalChange(series, T);
    const fit = fitGlm(series, design, { noiseModel: 'ar1', valid: scaling.valid, residuals: true });
    const images = new Map(
      design.columns.flatMap((c, k) =>
        c.kind === 'image' ? [[c.name, fit.betas.slice(k * V, (k + 1) * V)] as const] : [],
      ),
    );
    runBetas.push({
      run: String(r + 1),
      images,
      residualVariance: fit.residualVariance,
      residuals: { values: fit.residuals!, nVolumes: T, dfResidual: fit.dfResidual },
    });
  }
  return splitHalf('haxby slice 3.75 mm', HAXBY_CATEGORIES, dims, candidates, runBetas, 2, (voxels) =>
    Int32Array.from(voxels.keys()),
  );
}

/** A 16-image set whose 4 layer RDMs come from independent random features. */
export async function randomLayerSet(dir: string): Promise<string> {
  const n = 16;
  const rng = createNormalRng(5);
  const rdms: Record<string, number[]> = {};
  for (let l = 0; l < 4; l++)
    rdms[`layer${l}`] = Array.from(computeRdm(Float64Array.from({ length: n * 40 }, rng), n, 40, 'correlation'));
  return writeTestStimulusSet(dir, n, 32, { rdms, distance: 'correlation' });
}

async function simulated(): Promise<BenchResult[]> {
  const tmp = mkdtempSync(join(tmpdir(), 'orthostim-bench-cn-sim-'));
  try {
    const stimuli = await randomLayerSet(join(tmp, 'set'));
    const loaded = readStimulusSet(stimuli);
    const bids = join(tmp, 'bids');
    const sim = await simulateStudy({
      stimuli,
      outDir: bids,
      participants: 2,
      runs: 6,
      snr: 0.5,
      brainMm: [72, 108, 60],
      noiseFwhmMm: 6,
      noiseHeteroscedasticity: 0.5,
    });
    const truthDir = join(bids, 'derivatives', 'truth');
    const truth = JSON.parse(readFileSync(join(truthDir, 'index.json'), 'utf8')) as {
      layers: { layer: string; mask: string }[];
    };
    const layers = truth.layers.map((l) => l.layer);
    const regions = truth.layers.map((l) => readNifti(join(truthDir, l.mask)).data);
    const set = loaded.set;
    const models = buildModelSet(
      layers,
      layers.map((l) => Float64Array.from(loaded.rdms[set.layers.indexOf(l)]!)),
      'spearman',
      ['standard'],
    );
    const dice = new Map<NoiseNormalization, number[]>(NAMES.map((n) => [n, []]));
    const seconds = new Map<NoiseNormalization, number>(NAMES.map((n) => [n, 0]));
    for (const p of sim.participants) {
      const images = set.images.map((i) => ({ id: i.id, file: i.file }));
      const { dims, candidates, runBetas } = await fitRuns(
        bids,
        p,
        { sha256: set.sha256, images },
        join(tmp, `glm-${p}`),
      );
      const a = assembleBetas(
        candidates,
        runBetas,
        images.map((i) => i.id),
        'crossnobis',
        `sub-${p}`,
      );
      const analysisMask = new Uint8Array(dims[0] * dims[1] * dims[2]);
      for (const g of a.voxels) analysisMask[g] = 1;
      const nb = computeSearchlightNeighbors(analysisMask, dims, { radius: 6, unit: 'mm', voxelSizesMm: [3, 3, 3] });
      for (const name of NAMES) {
        const t0 = performance.now();
        const res = await runSearchlight(sphereData(a, name), nb, models, { threads: 2 });
        seconds.set(name, seconds.get(name)! + (performance.now() - t0) / 1000);
        const maps = layers.map((_, m) => {
          const grid = new Float32Array(analysisMask.length).fill(Number.NaN);
          nb.centers.forEach((c, k) => (grid[nb.maskVoxels[c]!] = res.r[m * res.nCenters + k]!));
          const size = Array.from(regions[m]!).filter((x) => x > 0).length;
          return topKMap(grid, size);
        });
        const table = scoreRecovery(layers, maps, regions, 'top-k');
        dice.get(name)!.push(...table.rows.map((r) => r.dice));
      }
    }
    const note = `2 participants x 6 runs, 4 layers, SNR 0.5, noise FWHM 6 mm, log-SD 0.5, radius 6 mm, spearman, top-k`;
    return NAMES.flatMap((name) => [
      { metric: `simulated top-k Dice (mean) ${name}`, value: mean(dice.get(name)!), unit: 'Dice', note },
      { metric: `simulated searchlight time ${name}`, value: seconds.get(name)!, unit: 's', note: describeLoad() },
    ]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Arrays only: one 33-voxel group, 8 images x 6 runs, beta noise drawn with the same spatially
 * smooth (Gaussian, sigma 1.2 voxels along a line) and heteroscedastic covariance as 600 residual
 * rows; white signal. Spearman r of each normalisation's RDM with the true squared Euclidean RDM,
 * mean over 30 draws: the case multivariate noise normalisation is made for.
 */
function whitening(): BenchResult[] {
  const [p, R, K, N] = [33, 6, 8, 600];
  const rng = createNormalRng(1);
  const kernel = Array.from({ length: p }, (_, i) =>
    Array.from({ length: p }, (_, j) => Math.exp(-((i - j) ** 2) / 2.88)),
  );
  const scale = Array.from({ length: p }, () => Math.exp(0.5 * rng()));
  const noise = () => {
    const z = Array.from({ length: p }, () => rng());
    return kernel.map((row, v) => row.reduce((s, w, j) => s + w * z[j]!, 0) * scale[v]!);
  };
  const r = new Map<NoiseNormalization, number[]>(NAMES.map((n) => [n, []]));
  for (let rep = 0; rep < 30; rep++) {
    const signal = Array.from({ length: K }, () => Array.from({ length: p }, () => 0.3 * rng()));
    const truth: number[] = [];
    for (let i = 0; i < K; i++)
      for (let j = i + 1; j < K; j++) truth.push(signal[i]!.reduce((s, x, v) => s + (x - signal[j]![v]!) ** 2, 0));
    const data = new Float32Array(R * K * p);
    for (let q = 0; q < R * K; q++) noise().forEach((e, v) => (data[q * p + v] = signal[q % K]![v]! + e));
    const values = new Float32Array(p * N);
    for (let t = 0; t < N; t++) noise().forEach((e, v) => (values[v * N + t] = e));
    const rv = new Float32Array(R * p);
    for (let v = 0; v < p; v++) {
      let ss = 0;
      for (let t = 0; t < N; t++) ss += values[v * N + t]! ** 2;
      for (let run = 0; run < R; run++) rv[run * p + v] = ss / N;
    }
    for (const name of NAMES) {
      const data2 = prepareSphereData('crossnobis', { data, nRuns: R, nImages: K, nVoxels: p }, rv, {
        normalization: name,
        residualSeries: { values, nRows: N, dof: N - 1 },
      });
      const out = new Float64Array(pairCount(K));
      computeSphereRdms(
        data2,
        Int32Array.from([0, p]),
        Int32Array.from({ length: p }, (_, i) => i),
        0,
        1,
        out,
      );
      r.get(name)!.push(spearman(Array.from(out), truth));
    }
  }
  const note = "33 voxels, 8 images x 6 runs, beta noise with the residuals' covariance, 30 draws";
  return NAMES.map((name) => ({
    metric: `arrays: Spearman r with the true RDM ${name}`,
    value: mean(r.get(name)!),
    unit: 'r',
    note,
  }));
}

const PARTS = {
  speed,
  whitening: async () => whitening(),
  haxby: async () => [...(await haxby()), ...haxbySlice()],
  simulated,
} as const;

export const benchmarks: Benchmark[] = [
  {
    name: 'crossnobis-noise',
    description: 'crossnobis noise normalisations: speed, Haxby split-half reliability, recovery on a simulated study',
    run: async () => [...(await speed()), ...whitening(), ...(await PARTS.haxby()), ...(await simulated())],
  },
];

if (process.argv[1]?.endsWith('crossnobis-noise.bench.ts')) {
  const i = process.argv.indexOf('--part');
  const parts = i >= 0 ? [process.argv[i + 1] as keyof typeof PARTS] : (Object.keys(PARTS) as (keyof typeof PARTS)[]);
  for (const part of parts)
    for (const x of await PARTS[part]())
      console.log(`${x.metric}: ${x.value.toFixed(3)} ${x.unit}${x.note ? ` (${x.note})` : ''}`);
}
