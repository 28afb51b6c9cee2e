/** Rank transforms for rank-based RDM comparison. */

/**
 * 1-based ranks with ties given their average rank (scipy `rankdata(method='average')`).
 * NaN entries get rank NaN; the other values are ranked among themselves.
 */
export function rankAverage(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // NaN sorts last so the finite run is contiguous.
  order.sort((p, q) => {
    const a = x[p] as number;
    const b = x[q] as number;
    if (a < b) return -1;
    if (a > b) return 1;
    return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : Number.isNaN(b) ? -1 : 0;
  });
  const ranks = new Float64Array(n);
  let start = 0;
  while (start < n) {
    const v = x[order[start] as number] as number;
    if (Number.isNaN(v)) {
      for (let k = start; k < n; k++) ranks[order[k] as number] = Number.NaN;
      break;
    }
    let end = start + 1;
    while (end < n && x[order[end] as number] === v) end++;
    // Positions start..end-1 hold ranks start+1..end; their mean is (start + 1 + end) / 2.
    const r = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k] as number] = r;
    start = end;
  }
  return ranks;
}
