/**
 * The synthetic brain the analysis benchmarks share: the MNI 2 mm grid (91 x 109 x 91, its usual
 * affine) and an ellipsoidal mask on it. The searchlight benchmarks use the ellipsoid that gives
 * the issue's ~150,000 voxels; the GLM benchmark a larger one (~235,000, a whole-brain mask).
 */
export const MNI_2MM_DIMS = [91, 109, 91] as const;
export const MNI_2MM_AFFINE = [-2, 0, 0, 90, 0, 2, 0, -126, 0, 0, 2, -72, 0, 0, 0, 1];

/** Ellipsoids (centre and semi-axes in voxels) used by the benchmarks. */
export const SEARCHLIGHT_ELLIPSOID = { centre: [45, 54, 45], radii: [31.6, 38.3, 29.7] } as const;
export const WHOLE_BRAIN_ELLIPSOID = { centre: [45, 54, 42], radii: [35.5, 44, 36] } as const;

/** A 0/1 mask of the voxels inside the ellipsoid (x fastest), and how many there are. */
export function ellipsoidMask(e: { centre: readonly number[]; radii: readonly number[] }): {
  mask: Uint8Array;
  nMask: number;
} {
  const [nx, ny, nz] = MNI_2MM_DIMS;
  const [cx, cy, cz] = e.centre as [number, number, number];
  const [rx, ry, rz] = e.radii as [number, number, number];
  const mask = new Uint8Array(nx * ny * nz);
  let nMask = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++)
        if (((i - cx) / rx) ** 2 + ((j - cy) / ry) ** 2 + ((k - cz) / rz) ** 2 <= 1) {
          mask[i + nx * (j + ny * k)] = 1;
          nMask++;
        }
  return { mask, nMask };
}
