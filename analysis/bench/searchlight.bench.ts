/**
 * Benchmarks: the searchlight core on arrays (issue 5: <= 2.5 s for the whole command from .nii
 * betas to written maps on the 2-core machine, peak memory <= 1.5 GB; crossnobis <= 10 s).
 *
 * What is timed: everything after the betas are in memory as [run][image][mask voxel] float32
 * arrays, i.e. neighbours of each centre, the per-voxel data preparation, the model set, the
 * searchlight on worker threads and the whole-grid r and z maps of every model plus the
 * winner-take-all maps. Reading the .nii betas and writing the maps (analysis/src/io) are not in
 * these figures. Input: an ellipsoidal mask of ~150,000 voxels in a 91x109x91 grid, radius 3
 * voxels (123-voxel spheres), 16 images x 8 runs, 11 layers x (standard + residual) = 22 models,
 * Spearman.
 *
 *   npm run bench -- searchlight      (or: npx tsx analysis/bench/searchlight.bench.ts [--threads 2] [--distance correlation] [--repeats 3])
 */
import { availableParallelism } from 'node:os';
import { createNormalRng, createRng, pairCount } from '@orthostim/rdm';
import { timeRuns, type Benchmark, type BenchResult } from '@orthostim/test';
import { searchlightLayerMaps, winnerTakeAll } from '../src/maps/layer-maps';
import { buildModelSet } from '../src/rsa/compare-models';
import { computeSearchlightNeighbors, type Dims } from '../src/searchlight/neighbors';
import { runSearchlight } from '../src/searchlight/run-searchlight';
import { prepareSphereData, type SearchlightDistance } from '../src/searchlight/sphere-rdms';
import { MNI_2MM_DIMS, SEARCHLIGHT_ELLIPSOID, ellipsoidMask } from './support/mni-grid';

const DIMS: Dims = [...MNI_2MM_DIMS];
const RUNS = 8;
const IMAGES = 16;
const LAYERS = 11;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

function syntheticInputs() {
  const { mask, nMask: nVoxels } = ellipsoidMask(SEARCHLIGHT_ELLIPSOID);
  const noise = createNormalRng(1);
  const betas = new Float32Array(RUNS * IMAGES * nVoxels);
  for (let q = 0; q < betas.length; q++) betas[q] = noise();
  const rng = createRng(2);
  const layers = Array.from({ length: LAYERS }, (_, l) => `layer${l}`);
  const shared = Float64Array.from({ length: pairCount(IMAGES) }, () => rng());
  const layerRdms = layers.map(() => shared.map((v) => v + rng()));
  return { mask, nVoxels, betas, layers, layerRdms };
}

async function runBench(distance: SearchlightDistance, threads: number, repeats: number): Promise<BenchResult[]> {
  const { mask, nVoxels, betas, layers, layerRdms } = syntheticInputs();
  const stages = { neighbors: 0, prepare: 0, searchlight: 0, maps: 0 };
  let centers = 0;
  const once = async () => {
    let t = performance.now();
    const neighbors = computeSearchlightNeighbors(mask, DIMS, { radius: 3, unit: 'voxel', table: false });
    stages.neighbors = performance.now() - t;
    t = performance.now();
    const data = prepareSphereData(distance, { data: betas, nRuns: RUNS, nImages: IMAGES, nVoxels });
    const models = buildModelSet(layers, layerRdms, 'spearman', ['standard', 'semipartial']);
    stages.prepare = performance.now() - t;
    t = performance.now();
    const result = await runSearchlight(data, neighbors, models, { threads });
    stages.searchlight = performance.now() - t;
    t = performance.now();
    const maps = searchlightLayerMaps(result, neighbors);
    for (const method of ['standard', 'semipartial'])
      winnerTakeAll(maps.filter((m) => m.method === method && m.stat === 'r').map((m) => m.values));
    stages.maps = performance.now() - t;
    centers = result.nCenters;
  };
  const { runsMs, medianMs } = await timeRuns(once, repeats, 1);
  const note = `${nVoxels} mask voxels, ${centers} centres, radius 3 vox, ${IMAGES} images x ${RUNS} runs, ${distance}, spearman x ${2 * LAYERS} models, ${threads} threads`;
  const s = (ms: number) => ms / 1000;
  return [
    { metric: `searchlight ${distance} core median`, value: s(medianMs), unit: 's', note },
    { metric: `searchlight ${distance} core best`, value: s(runsMs[0]!), unit: 's', note },
    { metric: 'stage: neighbours (last run)', value: s(stages.neighbors), unit: 's' },
    { metric: 'stage: prepare data + models', value: s(stages.prepare), unit: 's' },
    { metric: 'stage: searchlight (threads)', value: s(stages.searchlight), unit: 's' },
    { metric: 'stage: r/z maps + winner-take-all', value: s(stages.maps), unit: 's' },
  ];
}

export const benchmarks: Benchmark[] = [
  {
    name: 'searchlight',
    description:
      'searchlight core: 150k voxels, radius 3, 16 images x 8 runs, correlation, spearman vs 22 models, 2 threads',
    run: () => runBench('correlation', Math.min(2, availableParallelism()), 3),
  },
  {
    name: 'searchlight-crossnobis',
    description: 'searchlight core with crossnobis distance (otherwise as searchlight)',
    run: () => runBench('crossnobis', Math.min(2, availableParallelism()), 3),
  },
];

// Also runnable alone: npx tsx analysis/bench/searchlight.bench.ts [--threads 2] [--distance correlation] [--repeats 3]
if (process.argv[1]?.endsWith('searchlight.bench.ts')) {
  const results = await runBench(
    arg('--distance', 'correlation') as SearchlightDistance,
    Number(arg('--threads', '2')),
    Number(arg('--repeats', '3')),
  );
  for (const x of results) console.log(`${x.metric}: ${x.value.toFixed(3)} ${x.unit}${x.note ? ` (${x.note})` : ''}`);
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}
