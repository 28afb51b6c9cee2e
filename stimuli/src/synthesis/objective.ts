/**
 * The central half of a synthesis step: from all images' activation rows (gathered from the
 * workers, already centred and scaled to unit length there by `prepareRowsTf`) to the loss, its
 * metrics, and its gradient with respect to every row. Small work next to the network passes: per
 * layer one n x n Gram matrix (correlation-distance RDM = 1 - Z Z^T) and, backward, one n x n by
 * n x features product.
 */
import * as tf from '@tensorflow/tfjs';
import { meanAbsOffDiagonal } from '@orthostim/rdm';
import { TF_DISTANCES, upperTriangleTf } from '../rdm-tf';
import { gramTf, transposeRows } from './gram';
import { leanGrads } from './lean-gradients';
import { objectiveTf, type LossSettings } from './loss';
import type { LayerArrays } from './network-pool';

export interface ObjectiveMetrics {
  /** The minimized value: pair aggregate + spread penalty. */
  loss: number;
  similarity: number;
  penalty: number;
  /** Mean |Pearson r| over layer pairs (the headline number). */
  meanAbsR: number;
  /** L x L Pearson correlations between the layers' RDMs. */
  pearson: number[][];
  /** Per layer: mean and coefficient of variation of the dissimilarities. */
  rdmMean: number[];
  rdmCv: number[];
}

export interface ObjectiveResult {
  metrics: ObjectiveMetrics;
  /** Loss gradient per layer, same layout as the activations (only when asked for). */
  grads?: LayerArrays;
}

function toMatrix(values: Float32Array, L: number): number[][] {
  return Array.from({ length: L }, (_, i) => Array.from(values.subarray(i * L, (i + 1) * L)));
}

/** `rows`: per layer, n x features unit rows (see the module comment). */
export function evaluateObjective(
  rows: LayerArrays,
  n: number,
  settings: LossSettings,
  pairWeights: Float32Array | undefined,
  withGrad: boolean,
): ObjectiveResult {
  const L = rows.length;
  const xs = rows.map((a) => tf.tensor2d(a, [n, a.length / n]));
  const xts = rows.map((a) => tf.tensor2d(transposeRows(a, n), [a.length / n, n]));
  const { fromGram } = TF_DISTANCES.correlation;
  let kept: tf.Tensor[] = [];
  const f = (...inputs: tf.Tensor[]) => {
    const rdms = tf.stack(
      inputs.map((z, l) => {
        const g = gramTf(z as tf.Tensor2D, xts[l]!);
        return upperTriangleTf(fromGram(g, g, g));
      }),
    ) as tf.Tensor2D;
    const parts = objectiveTf(rdms, settings, pairWeights);
    kept = [parts.total, parts.similarity, parts.penalty, parts.pearson, parts.mean, parts.cv].map((t) => tf.keep(t));
    return parts.total;
  };
  let grads: LayerArrays | undefined;
  if (withGrad) {
    const g = leanGrads(f, xs);
    grads = g.map((t) => t.dataSync() as Float32Array);
    tf.dispose(g);
  } else {
    tf.tidy(() => {
      f(...xs);
    });
  }
  const [total, similarity, penalty, pearson, mean, cv] = kept.map((t) => t.dataSync() as Float32Array) as [
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  tf.dispose([...kept, ...xs, ...xts]);
  const matrix = toMatrix(pearson, L);
  return {
    metrics: {
      loss: total[0]!,
      similarity: similarity[0]!,
      penalty: penalty[0]!,
      meanAbsR: meanAbsOffDiagonal(matrix),
      pearson: matrix,
      rdmMean: Array.from(mean),
      rdmCv: Array.from(cv),
    },
    grads,
  };
}
