/**
 * The synthesis objective, computed differentiably from the layers' RDM vectors.
 *
 * Layer similarity: r_ab = Pearson correlation between the condensed correlation-distance RDMs of
 * layers a and b. The loss aggregates r_ab over the pairs a < b (optionally weighted):
 *   squared  sum w r^2 / sum w                      (default; smooth, pushes every pair to 0)
 *   abs      sum w sqrt(r^2 + 1e-6) / sum w         (a smoothed |r|; stronger pull on small r)
 *   softmax  T log(sum w exp(r^2 / T) / sum w)      (a smooth maximum of r^2: works on the worst pair)
 *
 * Spread penalty (guard against degenerate solutions): a layer could "decorrelate" by collapsing,
 * all its dissimilarities becoming equal, so that what is left of its RDM is tiny, unreliable
 * variation. The coefficient of variation cv = sd / mean of each layer's dissimilarities measures
 * that spread; the penalty  weight * mean_layers relu(1 - cv / minCv)^2  is zero while every layer
 * keeps cv >= minCv and grows quadratically as one falls below it.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '@orthostim/protocol';
import { similarityMatrixTf, upperTriangleTf } from '../rdm-tf';

export type LossName = 'squared' | 'abs' | 'softmax';

export interface LossSettings {
  loss: LossName;
  /** Temperature of the softmax loss (on r^2). */
  temperature: number;
  /** Weight of the spread penalty (0 turns it off). */
  spreadWeight: number;
  /** Smallest coefficient of variation of a layer's dissimilarities the penalty accepts. */
  minCv: number;
}

export const DEFAULT_LOSS: LossSettings = { loss: 'squared', temperature: 0.02, spreadWeight: 1, minCv: 0.05 };

type PairAggregate = (r: tf.Tensor1D, w: tf.Tensor1D, s: LossSettings) => tf.Scalar;

export const LOSSES = {
  squared: (r, w) => tf.div(tf.sum(tf.mul(w, tf.square(r))), tf.sum(w)),
  abs: (r, w) => tf.div(tf.sum(tf.mul(w, tf.sqrt(tf.add(tf.square(r), 1e-6)))), tf.sum(w)),
  softmax: (r, w, s) =>
    tf.mul(s.temperature, tf.log(tf.div(tf.sum(tf.mul(w, tf.exp(tf.div(tf.square(r), s.temperature)))), tf.sum(w)))),
} satisfies Record<LossName, PairAggregate>;

export const LOSS_NAMES = Object.keys(LOSSES) as LossName[];

export interface ObjectiveParts {
  total: tf.Scalar;
  /** The pair aggregate alone (without the penalty). */
  similarity: tf.Scalar;
  penalty: tf.Scalar;
  /** L x L Pearson matrix of the RDM vectors. */
  pearson: tf.Tensor2D;
  /** Per-layer mean and coefficient of variation of the dissimilarities. */
  mean: tf.Tensor1D;
  cv: tf.Tensor1D;
}

/**
 * The objective from the layers' condensed RDMs, stacked as rows of `rdms` (L x pairs).
 * `pairWeights` holds one weight per layer pair a < b in condensed order (default all 1).
 */
export function objectiveTf(rdms: tf.Tensor2D, settings: LossSettings, pairWeights?: Float32Array): ObjectiveParts {
  const L = rdms.shape[0];
  if (L < 2) throw new UsageError(`the synthesis objective needs at least 2 layers; got ${L}`);
  const pairs = (L * (L - 1)) / 2;
  if (pairWeights && pairWeights.length !== pairs)
    throw new RangeError(`objectiveTf: expected ${pairs} pair weights for ${L} layers; got ${pairWeights.length}`);
  const pearson = similarityMatrixTf(rdms, 'pearson');
  const r = upperTriangleTf(pearson);
  const w = pairWeights ? tf.tensor1d(pairWeights) : tf.onesLike(r);
  const similarity = LOSSES[settings.loss](r, w, settings);
  const mean = tf.mean(rdms, 1) as tf.Tensor1D;
  const sd = tf.sqrt(tf.mean(tf.square(tf.sub(rdms, tf.reshape(mean, [L, 1]))), 1));
  const cv = tf.div(sd, tf.add(mean, 1e-12)) as tf.Tensor1D;
  const shortfall = tf.relu(tf.sub(1, tf.div(cv, settings.minCv)));
  const penalty = tf.mul(settings.spreadWeight, tf.mean(tf.square(shortfall))) as tf.Scalar;
  const total = tf.add(similarity, penalty) as tf.Scalar;
  return { total, similarity, penalty, pearson, mean, cv };
}
