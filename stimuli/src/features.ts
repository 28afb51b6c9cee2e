/**
 * Layer RDMs of an image set: activations of the chosen layers, computed in batches, turned into
 * one condensed RDM per layer without ever holding more than a memory budget of activations.
 *
 * How: each image's activation pattern of a layer is transformed on the backend into the row the
 * distance's Gram matrix wants (`prepareRowsTf`: centred and unit length for correlation, unit
 * length for cosine, shifted by a common vector for euclidean). The RDM is assembled from Gram
 * blocks (stored rows x new batch rows), matMuls on the backend over chunks of 2,048 features
 * (see GRAM_CHUNK), turned into distances by rdm/'s own `fromGram` of the distance with squared
 * norms computed in float64.
 *
 * Memory: the images are processed in "panels" of s consecutive images whose rows (all layers)
 * are kept in JavaScript memory, s = floor(budget / (4 bytes x sum of the layers' feature counts)).
 * For a panel starting at image a, the forward pass runs over images a..n-1: rows of the panel's
 * own images are stored, and every batch's rows are compared with the stored rows. Pair (i, j),
 * i < j, is computed in the panel of i, when the batch holding j comes by. When all images fit
 * (s >= n, e.g. up to about 400 images at 224 px with the 11 default layers and the 4 GiB
 * default), that is a single forward pass; otherwise panel k repeats the forward pass for images
 * after it, about n(K+1)/2 image passes for K panels. This beats grouping layers into separate
 * passes (K passes of all n images for the same memory) and also works when one layer alone
 * exceeds the budget. Besides the panel rows, memory holds the decoded images (n x size^2 x 3
 * bytes), one batch of activations on the backend (and its rows in JavaScript), one feature chunk
 * of the stored rows uploaded at a time for the matMul, and the RDMs (8 n(n-1)/2 bytes per layer).
 */
import * as tf from '@tensorflow/tfjs';
import { pairCount, PATTERN_DISTANCES } from '@orthostim/rdm';
import { prepareRowsTf, type TfDistance } from './rdm-tf';

/** What features.ts needs from a network: activations of named layers for NHWC RGB [0, 1] input. */
export interface ActivationModel {
  /** Activations of the named layers (a promise from engines that run off the main thread's TF.js). */
  forward(x: tf.Tensor4D, layers: readonly string[]): Record<string, tf.Tensor> | Promise<Record<string, tf.Tensor>>;
}

export const DEFAULT_MEMORY_BUDGET_BYTES = 4 * 1024 ** 3;
export const DEFAULT_BATCH_SIZE = 16;

export interface LayerRdmOptions {
  /** Layer names as the model knows them; RDMs come back in this order. */
  layers: readonly string[];
  distance: TfDistance;
  /** Images per forward pass (default 16). */
  batchSize?: number;
  /** Bytes of activation rows kept in memory at once (default 4 GiB; see the module comment). */
  memoryBudgetBytes?: number;
  /** Called after every forward batch with the image passes done and the total planned. */
  onProgress?: (done: number, total: number) => void;
  /** Also return each layer's n x n Gram matrix of the prepared rows (for activation-residual RDMs). */
  keepGrams?: boolean;
}

export interface LayerRdms {
  layers: string[];
  /** Condensed RDM per layer, in `layers` order, length n(n-1)/2. */
  rdms: Float64Array[];
  /** Features per image of each layer (h x w x c). */
  featureCounts: number[];
  /** Number of panels the budget required (1: a single forward pass). */
  panels: number;
  /** With `keepGrams`: per layer, the n x n (row-major, float64) Gram matrix of the prepared rows. */
  grams?: Float64Array[];
}

/**
 * size x size uint8 RGB images -> NHWC float32 tensor of values / 255, the network input. The
 * same conversion everywhere, so the PNGs written from the uint8 values are what the network saw.
 */
export function imagesToTensor(images: readonly Uint8Array[], size: number): tf.Tensor4D {
  const per = size * size * 3;
  const data = new Float32Array(images.length * per);
  images.forEach((img, k) => {
    if (img.length !== per)
      throw new RangeError(
        `imagesToTensor: image ${k} has ${img.length} bytes; expected ${size} x ${size} x 3 = ${per}`,
      );
    const off = k * per;
    for (let i = 0; i < per; i++) data[off + i] = img[i]! / 255;
  });
  return tf.tensor4d(data, [images.length, size, size, 3]);
}

/** How many images' rows fit the budget, given the layers' feature counts. At least 1. */
export function planPanelSize(featureCounts: readonly number[], n: number, memoryBudgetBytes: number): number {
  const bytesPerImage = 4 * featureCounts.reduce((a, b) => a + b, 0);
  return Math.max(1, Math.min(n, Math.floor(memoryBudgetBytes / bytesPerImage)));
}

/** Image passes the plan needs: panels start at 0, s, 2s, ... and each runs to the end. */
function plannedPasses(n: number, panelSize: number): number {
  let total = 0;
  for (let a = 0; a < n; a += panelSize) total += n - a;
  return total;
}

/**
 * Features per Gram chunk. wasm's fast matMul accumulates in float32 along the whole inner
 * dimension: over conv1's 800,000 features that costs up to 1e-4 of a correlation distance.
 * Chunks of 2,048 features, summed afterwards, keep the RDMs within 1e-5 of rdm/'s float64
 * reference (checked on real photos in test/rdms-command.test.ts); smaller chunks mean more
 * matMul calls per batch.
 */
const GRAM_CHUNK = 2048;

/**
 * One layer's rows: the panel's stored rows, kept feature-chunk by feature-chunk ([rows x w] per
 * chunk of w <= GRAM_CHUNK features) so each chunk uploads as one contiguous matrix, and their
 * squared norms in float64.
 */
class RowStore {
  readonly chunks: Float32Array[];
  readonly widths: number[];
  readonly squaredNorms: Float64Array;
  rows = 0;
  constructor(
    readonly p: number,
    readonly capacity: number,
  ) {
    this.widths = Array.from({ length: Math.ceil(p / GRAM_CHUNK) }, (_, c) => Math.min(GRAM_CHUNK, p - c * GRAM_CHUNK));
    this.chunks = this.widths.map((w) => new Float32Array(capacity * w));
    this.squaredNorms = new Float64Array(capacity);
  }

  /** Append the first `rows` rows of row-major `values` (rows x p) with their squared norms. */
  append(values: Float32Array, rows: number, squaredNorms: Float64Array): void {
    for (let r = 0; r < rows; r++) {
      const row = this.rows + r;
      this.widths.forEach((w, c) =>
        this.chunks[c]!.set(values.subarray(r * this.p + c * GRAM_CHUNK, r * this.p + c * GRAM_CHUNK + w), row * w),
      );
      this.squaredNorms[row] = squaredNorms[r]!;
    }
    this.rows += rows;
  }

  /** Gram block (stored rows x batch rows), chunk by chunk; `batchT` holds each chunk of the batch transposed (w x b). */
  gramWith(batchT: readonly tf.Tensor2D[]): tf.Tensor2D {
    // Uploaded chunks are freed one by one (a tidy would hold them all: 1.3 GB for conv1 at 400 rows).
    let acc = tf.zeros([this.rows, batchT[0]!.shape[1]]) as tf.Tensor2D;
    this.widths.forEach((w, c) => {
      const next = tf.tidy(
        () =>
          tf.add(
            acc,
            tf.matMul(tf.tensor2d(this.chunks[c]!.subarray(0, this.rows * w), [this.rows, w]), batchT[c]!),
          ) as tf.Tensor2D,
      );
      acc.dispose();
      acc = next;
    });
    return acc;
  }
}

/** Each feature chunk of row-major `values` (b x p) transposed, as GRAM_CHUNK-wide tensors (w x b). */
function transposedChunks(values: Float32Array, b: number, store: RowStore): tf.Tensor2D[] {
  return store.widths.map((w, c) => {
    const t = new Float32Array(w * b);
    for (let j = 0; j < b; j++) {
      const src = j * store.p + c * GRAM_CHUNK;
      for (let k = 0; k < w; k++) t[k * b + j] = values[src + k]!;
    }
    return tf.tensor2d(t, [w, b]);
  });
}

/** Squared norms of the b rows of row-major `values`, in float64. */
function rowSquaredNorms(values: Float32Array, b: number, p: number): Float64Array {
  const out = new Float64Array(b);
  for (let j = 0; j < b; j++) {
    let s = 0;
    for (let k = j * p, end = (j + 1) * p; k < end; k++) s += values[k]! * values[k]!;
    out[j] = s;
  }
  return out;
}

/**
 * Write the distances of a Gram block (rows: images rowStart.., cols: images colStart..) into
 * the condensed RDM, upper triangle only (i < j), through rdm/'s definition of the distance.
 */
function scatterBlock(
  rdm: Float64Array,
  n: number,
  gram: Float32Array,
  rows: number,
  cols: number,
  rowStart: number,
  colStart: number,
  rowNorms: Float64Array,
  colNorms: Float64Array,
  fromGram: (gii: number, gjj: number, gij: number) => number,
): void {
  for (let r = 0; r < rows; r++) {
    const i = rowStart + r;
    // condensed index of (i, j) = i*n - i(i+1)/2 + j - i - 1
    const base = i * n - (i * (i + 1)) / 2 - i - 1;
    for (let c = Math.max(0, i + 1 - colStart); c < cols; c++)
      rdm[base + colStart + c] = fromGram(rowNorms[r]!, colNorms[c]!, gram[r * cols + c]!);
  }
}

/** Copy a Gram block (as in scatterBlock) into the full symmetric n x n Gram matrix, diagonal from the norms. */
function scatterGram(
  full: Float64Array,
  n: number,
  gram: Float32Array,
  rows: number,
  cols: number,
  rowStart: number,
  colStart: number,
  colNorms: Float64Array,
): void {
  for (let r = 0; r < rows; r++) {
    const i = rowStart + r;
    for (let c = Math.max(0, i + 1 - colStart); c < cols; c++) {
      const j = colStart + c;
      full[i * n + j] = gram[r * cols + c]!;
      full[j * n + i] = gram[r * cols + c]!;
    }
  }
  for (let c = 0; c < cols; c++) full[(colStart + c) * (n + 1)] = colNorms[c]!;
}

/**
 * Condensed RDMs of `layers` for size x size uint8 RGB images (in order). See the module comment
 * for the batching and memory plan.
 */
export async function computeLayerRdms(
  model: ActivationModel,
  images: readonly Uint8Array[],
  size: number,
  options: LayerRdmOptions,
): Promise<LayerRdms> {
  const n = images.length;
  const layers = [...options.layers];
  if (n < 2) throw new RangeError(`computeLayerRdms: need at least 2 images for an RDM; got ${n}`);
  if (layers.length === 0) throw new RangeError('computeLayerRdms: need at least one layer');
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const budget = options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES;
  const { distance } = options;
  const { fromGram } = PATTERN_DISTANCES[distance];
  const rdms = layers.map(() => new Float64Array(pairCount(n)));
  const grams = options.keepGrams ? layers.map(() => new Float64Array(n * n)) : undefined;

  let featureCounts: number[] | null = null;
  let panelSize = 0;
  let totalPasses = 0;
  let done = 0;
  // Euclidean distances do not change under a common shift; subtracting the first batch's mean
  // pattern keeps the Gram entries small (less float32 cancellation). Unused for unit-row distances.
  let shifts: tf.Tensor[] | null = null;
  let panels = 0;

  for (let panelStart = 0; panelStart < n; panelStart += panelSize) {
    panels++;
    let stores: RowStore[] | null = null;
    let panelEnd = n; // known once feature counts are
    for (let b0 = panelStart; b0 < n; b0 += batchSize) {
      const b1 = Math.min(n, b0 + batchSize);
      const x = imagesToTensor(images.slice(b0, b1), size);
      const acts = await model.forward(x, layers);
      x.dispose();
      const flat = layers.map((l) => {
        const a = acts[l];
        if (!a) throw new Error(`computeLayerRdms: the model returned no activation for layer "${l}"`);
        return tf.reshape(a, [b1 - b0, -1]) as tf.Tensor2D;
      });
      tf.dispose(Object.values(acts));

      if (!featureCounts) {
        featureCounts = flat.map((t) => t.shape[1]);
        panelSize = planPanelSize(featureCounts, n, budget);
        totalPasses = plannedPasses(n, panelSize);
        if (!(distance === 'correlation' || distance === 'cosine'))
          shifts = flat.map((t) => tf.keep(tf.mean(t, 0, true)));
      }
      panelEnd = Math.min(n, panelStart + panelSize);
      stores ??= featureCounts.map((p) => new RowStore(p, panelEnd - panelStart));

      for (let l = 0; l < layers.length; l++) {
        const raw = flat[l]!;
        const rows = tf.tidy(() => prepareRowsTf(shifts ? (tf.sub(raw, shifts[l]!) as tf.Tensor2D) : raw, distance));
        if (rows !== raw) raw.dispose();
        const values = (await rows.data()) as Float32Array;
        rows.dispose();
        const store = stores[l]!;
        const b = b1 - b0;
        const norms = rowSquaredNorms(values, b, store.p);
        // Store this batch's rows that belong to the panel before comparing, so pairs inside the batch are covered.
        const inPanel = Math.max(0, Math.min(b1, panelEnd) - b0);
        if (inPanel > 0) store.append(values, inPanel, norms);
        const batchT = transposedChunks(values, b, store);
        const gram = store.gramWith(batchT);
        tf.dispose(batchT);
        const block = (await gram.data()) as Float32Array;
        gram.dispose();
        scatterBlock(rdms[l]!, n, block, store.rows, b, panelStart, b0, store.squaredNorms, norms, fromGram);
        if (grams) scatterGram(grams[l]!, n, block, store.rows, b, panelStart, b0, norms);
      }
      done += b1 - b0;
      options.onProgress?.(done, totalPasses);
      // Backend reads resolve as microtasks; yield a macrotask so timers (progress redraws, Ctrl-C) run.
      await new Promise((r) => setImmediate(r));
    }
  }
  if (shifts) tf.dispose(shifts);
  return { layers, rdms, featureCounts: featureCounts!, panels, ...(grams ? { grams } : {}) };
}
