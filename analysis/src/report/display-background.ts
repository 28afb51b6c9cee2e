/**
 * The background of the report mosaics. A simulated dataset's mean EPI is a random baseline per
 * voxel, salt and pepper that swamps the overlays and that smoothing only blurs: its brain is shown
 * as a flat mask (dark grey). A real mean EPI is shown smoothed (Gaussian, FWHM 1.5 voxels, within
 * its nonzero voxels), which loses nothing a slice mosaic needs. A --template is shown as it is.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { affineVoxelSizes } from '../io/affine';
import type { GridRef } from '../pipeline/map-writer';
import { createMaskedSmoother } from '../stats/masked-smoothing';

/** FWHM of the display smoothing, in voxels of the grid. */
export const BACKGROUND_SMOOTHING_VOXELS = 1.5;

export function displayBackground(
  grid: GridRef,
  background: ArrayLike<number>,
  options: { simulated?: boolean } = {},
): Float32Array {
  const voxels: number[] = [];
  for (let g = 0; g < background.length; g++) {
    const v = background[g]!;
    if (v !== 0 && Number.isFinite(v)) voxels.push(g);
  }
  const out = new Float32Array(background.length);
  if (options.simulated) {
    for (const g of voxels) out[g] = 1;
    return out;
  }
  if (voxels.length === 0) return out;
  const voxelSizeMm = affineVoxelSizes(grid.affine) as [number, number, number];
  const smooth = createMaskedSmoother(
    { dims: grid.dims, voxelSizeMm, voxels },
    BACKGROUND_SMOOTHING_VOXELS * Math.max(...voxelSizeMm),
  );
  const smoothed = new Float64Array(voxels.length);
  smooth(
    Float64Array.from(voxels, (g) => background[g]!),
    smoothed,
  );
  voxels.forEach((g, k) => (out[g] = smoothed[k]!));
  return out;
}

/** A dataset written by `orthostim simulate` (it carries derivatives/truth/index.json). */
export function isSimulatedDataset(bidsDir: string): boolean {
  return existsSync(join(bidsDir, 'derivatives', 'truth', 'index.json'));
}
