/**
 * The searchlight's unit of work, shared by the calling thread and the worker threads: sphere
 * RDMs for a chunk of centres (step 2), compared with every model at once (step 3), results
 * written straight into the model-major output maps. Chunks are handed out through an atomic
 * counter so that both threads stay busy whatever the sphere sizes.
 */
import { pairCount } from '@orthostim/rdm';
import { compareSphereRdms, createCompareScratch, type ModelSet } from '../rsa/compare-models';
import { createSlidingScratch, slidingSphereRdms, type SlidingGrid } from './sliding-sphere-rdms';
import { computeSphereRdms, createSphereScratch, maxGroupSize, type SphereData } from './sphere-rdms';

export interface SearchlightJob {
  readonly data: SphereData;
  /** CSR neighbour table of the centres (see `SearchlightNeighbors`); `indices` unused with `grid`. */
  readonly offsets: Int32Array;
  readonly indices: Int32Array;
  /** When set, sphere RDMs come from the sliding kernel over this grid instead of the table. */
  readonly grid?: SlidingGrid;
  readonly models: ModelSet;
  /** models.length x nCenters, on a SharedArrayBuffer. */
  readonly out: Float32Array;
  readonly chunkSize: number;
  /** [next chunk, centres done, invalid spheres], on a SharedArrayBuffer. */
  readonly counters: Int32Array;
}

export const NEXT_CHUNK = 0;
export const CENTERS_DONE = 1;
export const INVALID_SPHERES = 2;

export function centerCount(job: Pick<SearchlightJob, 'offsets'>): number {
  return job.offsets.length - 1;
}

/** Take chunks until none is left; returns when this thread has no more work. */
export function workOnSearchlightJob(job: SearchlightJob): void {
  const n = centerCount(job);
  const P = pairCount(job.data.nImages);
  const grid = job.grid;
  const sphereScratch = createSphereScratch(job.data, grid ? 0 : maxGroupSize(job.offsets));
  const slidingScratch = createSlidingScratch(job.data);
  const compareScratch = createCompareScratch(job.models.nPairs);
  const rdms = new Float64Array(job.chunkSize * P);
  for (;;) {
    const chunk = Atomics.add(job.counters, NEXT_CHUNK, 1);
    const start = chunk * job.chunkSize;
    if (start >= n) return;
    const end = Math.min(n, start + job.chunkSize);
    if (grid) slidingSphereRdms(job.data, grid, start, end, rdms, slidingScratch);
    else computeSphereRdms(job.data, job.offsets, job.indices, start, end, rdms, sphereScratch);
    const invalid = compareSphereRdms(rdms, end - start, job.models, job.out, start, n, compareScratch);
    Atomics.add(job.counters, INVALID_SPHERES, invalid);
    Atomics.add(job.counters, CENTERS_DONE, end - start);
  }
}
