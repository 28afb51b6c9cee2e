/**
 * Least-squares residuals of RDM vectors on other RDM vectors: the semipartial residual method's
 * model rows, the partial variant's basis, and how much of each layer's RDM no other layer explains.
 */
import { rankAverage } from '@orthostim/rdm';

/**
 * Residuals of OLS regressions of y on an intercept and the columns of X (each length P), by
 * modified Gram-Schmidt with a second pass for accuracy. Columns that are (numerically) linear
 * combinations of earlier ones are dropped, as a least-squares solver with a rank cutoff would.
 */
export function olsResidual(y: ArrayLike<number>, columns: readonly ArrayLike<number>[]): Float64Array {
  const basis = orthonormalBasis(y.length, columns);
  const r = Float64Array.from(y);
  orthogonalizeAgainst(r, basis);
  return r;
}

function orthogonalizeAgainst(v: Float64Array, basis: readonly Float64Array[]): void {
  const P = v.length;
  for (let pass = 0; pass < 2; pass++) {
    for (const q of basis) {
      let d = 0;
      for (let k = 0; k < P; k++) d += (q[k] as number) * (v[k] as number);
      for (let k = 0; k < P; k++) v[k] = (v[k] as number) - d * (q[k] as number);
    }
  }
}

/** Orthonormal basis of the intercept and the columns (length P), numerically dependent columns dropped. */
export function orthonormalBasis(P: number, columns: readonly ArrayLike<number>[]): Float64Array[] {
  const basis: Float64Array[] = [];
  const orthogonalize = (v: Float64Array) => orthogonalizeAgainst(v, basis);
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
  return basis;
}

/**
 * For each layer, the share of its RDM's variance that no other layer's RDM explains: 1 - R^2 of
 * an OLS regression (with intercept) on all the others, on ranks when `ranks` (as Spearman sees
 * them). The semipartial value a region with exactly that layer's geometry can reach is its square root.
 */
export function unexplainedShares(layerRdms: readonly ArrayLike<number>[], ranks = true): number[] {
  const base = layerRdms.map((r) => (ranks ? rankAverage(r) : Float64Array.from(r)));
  return base.map((own, l) => {
    const residual = olsResidual(
      own,
      base.filter((_, k) => k !== l),
    );
    let mean = 0;
    for (const v of own) mean += v;
    mean /= own.length;
    let total = 0;
    let left = 0;
    for (let k = 0; k < own.length; k++) {
      total += (own[k]! - mean) ** 2;
      left += residual[k]! ** 2;
    }
    return total > 0 ? left / total : Number.NaN;
  });
}
