/**
 * Benchmark: the searchlight core on the largest set it accepts (SEARCHLIGHT_MAX_IMAGES = 200
 * images; larger sets go to ROI RSA or `orthostim compare`). A sphere RDM has 19,900 pairs, so
 * the cost per centre is what matters: timed on an ellipsoidal mask of ~4,600 voxels (the size of
 * a ventral-temporal region at 2 mm) and extrapolated per 100,000 centres. 200 images x 2 runs of
 * float32 betas in memory, radius 3 voxels, correlation distance, Spearman against 11 layers x
 * (standard + residual) = 22 models, 2 worker threads. Not timed: reading betas, writing maps.
 *
 *   npm run bench -- searchlight-200-images
 */
import { availableParallelism } from 'node:os';
import { createNormalRng, createRng, pairCount } from '@orthostim/rdm';
import { timeRuns, type Benchmark, type BenchResult } from '@orthostim/test';
import { buildModelSet } from '../src/rsa/compare-models';
import { SEARCHLIGHT_MAX_IMAGES } from '../src/pipeline/roi-stage';
import { computeSearchlightNeighbors, type Dims } from '../src/searchlight/neighbors';
import { runSearchlight } from '../src/searchlight/run-searchlight';
import { prepareSphereData } from '../src/searchlight/sphere-rdms';
import { MNI_2MM_DIMS, ellipsoidMask } from './support/mni-grid';

const IMAGES = SEARCHLIGHT_MAX_IMAGES;
const RUNS = 2;
const LAYERS = 11;
const REGION = { centre: [45, 54, 45], radii: [10, 12, 9] } as const;

async function runBench(threads: number): Promise<BenchResult[]> {
  const { mask, nMask: nVoxels } = ellipsoidMask(REGION);
  const noise = createNormalRng(1);
  const betas = new Float32Array(RUNS * IMAGES * nVoxels);
  for (let q = 0; q < betas.length; q++) betas[q] = noise();
  const rng = createRng(2);
  const layers = Array.from({ length: LAYERS }, (_, l) => `layer${l}`);
  const shared = Float64Array.from({ length: pairCount(IMAGES) }, () => rng());
  const layerRdms = layers.map(() => shared.map((v) => v + rng()));
  const neighbors = computeSearchlightNeighbors(mask, [...MNI_2MM_DIMS] as Dims, {
    radius: 3,
    unit: 'voxel',
    table: false,
  });
  const data = prepareSphereData('correlation', { data: betas, nRuns: RUNS, nImages: IMAGES, nVoxels });
  const models = buildModelSet(layers, layerRdms, 'spearman', ['standard', 'semipartial']);
  let centers = 0;
  const { runsMs, medianMs } = await timeRuns(
    async () => {
      centers = (await runSearchlight(data, neighbors, models, { threads })).nCenters;
    },
    2,
    0,
  );
  const note = `${nVoxels} mask voxels, ${centers} centres, radius 3 vox, ${IMAGES} images x ${RUNS} runs, correlation, spearman x ${2 * LAYERS} models, ${threads} threads`;
  return [
    { metric: 'searchlight 200 images median', value: medianMs / 1000, unit: 's', note },
    { metric: 'searchlight 200 images best', value: runsMs[0]! / 1000, unit: 's' },
    { metric: 'per 100,000 centres (median, extrapolated)', value: (medianMs / 1000) * (1e5 / centers), unit: 's' },
  ];
}

export const benchmarks: Benchmark[] = [
  {
    name: 'searchlight-200-images',
    description:
      'searchlight core at the 200-image limit: ~4,600 voxels, radius 3, 200 images x 2 runs, correlation, spearman vs 22 models, 2 threads',
    run: () => runBench(Math.min(2, availableParallelism())),
  },
];
