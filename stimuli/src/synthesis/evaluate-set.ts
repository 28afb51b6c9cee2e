/**
 * How orthogonal an image set's layer RDMs are: the RDMs (computed exactly as `orthostim rdms`
 * computes them, through features.ts), the layer x layer Pearson and Spearman matrices, the mean
 * |r| over layer pairs, and each layer's spread (mean and coefficient of variation of its
 * dissimilarities). Used for the synthesized set before and after, and for a natural set.
 */
import { meanAbsOffDiagonal, similarityMatrix } from '@orthostim/rdm';
import { computeLayerRdms, type ActivationModel } from '../features';

export interface LayerSpread {
  layer: string;
  mean: number;
  /** Coefficient of variation: population sd / mean (the penalty's measure; see loss.ts). */
  cv: number;
}

export interface SetEvaluation {
  layers: string[];
  rdms: Float64Array[];
  pearson: number[][];
  spearman: number[][];
  meanAbsPearson: number;
  meanAbsSpearman: number;
  spread: LayerSpread[];
}

export function rdmSpread(rdm: ArrayLike<number>): { mean: number; cv: number } {
  let s = 0;
  for (let i = 0; i < rdm.length; i++) s += rdm[i]!;
  const mean = s / rdm.length;
  let ss = 0;
  for (let i = 0; i < rdm.length; i++) ss += (rdm[i]! - mean) ** 2;
  return { mean, cv: Math.sqrt(ss / rdm.length) / mean };
}

export function evaluateRdms(layers: readonly string[], rdms: Float64Array[]): SetEvaluation {
  const pearson = similarityMatrix(rdms, 'pearson');
  const spearman = similarityMatrix(rdms, 'spearman');
  return {
    layers: [...layers],
    rdms,
    pearson,
    spearman,
    meanAbsPearson: meanAbsOffDiagonal(pearson),
    meanAbsSpearman: meanAbsOffDiagonal(spearman),
    spread: layers.map((layer, l) => ({ layer, ...rdmSpread(rdms[l]!) })),
  };
}

/** Correlation-distance RDMs of size x size uint8 RGB images and their evaluation. */
export async function evaluateImageSet(
  model: ActivationModel,
  images: readonly Uint8Array[],
  size: number,
  layers: readonly string[],
): Promise<SetEvaluation> {
  const { rdms } = await computeLayerRdms(model, images, size, { layers, distance: 'correlation', batchSize: 8 });
  return evaluateRdms(layers, rdms);
}
