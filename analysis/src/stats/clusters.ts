/**
 * Clusters of a thresholded map: connected components of its nonzero, non-NaN voxels, and the
 * cluster table (size, peak, peak coordinates in mm, atlas label at the peak).
 *
 * Connectivity (registry `CONNECTIVITIES`): 26 by default (voxels touching by a face, an edge or a
 * corner are connected, as SPM and nilearn's cluster tables do); 18 (faces and edges) and 6
 * (faces only, FSL `cluster --connectivity 6`) on request.
 */
import { UsageError } from '@orthostim/protocol';
import { applyAffine, type Affine } from '../io/affine';
import type { Dims } from '../searchlight/neighbors';

export type Connectivity = 6 | 18 | 26;

export const CONNECTIVITIES = {
  6: 'neighbours share a face',
  18: 'neighbours share a face or an edge',
  26: 'neighbours share a face, an edge or a corner (default)',
} as const satisfies Record<Connectivity, string>;

function neighborOffsets(connectivity: Connectivity): number[][] {
  if (!Object.hasOwn(CONNECTIVITIES, connectivity)) {
    throw new UsageError(
      `cluster connectivity must be one of ${Object.keys(CONNECTIVITIES).join(', ')}; got ${connectivity}`,
    );
  }
  const out: number[][] = [];
  for (let dk = -1; dk <= 1; dk++) {
    for (let dj = -1; dj <= 1; dj++) {
      for (let di = -1; di <= 1; di++) {
        const order = Math.abs(di) + Math.abs(dj) + Math.abs(dk); // 1 face, 2 edge, 3 corner
        if (order === 0 || (connectivity === 6 && order > 1) || (connectivity === 18 && order > 2)) continue;
        out.push([di, dj, dk]);
      }
    }
  }
  return out;
}

export interface ClusterLabels {
  /** 0 outside clusters, else 1-based cluster number, largest cluster first. */
  readonly labels: Int32Array;
  /** Voxel count of cluster c at sizes[c - 1]. */
  readonly sizes: number[];
}

const isIn = (x: number) => x !== 0 && !Number.isNaN(x);

/** Connected components of the voxels that are nonzero and not NaN, numbered by decreasing size. */
export function labelClusters(map: ArrayLike<number>, dims: Dims, connectivity: Connectivity = 26): ClusterLabels {
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  if (map.length !== n)
    throw new RangeError(`labelClusters: map has ${map.length} voxels; dims [${dims.join(', ')}] need ${n}`);
  const offsets = neighborOffsets(connectivity);
  const raw = new Int32Array(n);
  const queue = new Int32Array(n);
  const rawSizes: number[] = [];
  const firsts: number[] = [];
  for (let seed = 0; seed < n; seed++) {
    if (raw[seed] !== 0 || !isIn(map[seed] as number)) continue;
    const label = rawSizes.length + 1;
    raw[seed] = label;
    let head = 0;
    let tail = 0;
    queue[tail++] = seed;
    while (head < tail) {
      const g = queue[head++] as number;
      const i = g % nx;
      const j = ((g - i) / nx) % ny;
      const k = (g - i - nx * j) / (nx * ny);
      for (const [di, dj, dk] of offsets) {
        const a = i + di!;
        const b = j + dj!;
        const c = k + dk!;
        if (a < 0 || a >= nx || b < 0 || b >= ny || c < 0 || c >= nz) continue;
        const h = a + nx * (b + ny * c);
        if (raw[h] !== 0 || !isIn(map[h] as number)) continue;
        raw[h] = label;
        queue[tail++] = h;
      }
    }
    rawSizes.push(tail);
    firsts.push(seed);
  }
  // Renumber: largest first, ties by the first voxel in grid order.
  const order = rawSizes.map((_, c) => c).sort((a, b) => rawSizes[b]! - rawSizes[a]! || firsts[a]! - firsts[b]!);
  const rank = new Int32Array(rawSizes.length + 1);
  order.forEach((c, r) => (rank[c + 1] = r + 1));
  const labels = new Int32Array(n);
  for (let g = 0; g < n; g++) labels[g] = rank[raw[g] as number] as number;
  return { labels, sizes: order.map((c) => rawSizes[c]!) };
}

export interface Atlas {
  /** Label value per voxel, on the same grid as the map. */
  readonly values: ArrayLike<number>;
  /** Name of each label value (from `parseAtlasLabels`). */
  readonly names: ReadonlyMap<number, string>;
}

export interface ClusterRow {
  readonly cluster: number;
  readonly sizeVoxels: number;
  readonly volumeMm3: number;
  /** The value of largest magnitude in the cluster (sign kept). */
  readonly peakValue: number;
  readonly peakVoxel: [number, number, number];
  readonly peakMm: [number, number, number];
  /** Atlas label at the peak ("unlabelled" for label 0 or a value without a name); only with an atlas. */
  readonly peakLabel?: string;
}

/** |det| of the affine's 3 x 3 part: the volume of one voxel in mm^3. */
function voxelVolume(a: Affine): number {
  const m = (r: number, c: number) => a[r * 4 + c]!;
  return Math.abs(
    m(0, 0) * (m(1, 1) * m(2, 2) - m(1, 2) * m(2, 1)) -
      m(0, 1) * (m(1, 0) * m(2, 2) - m(1, 2) * m(2, 0)) +
      m(0, 2) * (m(1, 0) * m(2, 1) - m(1, 1) * m(2, 0)),
  );
}

/** One row per cluster of `map` (a thresholded statistic), largest first; `minSize` drops small ones. */
export function clusterTable(
  map: ArrayLike<number>,
  dims: Dims,
  affine: Affine,
  options: { connectivity?: Connectivity; minSize?: number; atlas?: Atlas } = {},
): ClusterRow[] {
  const { labels, sizes } = labelClusters(map, dims, options.connectivity ?? 26);
  const atlas = options.atlas;
  if (atlas && atlas.values.length !== labels.length) {
    throw new UsageError(
      `the atlas has ${atlas.values.length} voxels but the maps have ${labels.length}: resample the atlas to the maps' grid`,
    );
  }
  const peak = new Int32Array(sizes.length).fill(-1);
  for (let g = 0; g < labels.length; g++) {
    const c = labels[g] as number;
    if (c === 0) continue;
    const best = peak[c - 1] as number;
    if (best < 0 || Math.abs(map[g] as number) > Math.abs(map[best] as number)) peak[c - 1] = g;
  }
  const [nx, ny] = dims;
  const volume = voxelVolume(affine);
  const rows: ClusterRow[] = [];
  sizes.forEach((size, c) => {
    if (size < (options.minSize ?? 1)) return;
    const g = peak[c] as number;
    const i = g % nx;
    const j = Math.floor(g / nx) % ny;
    const k = Math.floor(g / (nx * ny));
    const row: ClusterRow = {
      cluster: c + 1,
      sizeVoxels: size,
      volumeMm3: size * volume,
      peakValue: map[g] as number,
      peakVoxel: [i, j, k],
      peakMm: applyAffine(affine, i, j, k),
      ...(atlas ? { peakLabel: atlas.names.get(atlas.values[g] as number) ?? 'unlabelled' } : {}),
    };
    rows.push(row);
  });
  return rows;
}
