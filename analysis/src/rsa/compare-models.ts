/**
 * Step 3 of the searchlight: compare each sphere (or ROI) RDM with every model RDM.
 *
 * The model side is prepared once (`buildModelSet`): each layer's RDM is ranked (Spearman and
 * Kendall), optionally residualized, then centred and scaled to unit norm. A sphere RDM is then
 * ranked once (Spearman) or centred (Pearson) and each model costs one dot product, the same
 * numbers as rdm's `spearman` / `pearson` (checked in the tests). Kendall tau-a goes through rdm's
 * comparator registry pair by pair (O(P^2) per model; slower, not the default).
 *
 * Methods:
 * - standard: the layer's own RDM.
 * - residual: the layer's RDM regressed on all other layers' RDMs (OLS with intercept; on ranks for
 *   Spearman and Kendall, on the values for Pearson) and replaced by its residual. Correlating a
 *   sphere RDM (or its ranks) with that residual is a semipartial correlation: the part of the
 *   layer's geometry that no other layer shares. The residual itself is not re-ranked.
 *
 * NaN policy: a sphere RDM holding NaN, or with zero variance (all distances equal), gives NaN for
 * every model and is counted. A model with zero variance (a constant RDM, or a residual that the
 * other layers explain completely) is NaN for every sphere and listed in `degenerate`.
 */
import { COMPARATORS, COMPARATOR_NAMES, isComparatorName, rankAverage, type ComparatorName } from '@orthostim/rdm';
import { InputError, UsageError } from '@orthostim/protocol';
import { createRankScratch, rankInto, type RankScratch } from './rank-into';

export type ModelMethod = 'standard' | 'residual';
export type MethodChoice = ModelMethod | 'both';

export const METHOD_CHOICES = {
  standard: ['standard'],
  residual: ['residual'],
  both: ['standard', 'residual'],
} as const satisfies Record<MethodChoice, readonly ModelMethod[]>;

export const METHOD_CHOICE_NAMES = Object.keys(METHOD_CHOICES) as MethodChoice[];

/** How each comparator treats the two sides. */
interface ComparisonSpec {
  /** Compare ranks (model ranked once, sphere ranked once per sphere). */
  readonly ranks: boolean;
  /** Pearson of the prepared vectors (a dot product with a unit model vector); else the registry's function. */
  readonly dot: boolean;
}

export const COMPARISONS = {
  spearman: { ranks: true, dot: true },
  pearson: { ranks: false, dot: true },
  'kendall-tau-a': { ranks: true, dot: false },
} as const satisfies Record<ComparatorName, ComparisonSpec>;

export interface ModelSpec {
  /** The layer's name, or the model RDM's name for `kind: 'model'`. */
  readonly layer: string;
  readonly method: ModelMethod;
  /** 'model': a model RDM given by the user (`--model-rdm`), not a layer; absent for layers. */
  readonly kind?: 'model';
}

/** A model RDM given by the user (categorical, behavioural, ...): a name and a condensed RDM. */
export interface ExtraModelRdm {
  readonly name: string;
  readonly rdm: ArrayLike<number>;
}

export interface ModelSet {
  readonly comparator: ComparatorName;
  readonly nPairs: number;
  readonly models: readonly ModelSpec[];
  /**
   * M x P, row per model. Dot comparators: zero-mean unit-norm vectors (NaN rows for degenerate
   * models). Kendall: the (residualized) rank vector itself.
   */
  readonly vectors: Float64Array;
  /** `layer (method)` of each model without variance. */
  readonly degenerate: readonly string[];
}

/**
 * Residuals of OLS regressions of y on an intercept and the columns of X (each length P), by
 * modified Gram-Schmidt with a second pass for accuracy. Columns that are (numerically) linear
 * combinations of earlier ones are dropped, as a least-squares solver with a rank cutoff would.
 */
export function olsResidual(y: ArrayLike<number>, columns: readonly ArrayLike<number>[]): Float64Array {
  const P = y.length;
  const basis: Float64Array[] = [];
  const orthogonalize = (v: Float64Array): void => {
    for (let pass = 0; pass < 2; pass++) {
      for (const q of basis) {
        let d = 0;
        for (let k = 0; k < P; k++) d += (q[k] as number) * (v[k] as number);
        for (let k = 0; k < P; k++) v[k] = (v[k] as number) - d * (q[k] as number);
      }
    }
  };
  for (const col of [new Float64Array(P).fill(1), ...columns]) {
    const v = Float64Array.from(col);
    let before = 0;
    for (let k = 0; k < P; k++) before += (v[k] as number) ** 2;
    orthogonalize(v);
    let after = 0;
    for (let k = 0; k < P; k++) after += (v[k] as number) ** 2;
    if (!(after > 1e-20 * before) || after === 0) continue;
    const s = 1 / Math.sqrt(after);
    for (let k = 0; k < P; k++) v[k] = (v[k] as number) * s;
    basis.push(v);
  }
  const r = Float64Array.from(y);
  orthogonalize(r);
  return r;
}

/** Centre and scale to unit norm in place; false (and NaN-filled) when the vector has no variance. */
function unitCentered(v: Float64Array, reference: ArrayLike<number>): boolean {
  const P = v.length;
  let mean = 0;
  for (let k = 0; k < P; k++) mean += v[k] as number;
  mean /= P;
  let ss = 0;
  let refSs = 0;
  for (let k = 0; k < P; k++) {
    const d = (v[k] as number) - mean;
    v[k] = d;
    ss += d * d;
    refSs += (reference[k] as number) ** 2;
  }
  // Relative cutoff: a residual that is rounding noise of the layer's own values has no variance.
  if (!(ss > 1e-24 * refSs) || ss === 0) {
    v.fill(Number.NaN);
    return false;
  }
  const s = 1 / Math.sqrt(ss);
  for (let k = 0; k < P; k++) v[k] = (v[k] as number) * s;
  return true;
}

/**
 * Prepare the model RDMs (one condensed RDM per layer, in `layers` order) for `compareSphereRdms`.
 * Models come out layer-major within method: standard for every layer, then residual; then the
 * `extra` model RDMs (user-given, `kind: 'model'`), each once with the standard method. Extra
 * models are not among the "other layers" a layer's residual is taken against.
 */
export function buildModelSet(
  layers: readonly string[],
  layerRdms: readonly ArrayLike<number>[],
  comparator: ComparatorName,
  methods: readonly ModelMethod[] = ['standard'],
  extra: readonly ExtraModelRdm[] = [],
): ModelSet {
  const layerSet = buildLayerModelSet(layers, layerRdms, comparator, methods);
  return extra.length ? appendExtraModels(layerSet, extra) : layerSet;
}

/** Append user-given model RDMs (standard method) to a model set. */
function appendExtraModels(set: ModelSet, extra: readonly ExtraModelRdm[]): ModelSet {
  const P = set.nPairs;
  const taken = new Set(set.models.map((m) => m.layer));
  for (const e of extra) {
    if (taken.has(e.name))
      throw new InputError(`model RDM "${e.name}": the name is taken by a layer or another model RDM; rename it`);
    taken.add(e.name);
  }
  const own = buildLayerModelSet(
    extra.map((e) => e.name),
    extra.map((e) => e.rdm),
    set.comparator,
    ['standard'],
  );
  if (own.nPairs !== P)
    throw new InputError(`model RDM "${extra[0]!.name}" has ${own.nPairs} values; the layer RDMs have ${P}`);
  const vectors = new Float64Array(set.vectors.length + own.vectors.length);
  vectors.set(set.vectors);
  vectors.set(own.vectors, set.vectors.length);
  return {
    comparator: set.comparator,
    nPairs: P,
    models: [...set.models, ...own.models.map((m) => ({ ...m, kind: 'model' as const }))],
    vectors,
    degenerate: [...set.degenerate, ...own.degenerate],
  };
}

function buildLayerModelSet(
  layers: readonly string[],
  layerRdms: readonly ArrayLike<number>[],
  comparator: ComparatorName,
  methods: readonly ModelMethod[],
): ModelSet {
  if (!isComparatorName(comparator)) {
    throw new UsageError(`--compare must be one of ${COMPARATOR_NAMES.join(', ')}; got ${JSON.stringify(comparator)}`);
  }
  if (layers.length === 0 || layers.length !== layerRdms.length) {
    throw new UsageError(
      `buildModelSet: need one RDM per layer; got ${layers.length} layers and ${layerRdms.length} RDMs`,
    );
  }
  const P = layerRdms[0]!.length;
  layerRdms.forEach((rdm, l) => {
    if (rdm.length !== P)
      throw new InputError(
        `model RDM of layer "${layers[l]}" has ${rdm.length} values; expected ${P} like the first layer's`,
      );
    for (let k = 0; k < P; k++) {
      if (!Number.isFinite(rdm[k] as number)) {
        throw new InputError(
          `model RDM of layer "${layers[l]}" holds a non-finite value at position ${k}; model RDMs must be complete`,
        );
      }
    }
  });
  const spec: ComparisonSpec = COMPARISONS[comparator];
  const base = layerRdms.map((rdm) => (spec.ranks ? rankAverage(rdm) : Float64Array.from(rdm)));
  const models: ModelSpec[] = [];
  const vectors = new Float64Array(methods.length * layers.length * P);
  const degenerate: string[] = [];
  let m = 0;
  for (const method of methods) {
    for (let l = 0; l < layers.length; l++) {
      const own = base[l]!;
      const v =
        method === 'residual'
          ? olsResidual(
              own,
              base.filter((_, k) => k !== l),
            )
          : Float64Array.from(own);
      const row = vectors.subarray(m * P, (m + 1) * P);
      if (spec.dot) {
        if (!unitCentered(v, own)) degenerate.push(`${layers[l]} (${method})`);
        row.set(v);
      } else {
        row.set(v);
        const check = Float64Array.from(v);
        if (!unitCentered(check, own)) {
          degenerate.push(`${layers[l]} (${method})`);
          row.fill(Number.NaN);
        }
      }
      models.push({ layer: layers[l]!, method });
      m++;
    }
  }
  return { comparator, nPairs: P, models, vectors, degenerate };
}

function clamp(r: number): number {
  return r > 1 ? 1 : r < -1 ? -1 : r;
}

export interface CompareScratch {
  readonly x: Float64Array;
  readonly ranks: Float64Array;
  readonly rank: RankScratch;
}

export function createCompareScratch(nPairs: number): CompareScratch {
  return { x: new Float64Array(nPairs), ranks: new Float64Array(nPairs), rank: createRankScratch(nPairs) };
}

/**
 * Compare `count` condensed RDMs (row-major in `rdms`) with every model. The value of RDM c and
 * model m goes to out[m * outStride + outOffset + c] (model-major maps). Returns how many RDMs
 * were NaN or without variance (NaN for every model).
 */
export function compareSphereRdms(
  rdms: Float64Array,
  count: number,
  set: ModelSet,
  out: Float32Array | Float64Array,
  outOffset: number,
  outStride: number,
  scratch: CompareScratch = createCompareScratch(set.nPairs),
): number {
  const P = set.nPairs;
  const M = set.models.length;
  const vectors = set.vectors;
  const spec: ComparisonSpec = COMPARISONS[set.comparator];
  const { x, ranks } = scratch;
  let invalid = 0;
  for (let c = 0; c < count; c++) {
    const o = c * P;
    const first = rdms[o] as number;
    let finite = true;
    let varying = false;
    for (let k = 0; k < P; k++) {
      const v = rdms[o + k] as number;
      if (!(v - v === 0)) finite = false; // NaN or +-Infinity
      if (v !== first) varying = true;
    }
    if (!finite || !varying) {
      for (let m = 0; m < M; m++) out[m * outStride + outOffset + c] = Number.NaN;
      invalid++;
      continue;
    }
    if (!spec.dot) {
      const sphere = rdms.subarray(o, o + P);
      const compare = COMPARATORS[set.comparator];
      for (let m = 0; m < M; m++)
        out[m * outStride + outOffset + c] = compare(sphere, vectors.subarray(m * P, (m + 1) * P));
      continue;
    }
    let src: Float64Array = x;
    let ss = 0;
    if (spec.ranks) {
      // Average ranks always have mean (P + 1) / 2; the model vectors sum to 0, so the ranks need
      // no centring for the dot products, and their centred sum of squares is sum r^2 - P mean^2.
      const sumSq = rankInto(rdms, P, ranks, scratch.rank, o);
      ss = sumSq - (P * (P + 1) * (P + 1)) / 4;
      src = ranks;
    } else {
      let mean = 0;
      for (let k = 0; k < P; k++) mean += rdms[o + k] as number;
      mean /= P;
      for (let k = 0; k < P; k++) {
        const d = (rdms[o + k] as number) - mean;
        x[k] = d;
        ss += d * d;
      }
    }
    const inv = 1 / Math.sqrt(ss);
    let m = 0;
    // Four models per pass over x: each loaded x[k] feeds four products.
    for (; m + 3 < M; m += 4) {
      const u0 = m * P;
      const u1 = u0 + P;
      const u2 = u1 + P;
      const u3 = u2 + P;
      let d0 = 0;
      let d1 = 0;
      let d2 = 0;
      let d3 = 0;
      for (let k = 0; k < P; k++) {
        const xk = src[k] as number;
        d0 += xk * (vectors[u0 + k] as number);
        d1 += xk * (vectors[u1 + k] as number);
        d2 += xk * (vectors[u2 + k] as number);
        d3 += xk * (vectors[u3 + k] as number);
      }
      const o0 = m * outStride + outOffset + c;
      out[o0] = clamp(d0 * inv);
      out[o0 + outStride] = clamp(d1 * inv);
      out[o0 + 2 * outStride] = clamp(d2 * inv);
      out[o0 + 3 * outStride] = clamp(d3 * inv);
    }
    for (; m < M; m++) {
      const u = m * P;
      let d = 0;
      for (let k = 0; k < P; k++) d += (src[k] as number) * (vectors[u + k] as number);
      out[m * outStride + outOffset + c] = clamp(d * inv);
    }
  }
  return invalid;
}
