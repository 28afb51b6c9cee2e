/**
 * Layer RDMs of an image set: activations of the chosen layers, computed in batches, turned into
 * one condensed RDM per layer without ever holding more than a memory budget of activations.
 *
 * How: each image's activation pattern of a layer is transformed on the backend into the row the
 * distance's Gram matrix wants (`prepareRowsTf`: centred and unit length for correlation, unit
 * length for cosine, shifted by a common vector for euclidean), and the RDM is assembled from
 * blocks `crossDistancesTf(stored rows, new batch rows)`, a matMul on the backend.
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
 * bytes), one batch of activations on the backend, a copy of at most 256 MB of rows uploaded for
 * the matMul, and the RDMs (8 n(n-1)/2 bytes per layer).
 */
import * as tf from '@tensorflow/tfjs';
import { pairCount } from '@orthostim/rdm';
import { crossDistancesTf, prepareRowsTf, type TfDistance } from './rdm-tf';

/** What features.ts needs from a network: activations of named layers for NHWC RGB [0, 1] input. */
export interface ActivationModel {
  forward(x: tf.Tensor4D, layers: readonly string[]): Record<string, tf.Tensor>;
}

export const DEFAULT_MEMORY_BUDGET_BYTES = 4 * 1024 ** 3;
export const DEFAULT_BATCH_SIZE = 16;
/** Largest block of stored rows uploaded to the backend at once for the Gram matMul. */
const UPLOAD_CHUNK_BYTES = 256 * 1024 ** 2;

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
}

export interface LayerRdms {
  layers: string[];
  /** Condensed RDM per layer, in `layers` order, length n(n-1)/2. */
  rdms: Float64Array[];
  /** Features per image of each layer (h x w x c). */
  featureCounts: number[];
  /** Number of panels the budget required (1: a single forward pass). */
  panels: number;
}

/**
 * size x size uint8 RGB images -> NHWC float32 tensor of values / 255, the network input. The
 * same conversion everywhere, so the PNGs written from the uint8 values are what the network saw.
 */
export function imagesToTensor(images: readonly Uint8Array[], size: number): tf.Tensor4D {
  const per = size * size * 3;
  const data = new Float32Array(images.length * per);
  images.forEach((img, k) => {
    if (img.length !== per) throw new RangeError(`imagesToTensor: image ${k} has ${img.length} bytes; expected ${size} x ${size} x 3 = ${per}`);
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

/** Rows of one panel for one layer, in chunks of at most UPLOAD_CHUNK_BYTES. */
class RowStore {
  private readonly chunks: { data: Float32Array; rows: number }[] = [];
  private readonly rowsPerChunk: number;
  rows = 0;
  /** `capacity`: the most rows the store will hold (the panel size), so small sets allocate little. */
  constructor(
    private readonly p: number,
    capacity: number,
  ) {
    this.rowsPerChunk = Math.max(1, Math.min(capacity, Math.floor(UPLOAD_CHUNK_BYTES / (4 * p))));
  }

  append(values: Float32Array, rows: number): void {
    for (let r = 0; r < rows; r++) {
      let last = this.chunks[this.chunks.length - 1];
      if (!last || last.rows === this.rowsPerChunk) {
        last = { data: new Float32Array(this.rowsPerChunk * this.p), rows: 0 };
        this.chunks.push(last);
      }
      last.data.set(values.subarray(r * this.p, (r + 1) * this.p), last.rows * this.p);
      last.rows++;
      this.rows++;
    }
  }

  /** Each chunk as [first row index within the store, n x p tensor] (caller disposes). */
  *tensors(): Generator<[number, tf.Tensor2D]> {
    let first = 0;
    for (const c of this.chunks) {
      yield [first, tf.tensor2d(c.data.subarray(0, c.rows * this.p), [c.rows, this.p])];
      first += c.rows;
    }
  }
}

/**
 * Write block distances (rows: images rowStart.., cols: images colStart..) into the condensed
 * RDM, upper triangle only (i < j).
 */
function scatterBlock(rdm: Float64Array, n: number, block: Float32Array, rows: number, cols: number, rowStart: number, colStart: number): void {
  for (let r = 0; r < rows; r++) {
    const i = rowStart + r;
    // condensed index of (i, j) = i*n - i(i+1)/2 + j - i - 1
    const base = i * n - (i * (i + 1)) / 2 - i - 1;
    for (let c = Math.max(0, i + 1 - colStart); c < cols; c++) rdm[base + colStart + c] = block[r * cols + c]!;
  }
}

/**
 * Condensed RDMs of `layers` for size x size uint8 RGB images (in order). See the module comment
 * for the batching and memory plan.
 */
export async function computeLayerRdms(model: ActivationModel, images: readonly Uint8Array[], size: number, options: LayerRdmOptions): Promise<LayerRdms> {
  const n = images.length;
  const layers = [...options.layers];
  if (n < 2) throw new RangeError(`computeLayerRdms: need at least 2 images for an RDM; got ${n}`);
  if (layers.length === 0) throw new RangeError('computeLayerRdms: need at least one layer');
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const budget = options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES;
  const { distance } = options;
  const rdms = layers.map(() => new Float64Array(pairCount(n)));

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
      const acts = model.forward(x, layers);
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
        if (!(distance === 'correlation' || distance === 'cosine')) shifts = flat.map((t) => tf.keep(tf.mean(t, 0, true)));
      }
      panelEnd = Math.min(n, panelStart + panelSize);
      stores ??= featureCounts.map((p) => new RowStore(p, panelEnd - panelStart));

      for (let l = 0; l < layers.length; l++) {
        const raw = flat[l]!;
        const rows = tf.tidy(() => prepareRowsTf(shifts ? (tf.sub(raw, shifts[l]!) as tf.Tensor2D) : raw, distance));
        if (rows !== raw) raw.dispose();
        const store = stores[l]!;
        // Store this batch's rows that belong to the panel before comparing, so pairs inside the batch are covered.
        const inPanel = Math.max(0, Math.min(b1, panelEnd) - b0);
        if (inPanel > 0) {
          const values = (await rows.data()) as Float32Array;
          store.append(values, inPanel);
        }
        const rowsT = tf.transpose(rows);
        for (const [first, stored] of store.tensors()) {
          const block = crossDistancesTf(stored, rows, distance, rowsT);
          const values = (await block.data()) as Float32Array;
          scatterBlock(rdms[l]!, n, values, stored.shape[0], b1 - b0, panelStart + first, b0);
          block.dispose();
          stored.dispose();
        }
        tf.dispose([rows, rowsT]);
      }
      done += b1 - b0;
      options.onProgress?.(done, totalPasses);
      // Backend reads resolve as microtasks; yield a macrotask so timers (progress redraws, Ctrl-C) run.
      await new Promise((r) => setImmediate(r));
    }
  }
  if (shifts) tf.dispose(shifts);
  return { layers, rdms, featureCounts: featureCounts!, panels };
}
