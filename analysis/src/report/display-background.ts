/**
 * The background of the report mosaics. A mean EPI is shown smoothed (Gaussian, FWHM two voxels,
 * within its nonzero voxels): a simulated dataset's mean EPI is voxel-wise noise around a flat
 * baseline, salt and pepper that swamps the overlays, and a real one loses nothing a slice mosaic
 * needs. A --template is shown as it is.
 */
import { affineVoxelSizes } from '../io/affine';
import type { GridRef } from '../pipeline/map-writer';
import { createMaskedSmoother } from '../stats/masked-smoothing';

/** FWHM of the display smoothing, in voxels of the grid. */
export const BACKGROUND_SMOOTHING_VOXELS = 2;

export function displayBackground(grid: GridRef, background: ArrayLike<number>): Float32Array {
  const voxels: number[] = [];
  for (let g = 0; g < background.length; g++) {
    const v = background[g]!;
    if (v !== 0 && Number.isFinite(v)) voxels.push(g);
  }
  const out = new Float32Array(background.length);
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
