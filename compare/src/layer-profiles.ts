/**
 * Layer profiles of brain regions: each subject's region RDM compared with every layer's RDM (the
 * searchlight's own model comparison, `buildModelSet` + `compareSphereRdms`, so standard and
 * residual mean exactly what they mean in `analyze`), the mean over subjects with a subject
 * bootstrap confidence interval, the noise ceiling, and the best layer. Pure: arrays in, numbers out.
 *
 * Noise ceiling (Nili et al. 2014): each subject's RDM is compared with the mean RDM of all
 * subjects including itself (upper bound) and with the mean of the others (lower bound); the
 * bounds are the means over subjects. Before averaging, RDMs are rank-transformed for Spearman and
 * Kendall tau-a and z-scored for Pearson, as the RSA toolbox does, so every subject weighs the same.
 * The ceiling describes the data, whatever the model: with the residual method (semipartial
 * correlations) it is still the standard-comparison ceiling, an upper bound the residual values
 * stay well below.
 */
import { COMPARATORS, createRng, rankAverage, type ComparatorName } from '@orthostim/rdm';
import { InputError } from '@orthostim/protocol';
import { buildModelSet, compareSphereRdms, type ExtraModelRdm, type ModelMethod } from '@orthostim/analysis';

export interface LayerScore {
  /** The layer, or the model RDM's name when `kind` is 'model'. */
  layer: string;
  /** 'model': a user-given model RDM (`--model-rdm`), compared with the standard method. */
  kind?: 'model';
  /** Mean over subjects (NaN when a subject's value is NaN). */
  mean: number;
  /** Subject-bootstrap percentile interval of the mean (null with one subject). */
  ciLow: number | null;
  ciHigh: number | null;
  perSubject: number[];
}

export interface RegionProfile {
  region: string;
  nSubjects: number;
  layers: LayerScore[];
  noiseCeiling: { lower: number; upper: number } | null;
  best: { layer: string; mean: number } | null;
}

export interface ProfileOptions {
  comparator: ComparatorName;
  method: ModelMethod;
  /** Activation-residual RDM of each layer, for the `activation` variant. */
  activationRdms?: readonly ArrayLike<number>[];
  /** Bootstrap resamples of the subjects (default 1000). */
  nBootstrap?: number;
  /** Coverage of the interval (default 0.95). */
  ciLevel?: number;
  seed?: number;
  /** User-given model RDMs (`--model-rdm`), scored after the layers with the standard method. */
  modelRdms?: readonly ExtraModelRdm[];
}

/** Each subject's RDM made comparable for averaging: ranks (Spearman, Kendall) or z-scores (Pearson). */
function ceilingTransform(rdm: Float64Array, comparator: ComparatorName): Float64Array {
  if (comparator !== 'pearson') return rankAverage(rdm);
  let mean = 0;
  for (const v of rdm) mean += v;
  mean /= rdm.length;
  let ss = 0;
  for (const v of rdm) ss += (v - mean) ** 2;
  const sd = Math.sqrt(ss / rdm.length);
  return rdm.map((v) => (sd > 0 ? (v - mean) / sd : 0));
}

/** Nili et al.'s lower and upper noise ceiling of a set of subject RDMs (>= 2). */
export function noiseCeiling(
  subjects: readonly Float64Array[],
  comparator: ComparatorName,
): { lower: number; upper: number } {
  const S = subjects.length;
  if (S < 2) throw new RangeError('noiseCeiling: needs at least 2 subjects');
  const P = subjects[0]!.length;
  const t = subjects.map((s) => ceilingTransform(s, comparator));
  const sum = new Float64Array(P);
  for (const x of t) for (let k = 0; k < P; k++) sum[k] = sum[k]! + x[k]!;
  const compare = COMPARATORS[comparator];
  let upper = 0;
  let lower = 0;
  const all = sum.map((v) => v / S);
  const others = new Float64Array(P);
  for (let s = 0; s < S; s++) {
    for (let k = 0; k < P; k++) others[k] = (sum[k]! - t[s]![k]!) / (S - 1);
    upper += compare(t[s]!, all);
    lower += compare(t[s]!, others);
  }
  return { lower: lower / S, upper: upper / S };
}

/** Percentile (linear interpolation between order statistics, numpy's default) of sorted values. */
function percentile(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function computeLayerProfiles(
  layers: readonly string[],
  layerRdms: readonly ArrayLike<number>[],
  regions: readonly { name: string; subjects: readonly Float64Array[] }[],
  options: ProfileOptions,
): RegionProfile[] {
  const set = buildModelSet(layers, layerRdms, options.comparator, [options.method], {
    extra: options.modelRdms ?? [],
    ...(options.activationRdms ? { activationRdms: options.activationRdms } : {}),
  });
  const P = set.nPairs;
  const B = options.nBootstrap ?? 1000;
  const level = options.ciLevel ?? 0.95;
  if (!(level > 0 && level < 1)) throw new InputError(`ciLevel must be in (0, 1); got ${level}`);
  const L = set.models.length;
  return regions.map((region, ri) => {
    const S = region.subjects.length;
    const rdms = new Float64Array(S * P);
    region.subjects.forEach((r, s) => {
      if (r.length !== P)
        throw new InputError(
          `region ${JSON.stringify(region.name)}, subject ${s + 1}: ${r.length} values; the layer RDMs have ${P}`,
        );
      rdms.set(r, s * P);
    });
    const values = new Float64Array(L * S);
    compareSphereRdms(rdms, S, set, values, 0, S);
    // Same resampled subjects for every layer, seeded per region so regions do not share draws.
    const rng = createRng(((options.seed ?? 1) + Math.imul(ri + 1, 0x9e3779b1)) >>> 0);
    const draws =
      S > 1 ? Array.from({ length: B }, () => Int32Array.from({ length: S }, () => Math.floor(rng() * S))) : [];
    const scores: LayerScore[] = set.models.map(({ layer, kind }, l) => {
      const per = Array.from(values.subarray(l * S, (l + 1) * S));
      const mean = per.reduce((a, b) => a + b, 0) / S;
      const own = kind ? { layer, kind } : { layer };
      if (S < 2 || Number.isNaN(mean)) return { ...own, mean, ciLow: null, ciHigh: null, perSubject: per };
      const means = new Float64Array(B);
      draws.forEach((d, b) => {
        let m = 0;
        for (const s of d) m += per[s]!;
        means[b] = m / S;
      });
      means.sort();
      return {
        ...own,
        mean,
        ciLow: percentile(means, (1 - level) / 2),
        ciHigh: percentile(means, 1 - (1 - level) / 2),
        perSubject: per,
      };
    });
    let best: RegionProfile['best'] = null;
    for (const s of scores)
      if (!s.kind && Number.isFinite(s.mean) && (!best || s.mean > best.mean)) best = { layer: s.layer, mean: s.mean };
    return {
      region: region.name,
      nSubjects: S,
      layers: scores,
      noiseCeiling: S >= 2 ? noiseCeiling(region.subjects, options.comparator) : null,
      best,
    };
  });
}
