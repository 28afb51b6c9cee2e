/**
 * Inputs of the numpy cross-check (numpy-reference.test.ts): a seeded 6 x 7 x 8 study small enough
 * to keep the reference output in the repository. The reference output in
 * fixtures/numpy-reference.json was made by
 *   npx tsx -e "..." (write these inputs as JSON)  then
 *   python3 analysis/bench/reference/searchlight_numpy.py --check in.json numpy-reference.json
 * (numpy 2.4.6, scipy 1.17.1); see fixtures/README.md.
 */
import { createNormalRng, createRng, pairCount } from '@orthostim/rdm';

export function numpyCheckInputs() {
  const dims = [6, 7, 8] as const;
  const nImages = 6;
  const nRuns = 2;
  const rng = createRng(77);
  const mask = Uint8Array.from({ length: dims[0] * dims[1] * dims[2] }, () => (rng() < 0.8 ? 1 : 0));
  const nVoxels = mask.reduce((a, b) => a + b, 0);
  const normal = createNormalRng(78);
  const betas = Float32Array.from({ length: nRuns * nImages * nVoxels }, () => normal());
  const layerRdms = Array.from({ length: 4 }, () => Float64Array.from({ length: pairCount(nImages) }, () => rng()));
  return { dims, nImages, nRuns, mask, betas, layerRdms, radius: 1.5 };
}
