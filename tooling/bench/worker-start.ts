/**
 * Worker start times of the three kinds of worker threads (TaskPool, GLM, synthesis): the time
 * from asking for the workers to the first answer, with the worker bundles already cached.
 * `npx tsx tooling/bench/worker-start.ts` (prints one line per kind, median of 5 starts).
 */
import { join } from 'node:path';
import { fitGlmParallel } from '../../analysis/src/glm/fit-glm-parallel';
import { TaskPool } from '../../analysis/src/parallel/task-pool';
import { resolveWeights } from '../../stimuli/src/models/resolve-weights';
import { NetworkPool } from '../../stimuli/src/synthesis/network-pool';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function time(label: string, once: () => Promise<void>, reps = 5): Promise<void> {
  await once(); // fills the caches
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await once();
    ms.push(performance.now() - t0);
  }
  console.log(`${label}: median ${median(ms).toFixed(0)} ms (${ms.map((m) => m.toFixed(0)).join(', ')})`);
}

await time('TaskPool, 1 worker, first sign-flip task', async () => {
  const pool = TaskPool.start(1);
  const maps = [new Float32Array([1, 2]), new Float32Array([2, 3])];
  await pool.run('sign-flip', { maps, options: { nPermutations: 4, seed: 1 } });
  await pool.close();
});

await time('GLM, 1 worker + main thread, 4096 voxels x 8 scans', async () => {
  const T = 8;
  const V = 4096;
  const X = Float64Array.from({ length: T * 2 }, (_, i) => (i % 2 === 0 ? 1 : Math.sin(i)));
  const series = Float32Array.from({ length: T * V }, (_, i) => Math.cos(i));
  await fitGlmParallel(series, { nRows: T, nCols: 2, values: X }, { threads: 2 });
});

const weights = join(import.meta.dirname, '../../../shared/models/bvlc-googlenet/weights');
await time(
  'synthesis, 1 network worker ready (BVLC weights, 64 px)',
  async () => {
    const pool = await NetworkPool.start({
      workers: 1,
      backend: 'wasm',
      weights: resolveWeights(weights),
      layers: ['conv1'],
      size: 64,
      param: 'pixel',
      perImage: 64 * 64 * 3,
    });
    await pool.close();
  },
  3,
);
