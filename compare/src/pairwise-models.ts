/**
 * Pairwise comparisons of the models (layers and model RDMs) in one region, as rsatoolbox's
 * `eval_dual_bootstrap` + `bootstrap_pair_tests` do: every resample draws the subjects and the
 * images with replacement (pairs of an image with its own copy are dropped, as rsatoolbox drops
 * the NaN dissimilarities they give), every model is scored on it (mean over the drawn subjects),
 * and each pair's difference gets a percentile interval and a two-sided p: twice the smaller
 * proportion of resamples in which one model beats the other, shrunk towards 1/B as rsatoolbox
 * does ((B - 1) / B * p + 1 / B), ties left out. With the residual method the layers' residuals are
 * recomputed on every resample. Pure: arrays in, numbers out.
 */
import { condensedIndex, createRng, type ComparatorName } from '@orthostim/rdm';
import { buildModelSet, compareSphereRdms, type ExtraModelRdm, type ModelMethod } from '@orthostim/analysis';

export interface PairwiseOptions {
  comparator: ComparatorName;
  method: ModelMethod;
  nBootstrap: number;
  ciLevel: number;
  seed: number;
  modelRdms?: readonly ExtraModelRdm[];
}

export interface PairComparison {
  a: string;
  b: string;
  /** Mean over subjects of a's value minus b's, on the data as they are. */
  difference: number;
  ciLow: number;
  ciHigh: number;
  /** Two-sided bootstrap p that a and b fit equally well. */
  p: number;
  /** Resamples in which both models had a value (a model without variance on a resample has none). */
  nValid: number;
}

export interface RegionPairwise {
  region: string;
  models: string[];
  pairs: PairComparison[];
}

/** Percentile (numpy's linear interpolation) of sorted values. */
function percentile(sorted: ArrayLike<number>, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

/** The condensed positions of a resample of the images: pairs of distinct drawn images. */
function resampledPairs(draw: Int32Array, n: number): Int32Array {
  const out: number[] = [];
  for (let a = 0; a < draw.length; a++)
    for (let b = a + 1; b < draw.length; b++) {
      const i = draw[a]!;
      const j = draw[b]!;
      if (i !== j) out.push(i < j ? condensedIndex(i, j, n) : condensedIndex(j, i, n));
    }
  return Int32Array.from(out);
}

/** Mean over the given subjects of every model's value (models x 1). */
function scoreModels(
  layers: readonly string[],
  layerRdms: readonly ArrayLike<number>[],
  subjects: readonly ArrayLike<number>[],
  o: PairwiseOptions,
  extra: readonly ExtraModelRdm[],
): Float64Array {
  const set = buildModelSet(layers, layerRdms, o.comparator, [o.method], { extra });
  const P = set.nPairs;
  const S = subjects.length;
  const rdms = new Float64Array(S * P);
  subjects.forEach((r, s) => rdms.set(r, s * P));
  const M = set.models.length;
  const values = new Float64Array(M * S);
  compareSphereRdms(rdms, S, set, values, 0, S);
  return Float64Array.from({ length: M }, (_, m) => {
    let sum = 0;
    for (let s = 0; s < S; s++) sum += values[m * S + s]!;
    return sum / S;
  });
}

const pick = (v: ArrayLike<number>, at: Int32Array) => Float64Array.from(at, (k) => v[k] as number);

/** Every pair of models of one region (subjects: condensed RDMs of n images). */
export function comparePairwise(
  region: string,
  layers: readonly string[],
  layerRdms: readonly ArrayLike<number>[],
  subjects: readonly Float64Array[],
  nImages: number,
  o: PairwiseOptions,
  regionIndex = 0,
): RegionPairwise {
  const extra = o.modelRdms ?? [];
  const names = [...layers, ...extra.map((e) => e.name)];
  const M = names.length;
  const observed = scoreModels(layers, layerRdms, subjects, o, extra);
  const rng = createRng(((o.seed + 0x51ed27) ^ Math.imul(regionIndex + 1, 0x9e3779b1)) >>> 0);
  const S = subjects.length;
  const B = o.nBootstrap;
  const boot = new Float64Array(B * M);
  for (let b = 0; b < B; b++) {
    const images = Int32Array.from({ length: nImages }, () => Math.floor(rng() * nImages));
    const drawn = Array.from({ length: S }, () => subjects[Math.floor(rng() * S)]!);
    const at = resampledPairs(images, nImages);
    if (at.length < 3) {
      boot.fill(Number.NaN, b * M, (b + 1) * M);
      continue;
    }
    boot.set(
      scoreModels(
        layers,
        layerRdms.map((r) => pick(r, at)),
        drawn.map((r) => pick(r, at)),
        o,
        extra.map((e) => ({ name: e.name, rdm: pick(e.rdm, at) })),
      ),
      b * M,
    );
  }
  const pairs: PairComparison[] = [];
  for (let a = 0; a < M; a++)
    for (let c = a + 1; c < M; c++) {
      const diffs: number[] = [];
      let aWins = 0;
      let ties = 0;
      for (let b = 0; b < B; b++) {
        const d = boot[b * M + a]! - boot[b * M + c]!;
        if (Number.isNaN(d)) continue;
        diffs.push(d);
        if (d > 0) aWins++;
        else if (d === 0) ties++;
      }
      diffs.sort((x, y) => x - y);
      const n = diffs.length;
      const decided = n - ties;
      const proportion = decided > 0 ? aWins / decided : 0.5;
      const p = n > 0 ? ((n - 1) / n) * Math.min(1, 2 * Math.min(proportion, 1 - proportion)) + 1 / n : Number.NaN;
      pairs.push({
        a: names[a]!,
        b: names[c]!,
        difference: observed[a]! - observed[c]!,
        ciLow: n ? percentile(diffs, (1 - o.ciLevel) / 2) : Number.NaN,
        ciHigh: n ? percentile(diffs, 1 - (1 - o.ciLevel) / 2) : Number.NaN,
        p: ties === n && n > 0 ? 1 : p,
        nValid: n,
      });
    }
  return { region, models: names, pairs };
}
