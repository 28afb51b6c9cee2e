/**
 * Voxel patterns with a given RDM. A layer's RDM is turned into coordinates of the images (an
 * eigendecomposition of the Gram matrix the RDM implies), and the coordinates are mixed into a
 * region's voxels by a random orthonormal matrix whose columns are orthogonal to the constant
 * vector. Orthonormal mixing keeps every inner product, and orthogonality to the constant makes
 * every pattern zero-mean across the region's voxels, so:
 *
 * - correlation (and cosine) distance: Gram G = 1 - D (unit diagonal), so each pattern has unit
 *   norm and zero mean, and the Pearson correlation of patterns i and j is G_ij: the region's
 *   correlation-distance RDM is exactly D (and so is its cosine-distance RDM);
 * - euclidean distance: classical MDS, G = -1/2 J D^2 J (J centres), so the Euclidean distances
 *   between the patterns are exactly D.
 *
 * A Gram matrix with negative eigenvalues (an RDM no set of vectors has) is projected onto the
 * positive semi-definite matrices; the share of |eigenvalue| mass dropped is reported. Each
 * participant gets its own random mixing (its own voxel patterns of the same geometry). Pure.
 */
import { toSquare, type Rng } from '@orthostim/rdm';
import { InputError } from '@orthostim/protocol';
import { symmetricEigen } from '@orthostim/analysis';

export type PlantDistance = 'correlation' | 'cosine' | 'euclidean';

export interface PlantedGeometry {
  nImages: number;
  /** Dimensions kept (positive eigenvalues). */
  rank: number;
  /** nImages x rank, row-major: the images' coordinates. */
  coords: Float64Array;
  /** Sum of |negative eigenvalues| / sum of |eigenvalues| (0 for an RDM that vectors can have). */
  clippedFraction: number;
  distance: PlantDistance;
}

/** The Gram matrix an RDM implies under a distance (row-major n x n). */
export function gramFromRdm(rdm: ArrayLike<number>, n: number, distance: PlantDistance): Float64Array {
  const d = toSquare(rdm, n);
  const g = new Float64Array(n * n);
  if (distance === 'euclidean') {
    const d2 = d.map((x) => x * x);
    const rowMean = new Float64Array(n);
    let all = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) rowMean[i] = rowMean[i]! + d2[i * n + j]!;
      all += rowMean[i]!;
      rowMean[i] = rowMean[i]! / n;
    }
    all /= n * n;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) g[i * n + j] = -0.5 * (d2[i * n + j]! - rowMean[i]! - rowMean[j]! + all);
  } else {
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) g[i * n + j] = i === j ? 1 : 1 - d[i * n + j]!;
  }
  return g;
}

export function embedRdm(
  rdm: ArrayLike<number>,
  n: number,
  distance: PlantDistance,
  source = 'layer RDM',
): PlantedGeometry {
  for (let k = 0; k < rdm.length; k++) {
    if (!Number.isFinite(rdm[k]!))
      throw new InputError(
        `simulate: ${source} holds a non-finite value at position ${k}; a planted RDM must be complete`,
      );
  }
  const g = gramFromRdm(rdm, n, distance);
  const { values, vectors } = symmetricEigen(g, n);
  let max = 0;
  let abs = 0;
  let negative = 0;
  for (const v of values) {
    max = Math.max(max, v);
    abs += Math.abs(v);
    if (v < 0) negative -= v;
  }
  const keep: number[] = [];
  for (let e = 0; e < n; e++) if (values[e]! > 1e-10 * max) keep.push(e);
  keep.sort((a, b) => values[b]! - values[a]!);
  const rank = keep.length;
  if (rank === 0) throw new InputError(`simulate: ${source} has no structure to plant (all distances equal zero)`);
  const coords = new Float64Array(n * rank);
  keep.forEach((e, c) => {
    const s = Math.sqrt(values[e]!);
    for (let i = 0; i < n; i++) coords[i * rank + c] = vectors[i * n + e]! * s;
  });
  return { nImages: n, rank, coords, clippedFraction: abs > 0 ? negative / abs : 0, distance };
}

/**
 * A V x k matrix (row-major) with orthonormal columns, all orthogonal to the constant vector:
 * Gaussian columns, Gram-Schmidt twice against the constant and each other.
 */
export function randomOrthonormalMixing(nVoxels: number, k: number, normal: Rng): Float64Array {
  if (nVoxels < k + 1)
    throw new RangeError(
      `randomOrthonormalMixing: ${nVoxels} voxels cannot hold ${k} zero-mean orthonormal directions`,
    );
  const cols: Float64Array[] = [new Float64Array(nVoxels).fill(1 / Math.sqrt(nVoxels))];
  while (cols.length < k + 1) {
    const c = new Float64Array(nVoxels);
    for (let v = 0; v < nVoxels; v++) c[v] = normal();
    for (let pass = 0; pass < 2; pass++) {
      for (const q of cols) {
        let dot = 0;
        for (let v = 0; v < nVoxels; v++) dot += q[v]! * c[v]!;
        for (let v = 0; v < nVoxels; v++) c[v] = c[v]! - dot * q[v]!;
      }
    }
    let norm = 0;
    for (let v = 0; v < nVoxels; v++) norm += c[v]! ** 2;
    norm = Math.sqrt(norm);
    if (!(norm > 1e-8)) continue; // (practically never) a draw inside the span: draw again
    for (let v = 0; v < nVoxels; v++) c[v] = c[v]! / norm;
    cols.push(c);
  }
  const q = new Float64Array(nVoxels * k);
  for (let c = 0; c < k; c++) {
    const col = cols[c + 1]!;
    for (let v = 0; v < nVoxels; v++) q[v * k + c] = col[v]!;
  }
  return q;
}

/** Patterns (nImages x nVoxels, row-major) of the geometry in `nVoxels` voxels, with a random mixing. */
export function plantPatterns(
  geometry: PlantedGeometry,
  nVoxels: number,
  normal: Rng,
  region = 'region',
): Float64Array {
  const { nImages: n, rank: k, coords } = geometry;
  if (nVoxels < k + 1) {
    throw new InputError(
      `simulate: the ${region} has ${nVoxels} voxels; planting the geometry of ${n} images (rank ${k}) needs at least ${k + 1}; use a larger --region-mm or a smaller --voxel-mm`,
    );
  }
  const q = randomOrthonormalMixing(nVoxels, k, normal);
  const out = new Float64Array(n * nVoxels);
  for (let i = 0; i < n; i++) {
    for (let v = 0; v < nVoxels; v++) {
      let s = 0;
      for (let c = 0; c < k; c++) s += coords[i * k + c]! * q[v * k + c]!;
      out[i * nVoxels + v] = s;
    }
  }
  return out;
}
