/**
 * The simulated brain: an ellipsoidal brain mask on a RAS grid centred on the world origin, and one
 * compact spherical region per layer, laid out from posterior (first layer) to anterior (last), like
 * the ventral visual hierarchy. Consecutive regions alternate between the left and the right
 * hemisphere so that a long hierarchy fits: every two regions are at least `gapMm` apart (surface
 * to surface), so a searchlight of radius gapMm / 2 never touches two regions. Pure: no I/O.
 */
import { InputError } from '@orthostim/protocol';
import type { Affine } from '@orthostim/analysis';

export interface PhantomOptions {
  layers: readonly string[];
  /** Isotropic voxel size, mm. */
  voxelMm: number;
  /** Brain diameters (left-right, posterior-anterior, inferior-superior), mm. */
  brainMm: readonly [number, number, number];
  /** Region radius, mm: voxels whose centre lies within it belong to the region. */
  regionRadiusMm: number;
  /** Smallest distance between the surfaces of two regions (and from a region to the brain's edge), mm. */
  gapMm: number;
}

export interface PhantomRegion {
  layer: string;
  /** Value of the region in the label image: position of the layer + 1. */
  label: number;
  centreMm: [number, number, number];
  /** Grid indices (x fastest) of the region's voxels, ascending. */
  voxels: Int32Array;
}

export interface BrainPhantom {
  dims: [number, number, number];
  affine: Affine;
  /** 1 inside the brain. */
  brain: Uint8Array;
  /** Grid indices of the brain voxels, ascending. */
  brainVoxels: Int32Array;
  /** 0 outside every region, else the region's label. */
  labels: Uint8Array;
  regions: PhantomRegion[];
}

export const PHANTOM_DEFAULTS = {
  voxelMm: 3,
  brainMm: [120, 150, 100] as const,
  regionRadiusMm: 7.5,
  gapMm: 6,
};

/** Region centres: a zig-zag chain along y (posterior to anterior), below the brain's centre. */
export function layoutRegionCentres(
  count: number,
  o: Pick<PhantomOptions, 'brainMm' | 'regionRadiusMm' | 'gapMm'>,
): [number, number, number][] {
  const r = o.regionRadiusMm;
  const d = 2 * r + o.gapMm; // smallest centre-to-centre distance
  // Same-side neighbours are 2 steps apart along y; opposite-side neighbours 1 step along y and
  // 2 dx across, so step = d / 2 and dx = d sqrt(3) / 4 keep both at distance d.
  const step = count > 1 ? d / 2 : 0;
  const dx = count > 1 ? (d * Math.sqrt(3)) / 4 : 0;
  const b = o.brainMm[1] / 2;
  const usable = 2 * (b - r - o.gapMm);
  const length = (count - 1) * step;
  if (length > usable) {
    throw new InputError(
      `simulate: ${count} regions of radius ${r} mm, ${o.gapMm} mm apart, need a brain at least ${Math.ceil(length + 2 * (r + o.gapMm))} mm long; ` +
        `the brain is ${o.brainMm[1]} mm (use fewer --layers, a smaller --region-mm or a longer --brain-mm)`,
    );
  }
  // Start in the posterior half: a quarter of the slack behind the posterior end.
  const y0 = -usable / 2 + (usable - length) / 4;
  const z = -o.brainMm[2] / 8;
  return Array.from({ length: count }, (_, k) => [count > 1 ? (k % 2 === 0 ? -dx : dx) : 0, y0 + k * step, z]);
}

export function buildBrainPhantom(o: PhantomOptions): BrainPhantom {
  const v = o.voxelMm;
  if (!(v > 0)) throw new InputError(`simulate: --voxel-mm must be > 0; got ${v}`);
  const dims = o.brainMm.map((mm) => Math.ceil(mm / v) + 2) as [number, number, number];
  if (dims[0] * dims[1] * dims[2] > 4e6) {
    throw new InputError(
      `simulate: a ${o.brainMm.join(' x ')} mm brain at ${v} mm voxels is a ${dims.join(' x ')} grid; that is too large (at most 4 million voxels)`,
    );
  }
  // RAS grid, voxel centres symmetric about the origin.
  const origin = dims.map((n) => (-(n - 1) / 2) * v);
  const affine: Affine = [v, 0, 0, origin[0]!, 0, v, 0, origin[1]!, 0, 0, v, origin[2]!, 0, 0, 0, 1];
  const [nx, ny, nz] = dims;
  const semi = o.brainMm.map((mm) => mm / 2);
  const brain = new Uint8Array(nx * ny * nz);
  const brainList: number[] = [];
  const centres = layoutRegionCentres(o.layers.length, o);
  const labels = new Uint8Array(nx * ny * nz);
  if (o.layers.length > 255) throw new InputError(`simulate: at most 255 layers; got ${o.layers.length}`);
  const members: number[][] = o.layers.map(() => []);
  const r2 = o.regionRadiusMm ** 2;
  for (let k = 0; k < nz; k++) {
    const z = origin[2]! + k * v;
    for (let j = 0; j < ny; j++) {
      const y = origin[1]! + j * v;
      for (let i = 0; i < nx; i++) {
        const x = origin[0]! + i * v;
        const idx = i + nx * (j + ny * k);
        if ((x / semi[0]!) ** 2 + (y / semi[1]!) ** 2 + (z / semi[2]!) ** 2 > 1) continue;
        brain[idx] = 1;
        brainList.push(idx);
        centres.forEach((c, l) => {
          if ((x - c[0]) ** 2 + (y - c[1]) ** 2 + (z - c[2]) ** 2 <= r2) {
            labels[idx] = l + 1;
            members[l]!.push(idx);
          }
        });
      }
    }
  }
  const regions = o.layers.map((layer, l) => {
    const c = centres[l]!;
    // A region must lie wholly inside the brain: every voxel of its full sphere is a brain voxel.
    const full = Math.round(countSphereVoxels(o.regionRadiusMm, v, c, origin));
    if (members[l]!.length < full) {
      throw new InputError(
        `simulate: the region of layer "${layer}" does not fit inside the brain (${members[l]!.length} of ${full} voxels); use a larger --brain-mm or a smaller --region-mm`,
      );
    }
    return { layer, label: l + 1, centreMm: c, voxels: Int32Array.from(members[l]!) };
  });
  return { dims, affine, brain, brainVoxels: Int32Array.from(brainList), labels, regions };
}

/** Grid points (voxel centres on the phantom's lattice) within `radius` of `c`. */
function countSphereVoxels(radius: number, v: number, c: readonly number[], origin: readonly number[]): number {
  const lo = c.map((cc, a) => Math.ceil((cc - radius - origin[a]!) / v));
  const hi = c.map((cc, a) => Math.floor((cc + radius - origin[a]!) / v));
  let n = 0;
  for (let k = lo[2]!; k <= hi[2]!; k++)
    for (let j = lo[1]!; j <= hi[1]!; j++)
      for (let i = lo[0]!; i <= hi[0]!; i++) {
        const d2 =
          (origin[0]! + i * v - c[0]!) ** 2 + (origin[1]! + j * v - c[1]!) ** 2 + (origin[2]! + k * v - c[2]!) ** 2;
        if (d2 <= radius * radius) n++;
      }
  return n;
}
