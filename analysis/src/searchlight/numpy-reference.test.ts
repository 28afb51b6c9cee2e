import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildModelSet } from '../rsa/compare-models';
import { computeSearchlightNeighbors } from './neighbors';
import { numpyCheckInputs } from '../../test/numpy-reference-inputs';
import { runSearchlight } from './run-searchlight';
import { prepareSphereData } from './sphere-rdms';

const reference = JSON.parse(readFileSync(new URL('./fixtures/numpy-reference.json', import.meta.url), 'utf8')) as {
  centres: number[];
  r: number[][];
};

describe('searchlight against the numpy reference implementation', () => {
  it('same centres and the same r for every model (standard and residual), both kernels', async () => {
    const inp = numpyCheckInputs();
    const neighbors = computeSearchlightNeighbors(inp.mask, inp.dims, { radius: inp.radius, unit: 'voxel' });
    expect(Array.from(neighbors.centers)).toEqual(reference.centres);
    const data = prepareSphereData('correlation', {
      data: inp.betas,
      nRuns: inp.nRuns,
      nImages: inp.nImages,
      nVoxels: neighbors.maskVoxels.length,
    });
    const layers = inp.layerRdms.map((_, l) => `layer${l}`);
    const models = buildModelSet(layers, inp.layerRdms, 'spearman', ['standard', 'semipartial']);
    for (const kernel of ['sliding', 'table'] as const) {
      const result = await runSearchlight(data, neighbors, models, { threads: 1, kernel });
      const n = result.nCenters;
      let maxDiff = 0;
      reference.r.forEach((row, m) =>
        row.forEach((want, c) => (maxDiff = Math.max(maxDiff, Math.abs(result.r[m * n + c]! - want)))),
      );
      // float32 numpy vs float64 here, and 6-decimal rounding of the reference
      expect(maxDiff).toBeLessThan(2e-5);
    }
  });
});
