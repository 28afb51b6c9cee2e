/**
 * Step 1 of the searchlight (rsatoolbox `get_volume_searchlight`): the sphere of every centre as a
 * precomputed neighbour table. A sphere holds the voxels whose centre lies within the radius (<=),
 * measured in mm (with the voxel sizes, so anisotropic grids get ellipsoids in voxel space) or in
 * voxels, truncated at the mask and at the edges of the grid. A mask voxel is used as a centre when
 * at least `minFraction` of its full (untruncated) sphere lies in the mask.
 *
 * Grids are x-fastest (NIfTI order): voxel (i, j, k) of dims [nx, ny, nz] is at i + nx * (j + ny * k).
 * Voxels are then addressed by their position among the mask voxels (ascending grid index), so
 * data arrays hold mask voxels only.
 */
import { UsageError } from '@orthostim/protocol';

export type Dims = readonly [number, number, number];

export type RadiusUnit = 'mm' | 'voxel';

export interface SphereSpec {
  /** Sphere radius; voxels whose centre is at distance <= radius belong to the sphere. */
  readonly radius: number;
  readonly unit: RadiusUnit;
  /** Voxel sizes along i, j, k in mm (from the affine); required when unit is 'mm'. */
  readonly voxelSizesMm?: readonly [number, number, number];
}

export interface NeighborOptions extends SphereSpec {
  /** Smallest fraction of the full sphere that must lie in the mask for a centre to be used (default 0.5). */
  readonly minFraction?: number;
  /**
   * Store the member list of every sphere (`indices`; default true). The whole-brain searchlight's
   * sliding kernel walks the grid instead and needs only the centres and the sphere offsets.
   */
  readonly table?: boolean;
}

/**
 * The neighbour table in compressed sparse row form: the sphere of centre c is
 * `indices[offsets[c] .. offsets[c + 1])`, positions among the mask voxels, the centre first.
 */
export interface SearchlightNeighbors {
  readonly dims: Dims;
  /** Grid index of each mask voxel, ascending. */
  readonly maskVoxels: Int32Array;
  /** Mask position of each used centre, ascending. */
  readonly centers: Int32Array;
  readonly offsets: Int32Array;
  /** Empty when built with `table: false`. */
  readonly indices: Int32Array;
  readonly hasTable: boolean;
  /** Offsets (di, dj, dk) of the full sphere, as from `computeSphereOffsets`. */
  readonly sphere: Int32Array;
  /** In-mask voxel count of the truncated sphere of every mask voxel (centre or not). */
  readonly sphereSizes: Int32Array;
  /** Voxel count of the full, untruncated sphere. */
  readonly fullSphereSize: number;
}

/** A typed array of `length` elements on a SharedArrayBuffer, so worker threads read it without a copy. */
export function sharedInt32(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(length * Int32Array.BYTES_PER_ELEMENT));
}

function checkDims(where: string, dims: Dims): void {
  if (dims.length !== 3 || !dims.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new UsageError(`${where}: dims must be three positive integers; got [${dims.join(', ')}]`);
  }
}

/** The voxel sizes a radius is measured in: mm sizes for 'mm', ones for 'voxel'. */
function radiusUnits(spec: SphereSpec): readonly [number, number, number] {
  if (spec.unit === 'voxel') return [1, 1, 1];
  if (spec.unit !== 'mm')
    throw new UsageError(`searchlight radius unit must be one of mm, voxel; got ${JSON.stringify(spec.unit)}`);
  const v = spec.voxelSizesMm;
  if (!v || v.length !== 3 || !v.every((s) => Number.isFinite(s) && s > 0)) {
    throw new UsageError(
      `searchlight radius in mm needs three positive voxel sizes; got ${v ? `[${v.join(', ')}]` : 'none'}`,
    );
  }
  return v;
}

const round3 = (v: number) => String(Number(v.toPrecision(3)));

/**
 * The radii a searchlight on this grid may use: at least one voxel (a smaller sphere holds only
 * its centre, whose RDM is undefined) and at most the grid (the largest extent along an axis, and
 * no more than a sphere as large as the whole grid). In the unit of `spec`.
 */
export function sphereRadiusRange(spec: SphereSpec, dims: Dims): { min: number; max: number } {
  const sizes = radiusUnits(spec);
  const extent = Math.max(...dims.map((d, a) => (d - 1) * sizes[a]!));
  const gridVolume = dims[0] * dims[1] * dims[2] * sizes[0] * sizes[1] * sizes[2];
  const asLargeAsGrid = Math.cbrt((3 * gridVolume) / (4 * Math.PI));
  return { min: Math.min(...sizes), max: Math.max(Math.min(...sizes), Math.min(extent, asLargeAsGrid)) };
}

/**
 * Refuse a radius below one voxel or beyond the grid, naming the voxel size and a radius that
 * would work (before any sphere is built: a huge radius would exhaust memory).
 */
export function checkSphereRadius(spec: SphereSpec, dims: Dims): void {
  checkDims('searchlight grid', dims);
  const { radius } = spec;
  if (!(Number.isFinite(radius) && radius >= 0))
    throw new UsageError(`searchlight radius must be a finite number >= 0; got ${radius}`);
  const { min, max } = sphereRadiusRange(spec, dims);
  const unit = spec.unit === 'mm' ? 'mm' : 'voxels';
  const voxels =
    spec.unit === 'mm' ? `voxels of ${spec.voxelSizesMm!.map(round3).join(' x ')} mm` : 'radius counted in voxels';
  const grid = `grid ${dims.join(' x ')}, ${voxels}`;
  if (radius < min * (1 - 1e-9))
    throw new UsageError(
      `searchlight radius ${radius} ${unit} is below one voxel (${grid}): the sphere would hold only its centre; use at least ${round3(min)} ${unit}`,
    );
  if (radius > max * (1 + 1e-9))
    throw new UsageError(
      `searchlight radius ${radius} ${unit} reaches beyond the grid (${grid}); use at most ${Math.floor(max)} ${unit}`,
    );
}

/**
 * Offsets (di, dj, dk) of the full sphere as consecutive triplets, the centre (0, 0, 0) first and
 * the rest in grid order.
 */
export function computeSphereOffsets(spec: SphereSpec): Int32Array {
  const { radius } = spec;
  if (!(Number.isFinite(radius) && radius >= 0)) {
    throw new UsageError(`searchlight radius must be a finite number >= 0; got ${radius}`);
  }
  const sizes = radiusUnits(spec);
  // Relative tolerance so that e.g. radius 6 mm on 2 mm voxels includes (3, 0, 0) despite rounding.
  const r2 = radius * radius * (1 + 1e-9);
  const ext = sizes.map((s) => Math.floor(radius / s + 1e-9));
  const out: number[] = [0, 0, 0];
  for (let dk = -ext[2]!; dk <= ext[2]!; dk++) {
    for (let dj = -ext[1]!; dj <= ext[1]!; dj++) {
      for (let di = -ext[0]!; di <= ext[0]!; di++) {
        if (di === 0 && dj === 0 && dk === 0) continue;
        const d2 = (di * sizes[0]) ** 2 + (dj * sizes[1]) ** 2 + (dk * sizes[2]) ** 2;
        if (d2 <= r2) out.push(di, dj, dk);
      }
    }
  }
  return Int32Array.from(out);
}

/** Grid indices of the nonzero (and non-NaN) voxels of `mask`, ascending. */
export function listMaskVoxels(mask: ArrayLike<number>, dims: Dims): Int32Array {
  checkDims('listMaskVoxels', dims);
  const n = dims[0] * dims[1] * dims[2];
  if (mask.length !== n) {
    throw new UsageError(`mask has ${mask.length} voxels; expected ${n} for dims [${dims.join(', ')}]`);
  }
  let count = 0;
  for (let v = 0; v < n; v++) if ((mask[v] as number) > 0 || (mask[v] as number) < 0) count++;
  const out = new Int32Array(count);
  let k = 0;
  for (let v = 0; v < n; v++) if ((mask[v] as number) > 0 || (mask[v] as number) < 0) out[k++] = v;
  return out;
}

/** Mask position of every grid voxel, -1 outside the mask. */
export function maskPositionMap(maskVoxels: Int32Array, dims: Dims): Int32Array {
  const pos = new Int32Array(dims[0] * dims[1] * dims[2]).fill(-1);
  for (let m = 0; m < maskVoxels.length; m++) pos[maskVoxels[m] as number] = m;
  return pos;
}

/** Build the neighbour table of every mask voxel's sphere; see the file comment for the rules. */
/** Linear voxel offsets of the sphere (valid away from the edges) and how far it reaches on any axis. */
function linearOffsets(sphere: Int32Array, nx: number, nxy: number): { lin: Int32Array; reach: number } {
  const full = sphere.length / 3;
  const lin = new Int32Array(full);
  let reach = 0;
  for (let s = 0; s < full; s++) {
    const di = sphere[3 * s] as number;
    const dj = sphere[3 * s + 1] as number;
    const dk = sphere[3 * s + 2] as number;
    lin[s] = di + nx * dj + nxy * dk;
    reach = Math.max(reach, Math.abs(di), Math.abs(dj), Math.abs(dk));
  }
  return { lin, reach };
}

/** The mask positions in the sphere around grid voxel g, written to `out`; returns how many. */
function sphereMembers(
  g: number,
  dims: Dims,
  sphere: Int32Array,
  offsets: { lin: Int32Array; reach: number },
  pos: Int32Array,
  out: Int32Array,
): number {
  const [nx, ny, nz] = dims;
  const { lin, reach } = offsets;
  const i = g % nx;
  const j = ((g - i) / nx) % ny;
  const k = (g - i - nx * j) / (nx * ny);
  // Linear offsets are only valid away from the edges; near an edge check each coordinate.
  const interior = i >= reach && i < nx - reach && j >= reach && j < ny - reach && k >= reach && k < nz - reach;
  let count = 0;
  for (let s = 0; s < lin.length; s++) {
    if (!interior) {
      const ii = i + (sphere[3 * s] as number);
      const jj = j + (sphere[3 * s + 1] as number);
      const kk = k + (sphere[3 * s + 2] as number);
      if (ii < 0 || ii >= nx || jj < 0 || jj >= ny || kk < 0 || kk >= nz) continue;
    }
    const p = pos[g + (lin[s] as number)] as number;
    if (p >= 0) out[count++] = p;
  }
  return count;
}

export function computeSearchlightNeighbors(
  mask: ArrayLike<number>,
  dims: Dims,
  options: NeighborOptions,
): SearchlightNeighbors {
  const minFraction = options.minFraction ?? 0.5;
  if (!(minFraction >= 0 && minFraction <= 1)) {
    throw new UsageError(
      `searchlight: the minimum fraction of a sphere in the mask must be between 0 and 1; got ${minFraction}`,
    );
  }
  checkSphereRadius(options, dims);
  const maskVoxels = listMaskVoxels(mask, dims);
  const pos = maskPositionMap(maskVoxels, dims);
  const sphere = computeSphereOffsets(options);
  const full = sphere.length / 3;
  const offsets = linearOffsets(sphere, dims[0], dims[0] * dims[1]);
  const nMask = maskVoxels.length;
  const sphereSizes = new Int32Array(nMask);
  const scratch = new Int32Array(full);
  const table = options.table ?? true;
  let buffer = new Int32Array(table ? Math.max(16, Math.min(nMask * full, 1 << 22)) : 0);
  let used = 0;
  const centerList = new Int32Array(nMask);
  let nCenters = 0;
  const offsetList = new Int32Array(nMask + 1);
  const need = minFraction * full;
  for (let m = 0; m < nMask; m++) {
    const count = sphereMembers(maskVoxels[m] as number, dims, sphere, offsets, pos, scratch);
    sphereSizes[m] = count;
    if (count === 0 || count < need) continue;
    if (table && used + count > buffer.length) {
      const grown = new Int32Array(Math.max(buffer.length * 2, used + count));
      grown.set(buffer.subarray(0, used));
      buffer = grown;
    }
    if (table) buffer.set(scratch.subarray(0, count), used);
    used += count;
    centerList[nCenters++] = m;
    offsetList[nCenters] = used;
  }
  const indices = sharedInt32(table ? used : 0);
  indices.set(buffer.subarray(0, table ? used : 0));
  const centerOffsets = sharedInt32(nCenters + 1);
  centerOffsets.set(offsetList.subarray(0, nCenters + 1));
  return {
    dims,
    maskVoxels,
    centers: centerList.slice(0, nCenters),
    offsets: centerOffsets,
    indices,
    hasTable: table,
    sphere,
    sphereSizes,
    fullSphereSize: full,
  };
}

/**
 * Neighbour table whose "spheres" are given groups of mask voxels (regions of interest): group g
 * is every mask voxel with `groupOf[m] === groupIds[g]`. Lets ROI RSA reuse the sphere-RDM step.
 */
export function groupNeighbors(
  groupOf: ArrayLike<number>,
  groupIds: readonly number[],
): { offsets: Int32Array; indices: Int32Array } {
  const slot = new Map<number, number>();
  groupIds.forEach((id, g) => slot.set(id, g));
  const counts = new Int32Array(groupIds.length + 1);
  for (let m = 0; m < groupOf.length; m++) {
    const g = slot.get(groupOf[m] as number);
    if (g !== undefined) counts[g + 1] = (counts[g + 1] as number) + 1;
  }
  const offsets = sharedInt32(groupIds.length + 1);
  for (let g = 0; g < groupIds.length; g++) offsets[g + 1] = (offsets[g] as number) + (counts[g + 1] as number);
  const indices = sharedInt32(offsets[groupIds.length] as number);
  const fill = offsets.slice(0, groupIds.length);
  for (let m = 0; m < groupOf.length; m++) {
    const g = slot.get(groupOf[m] as number);
    if (g !== undefined) {
      const at = fill[g] as number;
      indices[at] = m;
      fill[g] = at + 1;
    }
  }
  return { offsets, indices };
}
