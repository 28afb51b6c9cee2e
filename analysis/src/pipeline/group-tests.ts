/**
 * The group level's tests, one per layer and method: the participants' z maps read on the voxels
 * where all have a value, a one-sample sign-flip permutation test (stats/sign-flip), and the maps
 * of its results (mean z, t, p, FWE p, thresholded t) written as they come.
 */
import { readNifti, assertSameGrid, type Grid } from '../io/nifti';
import { affineVoxelSizes } from '../io/affine';
import type { ModelMethod } from '../rsa/compare-models';
import type { GroupTest } from '../report/group-report';
import { clusterTable, type Atlas, type Connectivity } from '../stats/clusters';
import { signFlipTest, type SignFlipOptions, type SignFlipResult } from '../stats/sign-flip';
import { thresholdMap } from '../stats/threshold';
import { TaskPool } from '../parallel/task-pool';
import { testMapKey, type GroupInputs } from './group-inputs';
import { gridSize, toGrid, type GridRef, type MapWriter } from './map-writer';
import { bidsFileName } from './output-index';
import { METHOD_LABELS } from './searchlight-stage';

/** How the group statistic is named in files and index.json: honest about the pseudo-t. */
export interface GroupStatistic {
  name: 't' | 'pseudo-t';
  /** The `stat-` entity of its maps. */
  label: 't' | 'pseudot';
  description: string;
  varianceSmoothingMm: number;
}

export function groupStatistic(varianceSmoothingMm: number): GroupStatistic {
  return varianceSmoothingMm > 0
    ? {
        name: 'pseudo-t',
        label: 'pseudot',
        description: `one-sample pseudo-t over participants (variance smoothed with FWHM ${varianceSmoothingMm} mm)`,
        varianceSmoothingMm,
      }
    : { name: 't', label: 't', description: 'one-sample t over participants', varianceSmoothingMm };
}

/** Where and how the group's maps are written. */
export interface GroupMapTarget {
  writer: MapWriter;
  grid: GridRef & Grid;
  /** BIDS entities every group file starts with. */
  entities: readonly (readonly [string, string | undefined])[];
  /** `desc-` label of each layer. */
  layerLabels: Map<string, string>;
}

export interface GroupTestSettings {
  alpha: number;
  nPermutations: number;
  seed: number;
  connectivity: Connectivity;
  statistic: GroupStatistic;
  atlas?: Atlas;
}

/** What every test shares about its permutations (the same participants, so the same for all). */
export interface PermutationFacts {
  nPatterns: number;
  exhaustive: boolean;
  minAttainableP: number;
  note?: string;
}

interface PendingTest {
  layer: string;
  kind?: 'model';
  method: ModelMethod;
  voxels: Int32Array;
  result: Promise<SignFlipResult>;
}

/** Read the participants' maps of one test and start it (on a worker when there is a pool). */
function startTest(
  inputs: GroupInputs,
  ti: number,
  target: GroupMapTarget,
  settings: GroupTestSettings,
  pool: TaskPool | undefined,
): PendingTest {
  const key = inputs.tests[ti]!;
  const { layer, method, kind } = key;
  const parts = inputs.participants;
  const vols = parts.map((p) => readNifti(p.zMaps.get(testMapKey(key))!));
  vols.forEach((v, i) => assertSameGrid(target.grid, v, `z maps of sub-${parts[0]!.label} and sub-${parts[i]!.label}`));
  // Voxels with a value in every participant; the test runs on those only.
  const at: number[] = [];
  for (let g = 0; g < gridSize(target.grid); g++) if (vols.every((v) => Number.isFinite(v.data[g]!))) at.push(g);
  const voxels = Int32Array.from(at);
  const maps = vols.map((v) => Float32Array.from(voxels, (g) => v.data[g]!));
  const { varianceSmoothingMm } = settings.statistic;
  const options: SignFlipOptions = {
    nPermutations: settings.nPermutations,
    seed: settings.seed,
    alpha: settings.alpha,
    ...(varianceSmoothingMm > 0
      ? {
          varianceSmoothing: {
            fwhmMm: varianceSmoothingMm,
            grid: { dims: target.grid.dims, voxelSizeMm: affineVoxelSizes(target.grid.affine), voxels },
          },
        }
      : {}),
  };
  const result = pool
    ? pool.run('sign-flip', { maps, options })
    : Promise.resolve().then(() => signFlipTest(maps, options));
  result.catch(() => undefined); // awaited in order by runGroupTests
  return { layer, ...(kind ? { kind } : {}), method, voxels, result };
}

/** Write the maps of one test's result; returns the whole-grid maps the report shows. */
function writeTestMaps(
  test: PendingTest,
  res: SignFlipResult,
  target: GroupMapTarget,
  settings: GroupTestSettings,
  nParticipants: number,
): { meanZ: Float32Array; thresholdedT: Float32Array } {
  const { layer, method, voxels, kind } = test;
  const { alpha, statistic } = settings;
  const n = gridSize(target.grid);
  const [meanZ, t, p, fweP] = [res.mean, res.t, res.p, res.fweP].map((values) => toGrid(values, voxels, n)) as [
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  const thresholdedT = thresholdMap(t, fweP, alpha);
  const base = [...target.entities, ['desc', target.layerLabels.get(layer)], ['rsa', METHOD_LABELS[method]]] as const;
  const name = (stat: readonly (readonly [string, string])[]) => bidsFileName([...base, ...stat], 'statmap', '.nii.gz');
  const entry = kind ? { model: layer, method } : { layer, method };
  // The pseudo-t has no t distribution: intent 'none' for it.
  const tIntent = statistic.name === 't' ? { intent: 'ttest' as const, intentParams: [nParticipants - 1] } : {};
  const w = target.writer;
  w.write(name([['stat', 'meanz']]), meanZ, {
    ...entry,
    stat: 'mean-z',
    description: 'mean Fisher z over participants (effect map)',
  });
  w.write(
    name([['stat', statistic.label]]),
    t,
    { ...entry, stat: statistic.name, description: statistic.description },
    tIntent,
  );
  w.write(
    name([['stat', 'p']]),
    p,
    { ...entry, stat: 'p', description: 'two-sided sign-flip permutation p, uncorrected' },
    { intent: 'pvalue' },
  );
  w.write(
    name([['stat', 'fwep']]),
    fweP,
    { ...entry, stat: 'fwe-p', description: 'two-sided p, family-wise error corrected by the maximum statistic' },
    { intent: 'pvalue' },
  );
  w.write(
    name([
      ['stat', statistic.label],
      ['thresh', 'fwe'],
    ]),
    thresholdedT,
    {
      ...entry,
      stat: `thresholded-${statistic.name}`,
      description: `${statistic.name} where FWE p < ${alpha}, else 0`,
    },
    tIntent,
  );
  return { meanZ, thresholdedT };
}

/** Significant voxels, largest |t| and smallest FWE p of a test (NaN when it has no voxels). */
function testExtremes(res: SignFlipResult, alpha: number) {
  let nSignificant = 0;
  let maxAbsT = Number.NaN;
  let minFweP = Number.NaN;
  for (let k = 0; k < res.t.length; k++) {
    if (res.fweP[k]! < alpha) nSignificant++;
    const a = Math.abs(res.t[k]!);
    if (!(a <= maxAbsT)) maxAbsT = Number.isNaN(a) ? maxAbsT : a;
    if (!(res.fweP[k]! >= minFweP)) minFweP = Number.isNaN(res.fweP[k]!) ? minFweP : res.fweP[k]!;
  }
  return { nSignificant, maxAbsT, minFweP };
}

function permutationFacts(res: SignFlipResult): PermutationFacts {
  return {
    nPatterns: res.nPatterns,
    exhaustive: res.exhaustive,
    minAttainableP: res.minAttainableP,
    ...(res.note ? { note: res.note } : {}),
  };
}

/**
 * Run every test and write its maps. The tests are independent: with threads > 1 they run on
 * worker threads, up to 3 per thread ahead of the (in-order) writing of their maps, so the workers
 * keep busy while this thread writes maps and clusters.
 */
export async function runGroupTests(
  inputs: GroupInputs,
  target: GroupMapTarget,
  settings: GroupTestSettings,
  threads: number,
  onProgress: (done: number) => void,
): Promise<{ tests: GroupTest[]; permutations: PermutationFacts }> {
  const pool = threads > 1 ? TaskPool.start(threads) : undefined;
  const total = inputs.tests.length;
  const ahead: PendingTest[] = [];
  let next = 0;
  const results: GroupTest[] = [];
  let permutations: PermutationFacts | undefined;
  try {
    while (ahead.length < 3 * threads && next < total) ahead.push(startTest(inputs, next++, target, settings, pool));
    for (let ti = 0; ti < total; ti++) {
      onProgress(ti);
      const test = ahead.shift()!;
      const res = await test.result;
      if (next < total) ahead.push(startTest(inputs, next++, target, settings, pool));
      permutations ??= permutationFacts(res);
      const maps = writeTestMaps(test, res, target, settings, inputs.participants.length);
      const clusters = clusterTable(maps.thresholdedT, target.grid.dims, target.grid.affine, {
        connectivity: settings.connectivity,
        ...(settings.atlas ? { atlas: settings.atlas } : {}),
      });
      const { layer, method, voxels, kind } = test;
      const extremes = testExtremes(res, settings.alpha);
      results.push({
        layer,
        ...(kind ? { kind } : {}),
        method,
        nVoxels: voxels.length,
        ...extremes,
        clusters,
        nClusters: clusters.length,
        ...maps,
      });
    }
  } finally {
    await pool?.close();
  }
  onProgress(total);
  return { tests: results, permutations: permutations! };
}
