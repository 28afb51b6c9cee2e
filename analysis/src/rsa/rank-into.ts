/**
 * Allocation-free average ranks for the searchlight's inner loop: the same numbers as rdm's
 * `rankAverage` (1-based, ties share their mean rank), but into caller-owned buffers and with a
 * bucket sort instead of `Array.prototype.sort` with a comparator closure, which matters when
 * 150,000 sphere RDMs are ranked. NaN is not handled: callers rank finite vectors only.
 */
export interface RankScratch {
  readonly order: Int32Array;
  /** Bucket counts, one more than there are buckets. */
  readonly counts: Int32Array;
  readonly bucket: Int32Array;
}

export function createRankScratch(n: number): RankScratch {
  return { order: new Int32Array(n), counts: new Int32Array(n + 2), bucket: new Int32Array(n) };
}

/**
 * Ranks of the finite values x[offset .. offset + n) into ranks[0 .. n); returns the sum of the
 * squared ranks (their mean is always (n + 1) / 2, so this gives their variance for free). A
 * counting sort into n buckets by value (monotone in x, so buckets come out in order), then an
 * insertion sort that only has to fix the order inside buckets: O(n) for spread-out values,
 * exact for any input.
 */
export function rankInto(
  x: ArrayLike<number>,
  n: number,
  ranks: Float64Array,
  scratch: RankScratch,
  offset = 0,
): number {
  const { order, counts, bucket } = scratch;
  if (offset !== 0) x = (x as Float64Array).subarray(offset, offset + n);
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < n; k++) {
    const v = x[k] as number;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min;
  const scale = span > 0 ? (n - 1) / span : 0;
  counts.fill(0, 0, n + 1);
  for (let k = 0; k < n; k++) {
    let b = Math.floor(((x[k] as number) - min) * scale);
    if (!(b >= 0)) b = 0; // span overflow to Infinity gives NaN
    if (b > n - 1) b = n - 1;
    bucket[k] = b;
    counts[b + 1] = (counts[b + 1] as number) + 1;
  }
  for (let b = 0; b < n; b++) counts[b + 1] = (counts[b + 1] as number) + (counts[b] as number);
  for (let k = 0; k < n; k++) {
    const b = bucket[k] as number;
    const at = counts[b] as number;
    order[at] = k;
    counts[b] = at + 1;
  }
  for (let i = 1; i < n; i++) {
    const t = order[i] as number;
    const v = x[t] as number;
    let j = i - 1;
    while (j >= 0 && (x[order[j] as number] as number) > v) {
      order[j + 1] = order[j] as number;
      j--;
    }
    order[j + 1] = t;
  }
  let i = 0;
  let sumSq = 0;
  while (i < n) {
    const v = x[order[i] as number] as number;
    let j = i + 1;
    while (j < n && x[order[j] as number] === v) j++;
    // Sorted positions i..j-1 hold ranks i+1..j; their mean is (i + 1 + j) / 2.
    const r = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) ranks[order[k] as number] = r;
    sumSq += (j - i) * r * r;
    i = j;
  }
  return sumSq;
}
