import { InputError } from '@orthostim/protocol';
import { affineAxisCodes, affineVoxelSizes, applyAffine } from './affine';
import type { Grid } from './nifti-types';

function describeGrid(g: Grid): string {
  const vs = affineVoxelSizes(g.affine).map((s) => +s.toFixed(3));
  const o = applyAffine(g.affine, 0, 0, 0).map((x) => +x.toFixed(2));
  return `${g.dims.slice(0, 3).join('x')} voxels of ${vs.join('x')} mm, ${affineAxisCodes(g.affine)}, voxel 0 at (${o.join(', ')})`;
}

/** Same spatial dims and affines equal within 1e-4 mm + 1e-5 relative (float32 header rounding). */
export function sameGrid(a: Grid, b: Grid): boolean {
  for (let i = 0; i < 3; i++) if ((a.dims[i] ?? 1) !== (b.dims[i] ?? 1)) return false;
  for (let i = 0; i < 16; i++) {
    const x = a.affine[i]!;
    const y = b.affine[i]!;
    if (!(Math.abs(x - y) <= 1e-4 + 1e-5 * Math.max(Math.abs(x), Math.abs(y)))) return false;
  }
  return true;
}

/** Throw a one-line InputError naming both files unless they share a voxel grid. */
export function assertSameGrid(a: Grid, b: Grid, what: string): void {
  if (sameGrid(a, b)) return;
  throw new InputError(
    `${what}: ${a.path || '(image)'} and ${b.path || '(image)'} are on different voxel grids (${describeGrid(a)} vs ${describeGrid(b)}); resample one onto the other first`,
  );
}

// ---------------------------------------------------------------------------------------------
