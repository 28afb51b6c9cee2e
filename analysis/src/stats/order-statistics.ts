/**
 * Order statistics without sorting: Hoare's quickselect puts the k-th smallest in place in O(n),
 * so a report's display quantiles of 22 maps of 150,000 values cost a few passes, not 22 sorts.
 */

/** The k-th smallest (0-based) of a[lo..hi], reordering that range in place. */
export function selectKth(a: Float32Array, k: number, lo = 0, hi = a.length - 1): number {
  if (!(k >= lo && k <= hi)) throw new RangeError(`selectKth: k ${k} outside ${lo}..${hi}`);
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/**
 * The values at quantiles `qs` (nearest rank: index round(q * (n - 1)) of the sorted values) of the
 * finite entries of `values` (optionally nonzero ones, or their absolute values); NaN when none.
 */
export function quantiles(
  values: ArrayLike<number>,
  qs: readonly number[],
  options: { abs?: boolean; nonzero?: boolean } = {},
): number[] {
  const xs = new Float32Array(values.length);
  const abs = options.abs === true;
  const nonzero = options.nonzero === true;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0 || (nonzero && v === 0)) continue; // NaN, +-Infinity
    xs[n++] = abs && v < 0 ? -v : v;
  }
  if (n === 0) return qs.map(() => Number.NaN);
  const ks = qs.map((q) => Math.min(n - 1, Math.max(0, Math.round(q * (n - 1)))));
  // Ascending ranks: everything left of a selected rank is no larger, so the next search starts there.
  const order = ks.map((k, i) => [k, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(qs.length);
  let lo = 0;
  for (const [k, i] of order) {
    out[i] = selectKth(xs, k, lo, n - 1);
    lo = k;
  }
  return out;
}
