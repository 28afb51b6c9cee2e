/**
 * How much memory a synthesis run needs at least, so that sizes that cannot fit are refused before
 * any work (instead of ending in a TF.js allocation error hours later). A lower bound: GoogLeNet's
 * activations kept for the backward pass (about 6.3 million floats per 224 px image, from the
 * layer shapes in googlenet-spec.ts, scaling with the image area) and each layer's n x n
 * dissimilarities with their gradients.
 */
import { totalmem } from 'node:os';

/** Most images a synthesis optimizes at once (the RDMs grow with the square). */
export const MAX_SYNTHESIS_IMAGES = 10_000;

/** A worker's backend may allocate at most this much (WebAssembly's 32-bit heap: 4 GiB). */
export const WORKER_HEAP_BYTES = 4 * 2 ** 30;

const ACTIVATION_FLOATS_AT_224 = 6.3e6;

export interface SynthesisMemory {
  /** Bytes one worker needs for its share of the images. */
  perWorker: number;
  /** Bytes the whole run needs (all workers and the RDMs). */
  total: number;
}

/** The least memory a run of `n` images of `size` px over `layers` layers on `workers` workers needs. */
export function estimateSynthesisMemory(n: number, size: number, layers: number, workers: number): SynthesisMemory {
  const perImage = ACTIVATION_FLOATS_AT_224 * 4 * (size / 224) ** 2;
  const perWorker = Math.ceil(n / Math.max(1, Math.min(workers, n))) * perImage;
  const rdms = 3 * layers * n * n * 4; // distances, their gradient and the centred copy per layer
  return { perWorker, total: n * perImage + rdms };
}

/** The memory a run may use: 80% of the machine's. */
export function availableSynthesisMemory(): number {
  return 0.8 * totalmem();
}
