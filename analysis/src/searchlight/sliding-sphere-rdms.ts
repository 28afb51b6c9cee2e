/**
 * The whole-brain form of step 2 (sphere RDMs): the same numbers as `computeSphereRdms` on the
 * neighbour table, computed by sliding each sphere along the grid's x axis. A sphere's RDM only
 * needs sums over its voxels (the Gram matrix S = sum x x^T and the sums s = sum x of the run-
 * averaged patterns; for crossnobis the sum of the per-voxel rows), and the sphere at x + 1 is the
 * sphere at x minus one voxel and plus one voxel per (dj, dk) column of the sphere: 2 x 29 voxel
 * updates for a radius of 3 voxels instead of 123. Centred Gram: G = S - s s^T / p.
 *
 * Numerics: sums are float64 and the patterns are first shifted by each image's mean over the mask
 * (which leaves correlation distances unchanged), so add/subtract drift stays near 1e-13 of the
 * values. An image whose pattern has (numerically) no variance in a sphere, G_ii <= 1e-10 of the
 * largest S_ii seen since the row was started, counts as constant: its distances are NaN, as in
 * the table kernel. Voxels whose row holds a NaN are never added; a sphere that holds one gets NaN.
 */
import { pairCount } from '@orthostim/rdm';
import type { SearchlightNeighbors } from './neighbors';
import { SPHERE_DISTANCES, type SphereData } from './sphere-rdms';

export interface SlidingGrid {
  readonly dims: readonly [number, number, number];
  /** Mask position of every grid voxel, -1 outside the mask (shared). */
  readonly pos: Int32Array;
  /** Grid index of each centre, ascending (shared). */
  readonly centerGrid: Int32Array;
  /** Full sphere offsets (di, dj, dk) triplets. */
  readonly sphere: Int32Array;
  /** (dj, dk, h) per column of the sphere: it spans di = -h .. h. */
  readonly columns: Int32Array;
  /** 1 for mask voxels whose prepared row holds a non-finite value (shared). */
  readonly bad: Uint8Array;
  /**
   * The prepared rows to sum: for correlation a copy shifted by each image's mean over the mask
   * (leaves correlation distances unchanged, keeps the sums small); otherwise the data's own rows.
   */
  readonly values: Float64Array;
}

/** Describe the grid walk for `slidingSphereRdms`. */
export function createSlidingGrid(neighbors: SearchlightNeighbors, data: SphereData): SlidingGrid {
  const [nx, ny, nz] = neighbors.dims;
  if (neighbors.maskVoxels.length !== data.nVoxels) {
    throw new RangeError(
      `createSlidingGrid: the mask has ${neighbors.maskVoxels.length} voxels but the betas ${data.nVoxels}`,
    );
  }
  const pos = new Int32Array(new SharedArrayBuffer(nx * ny * nz * 4)).fill(-1);
  neighbors.maskVoxels.forEach((g, m) => (pos[g] = m));
  const centerGrid = new Int32Array(new SharedArrayBuffer(neighbors.centers.length * 4));
  neighbors.centers.forEach((m, c) => (centerGrid[c] = neighbors.maskVoxels[m] as number));
  const half = new Map<string, number>();
  const { sphere } = neighbors;
  for (let s = 0; s < sphere.length; s += 3) {
    const key = `${sphere[s + 1]},${sphere[s + 2]}`;
    half.set(key, Math.max(half.get(key) ?? 0, Math.abs(sphere[s] as number)));
  }
  const columns = Int32Array.from([...half].flatMap(([key, h]) => [...key.split(',').map(Number), h]));
  const W = data.width;
  const bad = new Uint8Array(new SharedArrayBuffer(data.nVoxels));
  const values = data.values;
  for (let v = 0; v < data.nVoxels; v++) {
    for (let k = v * W; k < (v + 1) * W; k++) {
      const x = values[k] as number;
      if (!(x - x === 0)) {
        bad[v] = 1;
        break;
      }
    }
  }
  const shift = new Float64Array(data.nImages);
  const kernel = SPHERE_DISTANCES[data.distance].kernel;
  if (kernel.kind === 'gram' && kernel.center) {
    let n = 0;
    for (let v = 0; v < data.nVoxels; v++) {
      if (bad[v]) continue;
      n++;
      for (let i = 0; i < W; i++) shift[i] = (shift[i] as number) + (values[v * W + i] as number);
    }
    for (let i = 0; i < W; i++) shift[i] = n > 0 ? (shift[i] as number) / n : 0;
  }
  let shifted = values;
  if (kernel.kind === 'gram' && kernel.center) {
    shifted = new Float64Array(new SharedArrayBuffer(values.byteLength));
    for (let v = 0; v < data.nVoxels; v++) {
      for (let i = 0; i < W; i++) shifted[v * W + i] = (values[v * W + i] as number) - (shift[i] as number);
    }
  }
  return { dims: neighbors.dims, pos, centerGrid, sphere, columns, bad, values: shifted };
}

/** Per-thread running sums of `slidingSphereRdms`. */
export interface SlidingScratch {
  readonly S: Float64Array;
  readonly s: Float64Array;
  readonly x: Float64Array;
  readonly scale: Float64Array;
  readonly acc: Float64Array;
  /** [voxel count, NaN-voxel count] */
  readonly counts: Float64Array;
}

export function createSlidingScratch(data: Pick<SphereData, 'nImages' | 'width'>): SlidingScratch {
  const K = data.nImages;
  return {
    S: new Float64Array(K * K),
    s: new Float64Array(K),
    x: new Float64Array(K),
    scale: new Float64Array(K),
    acc: new Float64Array(data.width),
    counts: new Float64Array(2),
  };
}

/**
 * S += a a^T - b b^T (upper triangle) and s += a - b for the rows a of voxel uIn and b of voxel
 * uOut (either may be -1: absent). One pass over S for both voxels halves its loads and stores.
 */
function updateGram(
  values: Float64Array,
  K: number,
  S: Float64Array,
  s: Float64Array,
  a: Float64Array,
  b: Float64Array,
  uIn: number,
  uOut: number,
): void {
  const dIn = uIn * K;
  const dOut = uOut * K;
  for (let i = 0; i < K; i++) {
    const ai = uIn >= 0 ? (values[dIn + i] as number) : 0;
    const bi = uOut >= 0 ? (values[dOut + i] as number) : 0;
    a[i] = ai;
    b[i] = bi;
    s[i] = (s[i] as number) + ai - bi;
  }
  for (let i = 0; i < K; i++) {
    const ai = a[i] as number;
    const bi = b[i] as number;
    const row = i * K;
    for (let j = i; j < K; j++) S[row + j] = (S[row + j] as number) + (ai * (a[j] as number) - bi * (b[j] as number));
  }
}

type GramUpdate = (values: Float64Array, S: Float64Array, s: Float64Array, uIn: number, uOut: number) => void;

const generatedUpdates = new Map<number, GramUpdate>();

/** Largest image count that gets a generated straight-line update (K(K+1)/2 statements). */
const MAX_GENERATED_K = 64;

/**
 * `updateGram` for a fixed image count, generated as straight-line code: every a_i, b_i in a local
 * and one statement per S entry. V8 runs this about 4x faster than the double loop (no loop
 * counters or repeated bounds checks, values stay in registers); the rank-2 update is most of
 * the searchlight's time. Same arithmetic, same order, as `updateGram`.
 */
function gramUpdateFor(K: number): GramUpdate {
  if (K > MAX_GENERATED_K) {
    const a = new Float64Array(K);
    const b = new Float64Array(K);
    return (values, S, s, uIn, uOut) => updateGram(values, K, S, s, a, b, uIn, uOut);
  }
  let update = generatedUpdates.get(K);
  if (!update) {
    const lines: string[] = ['const dIn = uIn * K, dOut = uOut * K;'];
    for (let i = 0; i < K; i++) {
      lines.push(`const a${i} = uIn >= 0 ? values[dIn + ${i}] : 0, b${i} = uOut >= 0 ? values[dOut + ${i}] : 0;`);
      lines.push(`s[${i}] = s[${i}] + a${i} - b${i};`);
    }
    for (let i = 0; i < K; i++)
      for (let j = i; j < K; j++) lines.push(`S[${i * K + j}] = S[${i * K + j}] + (a${i} * a${j} - b${i} * b${j});`);
    const make = new Function(
      'K',
      `return function gramUpdate${K}(values, S, s, uIn, uOut) {\n${lines.join('\n')}\n};`,
    ) as (k: number) => GramUpdate;
    update = make(K);
    generatedUpdates.set(K, update);
  }
  return update;
}

/** acc += row(uIn) - row(uOut) (either may be -1: absent). */
function updateSum(values: Float64Array, W: number, acc: Float64Array, uIn: number, uOut: number): void {
  if (uIn >= 0 && uOut >= 0) {
    const dIn = uIn * W;
    const dOut = uOut * W;
    for (let k = 0; k < W; k++)
      acc[k] = (acc[k] as number) + ((values[dIn + k] as number) - (values[dOut + k] as number));
  } else if (uIn >= 0) {
    const d = uIn * W;
    for (let k = 0; k < W; k++) acc[k] = (acc[k] as number) + (values[d + k] as number);
  } else {
    const d = uOut * W;
    for (let k = 0; k < W; k++) acc[k] = (acc[k] as number) - (values[d + k] as number);
  }
}

interface SlideState {
  readonly values: Float64Array;
  readonly K: number;
  readonly W: number;
  readonly gram: boolean;
  readonly nx: number;
  readonly ny: number;
  readonly nz: number;
  readonly pos: Int32Array;
  readonly bad: Uint8Array;
  readonly sphere: Int32Array;
  readonly columns: Int32Array;
  readonly scratch: SlidingScratch;
  readonly gramUpdate: GramUpdate;
}

/** Add voxel uIn and remove voxel uOut (either may be -1: none); NaN voxels are only counted. */
function updateSphere(st: SlideState, uIn: number, uOut: number): void {
  const { bad, scratch } = st;
  const counts = scratch.counts;
  if (uIn >= 0 && bad[uIn]) {
    counts[1] = (counts[1] as number) + 1;
    uIn = -1;
  }
  if (uOut >= 0 && bad[uOut]) {
    counts[1] = (counts[1] as number) - 1;
    uOut = -1;
  }
  if (uIn < 0 && uOut < 0) return;
  counts[0] = (counts[0] as number) + (uIn >= 0 ? 1 : 0) - (uOut >= 0 ? 1 : 0);
  if (st.gram) st.gramUpdate(st.values, scratch.S, scratch.s, uIn, uOut);
  else updateSum(st.values, st.W, scratch.acc, uIn, uOut);
}

/** Start the running sums from scratch for the sphere at (xc, jc, kc). */
function initSphere(st: SlideState, xc: number, jc: number, kc: number): void {
  const { scratch, sphere, pos, nx, ny, nz } = st;
  scratch.S.fill(0);
  scratch.s.fill(0);
  scratch.acc.fill(0);
  scratch.scale.fill(0);
  scratch.counts.fill(0);
  for (let q = 0; q < sphere.length; q += 3) {
    const a = xc + (sphere[q] as number);
    const b = jc + (sphere[q + 1] as number);
    const c = kc + (sphere[q + 2] as number);
    if (a < 0 || a >= nx || b < 0 || b >= ny || c < 0 || c >= nz) continue;
    const u = pos[a + nx * (b + ny * c)] as number;
    if (u >= 0) updateSphere(st, u, -1);
  }
}

/** Move the sphere from (xc, jc, kc) to (xc + 1, jc, kc): per column one voxel leaves, one enters. */
function slideSphere(st: SlideState, xc: number, jc: number, kc: number): void {
  const { columns, pos, nx, ny, nz } = st;
  for (let q = 0; q < columns.length; q += 3) {
    const b = jc + (columns[q] as number);
    const c = kc + (columns[q + 1] as number);
    if (b < 0 || b >= ny || c < 0 || c >= nz) continue;
    const h = columns[q + 2] as number;
    const base = nx * (b + ny * c);
    const leave = xc - h;
    const enter = xc + 1 + h;
    updateSphere(st, enter < nx ? (pos[base + enter] as number) : -1, leave >= 0 ? (pos[base + leave] as number) : -1);
  }
}

/** Largest S_ii seen since the row started: the scale of the rounding drift in the running sums. */
function trackScale(S: Float64Array, scale: Float64Array, K: number): void {
  for (let i = 0; i < K; i++) {
    const sii = S[i * K + i] as number;
    if (sii > (scale[i] as number)) scale[i] = sii;
  }
}

/** Relative size below which a centred pattern counts as constant. */
const CONSTANT = 1e-10;

/**
 * Condensed RDMs of centres `start .. end-1` (in `grid.centerGrid` order) into `out`, row by row:
 * the same layout and numbers (to rounding) as `computeSphereRdms` on the neighbour table.
 */
/**
 * One state object of fixed shape for the module-level helpers (closures created per call would
 * be new call targets each time and cost V8 its inlining).
 */
function slideState(data: SphereData, grid: SlidingGrid, scratch: SlidingScratch, gram: boolean): SlideState {
  const [nx, ny, nz] = grid.dims;
  const K = data.nImages;
  const { values, pos, bad, sphere, columns } = grid;
  return {
    values,
    K,
    W: data.width,
    gram,
    nx,
    ny,
    nz,
    pos,
    bad,
    sphere,
    columns,
    scratch,
    gramUpdate: gramUpdateFor(K),
  };
}

export function slidingSphereRdms(
  data: SphereData,
  grid: SlidingGrid,
  start: number,
  end: number,
  out: Float64Array,
  scratch: SlidingScratch = createSlidingScratch(data),
): void {
  const K = data.nImages;
  const P = pairCount(K);
  const W = data.width;
  const kernel = SPHERE_DISTANCES[data.distance].kernel;
  const gram = kernel.kind === 'gram';
  const center = kernel.kind === 'gram' && kernel.center;
  const { centerGrid } = grid;
  const [nx, ny] = grid.dims;
  const { S, s, x, scale, acc, counts } = scratch;
  const st = slideState(data, grid, scratch, gram);

  const fromGram = kernel.kind === 'gram' ? kernel.spec.fromGram : undefined;
  let prevRow = -1;
  let prevX = 0;
  for (let ci = start; ci < end; ci++) {
    const g = centerGrid[ci] as number;
    const xc = g % nx;
    const row = (g - xc) / nx;
    const jc = row % ny;
    const kc = (row - jc) / ny;
    if (ci === start || row !== prevRow || xc - prevX > 2) {
      initSphere(st, xc, jc, kc);
    } else {
      for (let xs = prevX; xs < xc; xs++) {
        slideSphere(st, xs, jc, kc);
        if (center) trackScale(S, scale, K);
      }
    }
    if (center) trackScale(S, scale, K);
    prevRow = row;
    prevX = xc;
    let o = (ci - start) * P;
    const p = counts[0] as number;
    if ((counts[1] as number) > 0 || p === 0) {
      out.fill(Number.NaN, o, o + P);
      continue;
    }
    if (!gram) {
      for (let k = 0; k < W; k++) out[o++] = (acc[k] as number) / p;
      continue;
    }
    if (!fromGram) continue;
    // Centred Gram in x (diagonal) and on the fly (off-diagonal); constant patterns become zeros.
    for (let i = 0; i < K; i++) {
      let gii = S[i * K + i] as number;
      if (center) {
        gii -= ((s[i] as number) * (s[i] as number)) / p;
        if (gii <= CONSTANT * (scale[i] as number)) gii = 0;
      }
      x[i] = gii;
    }
    for (let i = 0; i < K; i++) {
      const gii = x[i] as number;
      const si = (s[i] as number) / p;
      for (let j = i + 1; j < K; j++) {
        const gjj = x[j] as number;
        let gij = S[i * K + j] as number;
        if (center) gij = gii === 0 || gjj === 0 ? 0 : gij - si * (s[j] as number);
        out[o++] = fromGram(gii, gjj, gij);
      }
    }
  }
}
