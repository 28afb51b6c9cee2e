/**
 * Step 3 of the searchlight: compare each sphere (or ROI) RDM with every model RDM.
 *
 * The model side is prepared once (`buildModelSet`): each layer's RDM is ranked (Spearman and
 * Kendall), optionally residualized, then centred and scaled to unit norm. A sphere RDM is then
 * ranked once (Spearman) or centred (Pearson) and each model costs one dot product, the same
 * numbers as rdm's `spearman` / `pearson` (checked in the tests). Kendall tau-a goes through rdm's
 * comparator registry pair by pair (O(P^2) per model; slower, not the default).
 *
 * Methods: `standard` (the layer's own RDM) and the residual method's variants
 * (residual-variants.ts): `semipartial` regresses the layer's RDM on all other layers' RDMs (OLS
 * with intercept; on ranks for Spearman and Kendall, on the values for Pearson) and correlates the
 * sphere RDM (or its ranks) with the residual: the part of the layer's geometry that no other
 * layer shares. The residual itself is not re-ranked. `partial` and `unique` add a per-sphere step
 * after the dot products (dot comparators only).
 *
 * NaN policy: a sphere RDM holding NaN, or with zero variance (all distances equal), gives NaN for
 * every model and is counted. A model with zero variance (a constant RDM, or a residual that the
 * other layers explain completely) is NaN for every sphere and listed in `degenerate`.
 */
import { COMPARATORS, COMPARATOR_NAMES, isComparatorName, rankAverage, type ComparatorName } from '@orthostim/rdm';
import { InputError, UsageError } from '@orthostim/protocol';
import {
  createUniqueScratch,
  prepareUniquePlan,
  uniqueVariances,
  type UniquePlan,
  type UniqueScratch,
} from './cv-unique-variance';
import { olsResidual, orthonormalBasis } from './layer-residuals';
import { createRankScratch, rankInto, type RankScratch } from './rank-into';
import {
  RESIDUAL_VARIANTS,
  isResidualVariant,
  type ResidualVariant,
  type ResidualVariantSpec,
} from './residual-variants';

export { olsResidual, orthonormalBasis, unexplainedShares } from './layer-residuals';

/** What a model's map holds: the layer's own RDM, or one residual variant. */
export type ModelMethod = 'standard' | ResidualVariant;
/** index.json's `method` (the variant goes to its `residual` field). */
export type MethodFamily = 'standard' | 'residual';
export type MethodChoice = MethodFamily | 'both';

/** Which families each `--method` choice computes. */
export const METHOD_CHOICES = {
  standard: ['standard'],
  residual: ['residual'],
  both: ['standard', 'residual'],
} as const satisfies Record<MethodChoice, readonly MethodFamily[]>;

export const METHOD_CHOICE_NAMES = Object.keys(METHOD_CHOICES) as MethodChoice[];

/** The models of a `--method` choice with the residual variants given (standard first). */
export function methodsOf(choice: MethodChoice, variants: readonly ResidualVariant[]): ModelMethod[] {
  return (METHOD_CHOICES[choice] as readonly MethodFamily[]).flatMap((f): readonly ModelMethod[] =>
    f === 'standard' ? ['standard'] : variants,
  );
}

/** index.json's fields for a model method: `{method: "residual", residual: "<variant>"}` or `{method: "standard"}`. */
export function methodFields(method: ModelMethod): { method: MethodFamily; residual?: ResidualVariant } {
  return method === 'standard' ? { method: 'standard' } : { method: 'residual', residual: method };
}

/** The model method of index.json fields (older outputs without `residual` held semipartial maps). */
export function methodOfFields(f: { method?: string; residual?: string }): ModelMethod | undefined {
  if (f.method === 'standard') return 'standard';
  if (f.method !== 'residual') return undefined;
  return isResidualVariant(f.residual) ? f.residual : 'semipartial';
}

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
  /** Partial correlations: their model indices and an orthonormal basis (rows) of the intercept and all layers. */
  readonly partial?: { readonly models: Int32Array; readonly basis: Float64Array; readonly rank: number };
  /** Cross-validated unique variance: model index of each layer's `unique` model, and the prepared regression. */
  readonly unique?: { readonly models: Int32Array; readonly plan: UniquePlan };
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

export interface ModelSetOptions {
  /** Activation-residual RDM of each layer (in `layers` order), for the `activation` variant. */
  activationRdms?: readonly ArrayLike<number>[];
}

function checkLayerRdms(
  layers: readonly string[],
  layerRdms: readonly ArrayLike<number>[],
  what = 'model RDM',
): number {
  const P = layerRdms[0]!.length;
  layerRdms.forEach((rdm, l) => {
    if (rdm.length !== P)
      throw new InputError(
        `${what} of layer "${layers[l]}" has ${rdm.length} values; expected ${P} like the first layer's`,
      );
    for (let k = 0; k < P; k++) {
      if (!Number.isFinite(rdm[k] as number)) {
        throw new InputError(
          `${what} of layer "${layers[l]}" holds a non-finite value at position ${k}; model RDMs must be complete`,
        );
      }
    }
  });
  return P;
}

function checkMethods(
  methods: readonly ModelMethod[],
  spec: ComparisonSpec,
  comparator: string,
  o: ModelSetOptions,
): void {
  for (const method of methods) {
    if (method === 'standard') continue;
    const variant: ResidualVariantSpec = RESIDUAL_VARIANTS[method];
    if (variant.perSphere && !spec.dot)
      throw new UsageError(`the ${method} residual variant needs a Spearman or Pearson comparison; got ${comparator}`);
    if (variant.needsActivationRdms && !o.activationRdms)
      throw new InputError(`the ${method} residual variant needs activation-residual RDMs; the stimulus set has none`);
  }
}

/**
 * Prepare the model RDMs (one condensed RDM per layer, in `layers` order) for `compareSphereRdms`.
 * Models come out layer-major within method, in the order of `methods`; then the `extra` model
 * RDMs (user-given, `kind: 'model'`), each once with the standard method. Extra models are not
 * among the "other layers" a layer's residual is taken against.
 */
export function buildModelSet(
  layers: readonly string[],
  layerRdms: readonly ArrayLike<number>[],
  comparator: ComparatorName,
  methods: readonly ModelMethod[] = ['standard'],
  options: ModelSetOptions & { extra?: readonly ExtraModelRdm[] } = {},
): ModelSet {
  const { extra = [], ...layerOptions } = options;
  const layerSet = buildLayerModelSet(layers, layerRdms, comparator, methods, layerOptions);
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
    ...set, // partial and unique keep their model indices: the extra models come after
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
  options: ModelSetOptions = {},
): ModelSet {
  if (!isComparatorName(comparator)) {
    throw new UsageError(`--compare must be one of ${COMPARATOR_NAMES.join(', ')}; got ${JSON.stringify(comparator)}`);
  }
  if (layers.length === 0 || layers.length !== layerRdms.length) {
    throw new UsageError(
      `buildModelSet: need one RDM per layer; got ${layers.length} layers and ${layerRdms.length} RDMs`,
    );
  }
  const P = checkLayerRdms(layers, layerRdms);
  const spec: ComparisonSpec = COMPARISONS[comparator];
  checkMethods(methods, spec, comparator, options);
  const prepare = (rdm: ArrayLike<number>) => (spec.ranks ? rankAverage(rdm) : Float64Array.from(rdm));
  const base = layerRdms.map(prepare);
  let activation: Float64Array[] | undefined;
  if (options.activationRdms) {
    if (options.activationRdms.length !== layers.length)
      throw new InputError(
        `need one activation-residual RDM per layer; got ${options.activationRdms.length} for ${layers.length} layers`,
      );
    if (checkLayerRdms(layers, options.activationRdms, 'activation-residual RDM') !== P)
      throw new InputError(
        `activation-residual RDMs have ${options.activationRdms[0]!.length} values; the layer RDMs ${P}`,
      );
    activation = options.activationRdms.map(prepare);
  }
  const ctx = { base, olsResidual, ...(activation ? { activation } : {}) };
  const models: ModelSpec[] = [];
  const vectors = new Float64Array(methods.length * layers.length * P);
  const degenerate: string[] = [];
  const partialModels: number[] = [];
  const uniqueModels: number[] = [];
  let m = 0;
  for (const method of methods) {
    const variant = method === 'standard' ? undefined : (RESIDUAL_VARIANTS[method] as ResidualVariantSpec);
    for (let l = 0; l < layers.length; l++) {
      const own = base[l]!;
      const v = variant ? variant.row(ctx, l) : Float64Array.from(own);
      const row = vectors.subarray(m * P, (m + 1) * P);
      if (spec.dot) {
        if (!unitCentered(v, variant?.needsActivationRdms ? v.slice() : own))
          degenerate.push(`${layers[l]} (${method})`);
        row.set(v);
      } else {
        row.set(v);
        const check = Float64Array.from(v);
        if (!unitCentered(check, own)) {
          degenerate.push(`${layers[l]} (${method})`);
          row.fill(Number.NaN);
        }
      }
      if (variant?.perSphere === 'partial') partialModels.push(m);
      if (variant?.perSphere === 'unique') uniqueModels.push(m);
      models.push({ layer: layers[l]!, method });
      m++;
    }
  }
  const set: ModelSet = { comparator, nPairs: P, models, vectors, degenerate };
  return {
    ...set,
    ...(partialModels.length ? { partial: preparePartial(partialModels, base, P) } : {}),
    ...(uniqueModels.length
      ? { unique: { models: Int32Array.from(uniqueModels), plan: prepareUniquePlan(base, imagesOfPairs(P)) } }
      : {}),
  };
}

function imagesOfPairs(P: number): number {
  return Math.round((1 + Math.sqrt(1 + 8 * P)) / 2);
}

function preparePartial(models: number[], base: readonly Float64Array[], P: number): NonNullable<ModelSet['partial']> {
  const rows = orthonormalBasis(P, base);
  const basis = new Float64Array(rows.length * P);
  rows.forEach((q, b) => basis.set(q, b * P));
  return { models: Int32Array.from(models), basis, rank: rows.length };
}

function clamp(r: number): number {
  return r > 1 ? 1 : r < -1 ? -1 : r;
}

export interface CompareScratch {
  readonly x: Float64Array;
  readonly ranks: Float64Array;
  readonly rank: RankScratch;
  /** The unique variant's buffers, made on first use. */
  unique?: { scratch: UniqueScratch; values: Float64Array };
}

export function createCompareScratch(nPairs: number): CompareScratch {
  return { x: new Float64Array(nPairs), ranks: new Float64Array(nPairs), rank: createRankScratch(nPairs) };
}

/**
 * Partial correlations from the semipartial ones already in `out`: with u the unit residual of the
 * layer (orthogonal to the intercept and the other layers) and Q a basis of the intercept and all
 * layers, the sphere vector's residual on the intercept and the other layers has squared norm
 * |x|^2 - |Q'x|^2 + (u'x)^2, and the partial correlation is u'x over its square root.
 */
function applyPartial(
  partial: NonNullable<ModelSet['partial']>,
  src: Float64Array,
  ss: number,
  total: number,
  out: Float32Array | Float64Array,
  at: number,
  outStride: number,
): void {
  const P = src.length;
  let qq = 0;
  for (let b = 0; b < partial.rank; b++) {
    let d = 0;
    const o = b * P;
    for (let k = 0; k < P; k++) d += (src[k] as number) * (partial.basis[o + k] as number);
    qq += d * d;
  }
  const rest = Math.max(0, total - qq);
  for (const m of partial.models) {
    const d = (out[m * outStride + at] as number) * Math.sqrt(ss);
    const denominator = Math.sqrt(rest + d * d);
    out[m * outStride + at] = denominator > 0 ? clamp(d / denominator) : Number.NaN;
  }
}

function applyUnique(
  unique: NonNullable<ModelSet['unique']>,
  src: Float64Array,
  scratch: CompareScratch,
  out: Float32Array | Float64Array,
  at: number,
  outStride: number,
): void {
  scratch.unique ??= { scratch: createUniqueScratch(unique.plan), values: new Float64Array(unique.models.length) };
  const { values } = scratch.unique;
  uniqueVariances(src, unique.plan, values, scratch.unique.scratch);
  unique.models.forEach((m, l) => (out[m * outStride + at] = values[l] as number));
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
    // |src|^2: ranks are not centred (their mean is (P + 1) / 2), centred values are.
    const total = spec.ranks ? ss + (P * (P + 1) * (P + 1)) / 4 : ss;
    if (set.partial) applyPartial(set.partial, src, ss, total, out, outOffset + c, outStride);
    if (set.unique) applyUnique(set.unique, src, scratch, out, outOffset + c, outStride);
  }
  return invalid;
}
