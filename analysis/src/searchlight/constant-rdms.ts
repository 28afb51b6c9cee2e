/**
 * Model RDMs a comparison cannot use: a layer whose dissimilarities are all equal (or none is a
 * number) has no rank order and no variance, so its correlation with any sphere RDM is NaN.
 */

/** Whether every finite value of `rdm` is the same (relative tolerance 1e-12), or none is finite. */
export function isConstantRdm(rdm: ArrayLike<number | null>): boolean {
  let first: number | undefined;
  for (let k = 0; k < rdm.length; k++) {
    const v = rdm[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    if (first === undefined) first = v;
    else if (Math.abs(v - first) > 1e-12 * Math.max(1, Math.abs(first))) return false;
  }
  return true;
}

/** The names of the layers whose RDM is constant, in the order given. */
export function constantLayers(
  layers: readonly string[],
  rdms: Readonly<Record<string, ArrayLike<number | null>>>,
): string[] {
  return layers.filter((l) => rdms[l] !== undefined && isConstantRdm(rdms[l]!));
}
