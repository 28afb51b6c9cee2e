/**
 * The whole searchlight over prepared arrays: neighbour table (step 1) x sphere RDMs (step 2) x
 * model comparison (step 3), spread over worker threads. Input and output arrays live on
 * SharedArrayBuffers, so threads share them instead of copying; chunks of centres are claimed
 * through an atomic counter. With `threads: 1` everything runs in the calling thread.
 *
 * Workers start from a cached esbuild bundle (parallel/analysis-worker), so they need no
 * TypeScript loader.
 */
import { availableParallelism } from 'node:os';
import { UsageError } from '@orthostim/protocol';
import { startAnalysisWorker } from '../parallel/analysis-worker';
import type { ModelSet, ModelSpec } from '../rsa/compare-models';
import { CENTERS_DONE, INVALID_SPHERES, workOnSearchlightJob, type SearchlightJob } from './searchlight-job';
import type { SearchlightNeighbors } from './neighbors';
import { createSlidingGrid } from './sliding-sphere-rdms';
import type { SphereData } from './sphere-rdms';

export interface SearchlightRunOptions {
  /** Worker threads (default: the machine's available parallelism); 1 runs in the calling thread. */
  readonly threads?: number;
  /** Centres per claimed chunk (default 512). */
  readonly chunkSize?: number;
  /**
   * Sphere-RDM kernel: 'sliding' (default when the neighbours describe a grid) walks the grid and
   * updates running sums; 'table' gathers each sphere from the neighbour table. Same numbers.
   */
  readonly kernel?: SearchlightKernel;
  /** Called about every 200 ms and at the end with the number of centres done. */
  readonly onProgress?: (done: number, total: number) => void;
}

export type SearchlightKernel = 'sliding' | 'table';

export interface SearchlightResult {
  readonly models: readonly ModelSpec[];
  readonly nCenters: number;
  /** models.length x nCenters: r of centre c with model m at m * nCenters + c. */
  readonly r: Float32Array;
  /** Centres whose sphere RDM held NaN or had no variance (NaN for every model). */
  readonly invalidSpheres: number;
  readonly threads: number;
  readonly kernel: SearchlightKernel;
}

/** Run `count` workers on the job; the first failure stops them all (no thread is left running). */
async function runWorkers(job: SearchlightJob, count: number): Promise<void> {
  const entry = new URL('./searchlight-worker.ts', import.meta.url);
  const workers = await Promise.all(
    Array.from({ length: count }, () => startAnalysisWorker('searchlight', entry, { workerData: job })),
  );
  const done = workers.map(
    (worker) =>
      new Promise<void>((resolve, reject) => {
        let finished = false;
        worker.once('message', () => {
          finished = true;
          resolve();
        });
        worker.once('error', reject);
        worker.once('exit', (code) => {
          if (!finished) reject(new Error(`searchlight worker exited with code ${code} before finishing`));
        });
      }),
  );
  try {
    await Promise.all(done);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Compare the RDM of every centre's sphere with every model. */
export async function runSearchlight(
  data: SphereData,
  neighbors: SearchlightNeighbors | { readonly offsets: Int32Array; readonly indices: Int32Array },
  models: ModelSet,
  options: SearchlightRunOptions = {},
): Promise<SearchlightResult> {
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1)
    throw new UsageError(`searchlight: threads must be a positive integer; got ${threads}`);
  const chunkSize = options.chunkSize ?? 512;
  const nCenters = neighbors.offsets.length - 1;
  const P = (data.nImages * (data.nImages - 1)) / 2;
  if (models.nPairs !== P) {
    throw new UsageError(
      `model RDMs have ${models.nPairs} pairs but the betas have ${data.nImages} images (${P} pairs)`,
    );
  }
  const share = <T extends Int32Array>(a: T): T => {
    if (a.buffer instanceof SharedArrayBuffer) return a;
    const s = new Int32Array(new SharedArrayBuffer(a.byteLength));
    s.set(a);
    return s as T;
  };
  const onGrid = 'sphere' in neighbors;
  // Multivariate noise normalisation needs each sphere's own covariance: table kernel only.
  const kernel = options.kernel ?? (onGrid && !data.noise ? 'sliding' : 'table');
  if (kernel === 'sliding' && !onGrid)
    throw new UsageError('the sliding searchlight kernel needs grid neighbours (computeSearchlightNeighbors)');
  if (kernel === 'sliding' && data.noise)
    throw new UsageError(
      'the sliding searchlight kernel cannot apply a per-sphere noise covariance; use the table kernel',
    );
  if (kernel === 'table' && onGrid && !neighbors.hasTable) {
    throw new UsageError('the table searchlight kernel needs neighbours built with table: true');
  }
  if (kernel !== 'sliding' && kernel !== 'table')
    throw new UsageError(`searchlight kernel must be one of sliding, table; got ${JSON.stringify(kernel)}`);
  const M = models.models.length;
  const job: SearchlightJob = {
    ...(kernel === 'sliding' && onGrid ? { grid: createSlidingGrid(neighbors, data) } : {}),
    data,
    offsets: share(neighbors.offsets),
    indices: share(neighbors.indices),
    models,
    out: new Float32Array(new SharedArrayBuffer(M * nCenters * Float32Array.BYTES_PER_ELEMENT)),
    chunkSize,
    counters: new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT)),
  };
  const progress = options.onProgress;
  if (threads === 1) {
    workOnSearchlightJob(job);
  } else {
    const timer = progress
      ? setInterval(() => progress(Atomics.load(job.counters, CENTERS_DONE), nCenters), 200)
      : undefined;
    try {
      await runWorkers(job, threads);
    } finally {
      if (timer) clearInterval(timer);
    }
  }
  progress?.(nCenters, nCenters);
  return {
    models: models.models,
    nCenters,
    r: job.out,
    invalidSpheres: Atomics.load(job.counters, INVALID_SPHERES),
    threads,
    kernel,
  };
}
