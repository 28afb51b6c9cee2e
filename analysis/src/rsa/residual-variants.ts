/**
 * The residual method's variants: ways to ask where the part of a layer's geometry that the other
 * layers do not share is in the brain. Each variant prepares one model row per layer (compared by
 * one dot product per sphere, as standard RSA), and two finish with a per-sphere step:
 *
 * - semipartial: the layer RDM regressed on all other layers' RDMs (OLS with intercept, on ranks
 *   for rank comparators), the sphere RDM as it is: the semipartial correlation.
 * - partial: as semipartial, with the other layers removed from the sphere RDM too (the partial
 *   correlation): the semipartial value divided by the share of the sphere RDM's variance that
 *   the other layers leave.
 * - neighbors: the layer RDM regressed on the adjacent layers' RDMs only (in `layers` order).
 * - activation: the RDM of the layer's activations with what the other layers' activations predict
 *   removed (cross-validated ridge over images; computed by `orthostim rdms` and stored in the set
 *   as `residualRdms`), compared as a standard model.
 * - unique: the layer's unique variance in a cross-validated multiple regression of the sphere RDM
 *   on all layers (cv-unique-variance.ts), as a signed square root.
 *
 * docs/residual.md compares them on planted studies and gives the reason for the default.
 */
import { UsageError } from '@orthostim/protocol';

export interface ResidualVariantContext {
  /** Each layer's model vector (ranks for rank comparators). */
  readonly base: readonly Float64Array[];
  /** Activation-residual RDMs (ranked like `base`), when the stimulus set holds them. */
  readonly activation?: readonly Float64Array[];
  readonly olsResidual: (y: ArrayLike<number>, columns: readonly ArrayLike<number>[]) => Float64Array;
}

export interface ResidualVariantSpec {
  /** One line for --help and docs. */
  readonly summary: string;
  /** What the map values are, given the comparator's words (e.g. "Spearman r"). */
  readonly measure: (comparison: string) => string;
  /** The model row of layer l (centred and scaled afterwards). */
  readonly row: (ctx: ResidualVariantContext, l: number) => Float64Array;
  /** A per-sphere step after the dot products (dot comparators only). */
  readonly perSphere?: 'partial' | 'unique';
  /** Needs the stimulus set's activation-residual RDMs. */
  readonly needsActivationRdms?: boolean;
}

const others = (ctx: ResidualVariantContext, l: number) => ctx.base.filter((_, k) => k !== l);
const semipartialRow = (ctx: ResidualVariantContext, l: number) => ctx.olsResidual(ctx.base[l]!, others(ctx, l));

export const RESIDUAL_VARIANTS = {
  semipartial: {
    summary: "the layer RDM with all other layers' RDMs regressed out, against the sphere RDM as it is",
    measure: (c) => `semipartial ${c}`,
    row: semipartialRow,
  },
  partial: {
    summary: 'the other layers regressed out of both the layer RDM and the sphere RDM (partial correlation)',
    measure: (c) => `partial ${c}`,
    row: semipartialRow,
    perSphere: 'partial',
  },
  neighbors: {
    summary: "the layer RDM with the adjacent layers' RDMs regressed out (semipartial)",
    measure: (c) => `semipartial ${c} against the adjacent layers`,
    row: (ctx, l) =>
      ctx.olsResidual(
        ctx.base[l]!,
        ctx.base.filter((_, k) => k === l - 1 || k === l + 1),
      ),
  },
  activation: {
    summary:
      "the RDM of the layer's activations minus what the other layers' activations predict (cross-validated ridge)",
    measure: (c) => `${c} with the activation-residual RDM`,
    row: (ctx, l) => Float64Array.from(ctx.activation![l]!),
    needsActivationRdms: true,
  },
  unique: {
    summary:
      'unique variance of the layer in a cross-validated regression of the sphere RDM on all layers (signed square root)',
    measure: () => 'signed root of the cross-validated unique variance',
    row: semipartialRow,
    perSphere: 'unique',
  },
} as const satisfies Record<string, ResidualVariantSpec>;

export type ResidualVariant = keyof typeof RESIDUAL_VARIANTS;
export const RESIDUAL_VARIANT_NAMES = Object.keys(RESIDUAL_VARIANTS) as ResidualVariant[];

/** What `--method residual` (and `both`) computes; chosen by the benchmark in docs/residual.md. */
export const DEFAULT_RESIDUAL_VARIANT: ResidualVariant = 'semipartial';

export function isResidualVariant(name: unknown): name is ResidualVariant {
  return typeof name === 'string' && Object.hasOwn(RESIDUAL_VARIANTS, name);
}

/** Parse a comma-separated list of variants (`all` for every one), in registry order, without repeats. */
export function parseResidualVariants(text: string, where = 'residual variant'): ResidualVariant[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 1 && names[0] === 'all') return [...RESIDUAL_VARIANT_NAMES];
  const allowed = [...RESIDUAL_VARIANT_NAMES, 'all'].join(', ');
  for (const n of names.length ? names : [text])
    if (!isResidualVariant(n))
      throw new UsageError(`${where} must be one of ${allowed} (or a comma-separated list); got "${n}"`);
  return RESIDUAL_VARIANT_NAMES.filter((v) => names.includes(v));
}
