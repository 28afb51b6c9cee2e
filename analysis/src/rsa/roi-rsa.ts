/**
 * Region-of-interest RSA: each region's RDM (the searchlight's sphere-RDM step, with the region's
 * voxels as the "sphere") and its comparison with every model (standard and residual, as the
 * model set was built). Regions come from a label image restricted to the analysis mask.
 */
import { pairCount } from '@orthostim/rdm';
import { groupNeighbors } from '../searchlight/neighbors';
import { computeSphereRdms, type SphereData } from '../searchlight/sphere-rdms';
import { compareSphereRdms, type ModelSet, type ModelSpec } from './compare-models';

export interface Region {
  /** Value of the region in the label image. */
  readonly id: number;
  readonly name: string;
}

export interface RoiResult {
  readonly region: Region;
  readonly nVoxels: number;
  /** Condensed RDM of the region (NaN-filled when the region has no voxels in the mask). */
  readonly rdm: Float64Array;
  /** Comparison value with each model, in `models` order (NaN for an empty or invalid region). */
  readonly values: Float64Array;
}

/**
 * RSA of each region. `labelOfVoxel[m]` is the label-image value at mask voxel m (same order as
 * the betas' voxels).
 */
export function computeRoiRsa(
  data: SphereData,
  labelOfVoxel: ArrayLike<number>,
  regions: readonly Region[],
  models: ModelSet,
): { models: readonly ModelSpec[]; regions: RoiResult[] } {
  if (labelOfVoxel.length !== data.nVoxels) {
    throw new RangeError(`computeRoiRsa: ${labelOfVoxel.length} voxel labels for ${data.nVoxels} voxels`);
  }
  const { offsets, indices } = groupNeighbors(
    labelOfVoxel,
    regions.map((r) => r.id),
  );
  const P = pairCount(data.nImages);
  const R = regions.length;
  const rdms = new Float64Array(R * P);
  computeSphereRdms(data, offsets, indices, 0, R, rdms);
  const M = models.models.length;
  const values = new Float64Array(M * R);
  compareSphereRdms(rdms, R, models, values, 0, R);
  return {
    models: models.models,
    regions: regions.map((region, g) => ({
      region,
      nVoxels: (offsets[g + 1] as number) - (offsets[g] as number),
      rdm: rdms.slice(g * P, (g + 1) * P),
      values: Float64Array.from({ length: M }, (_, m) => values[m * R + g] as number),
    })),
  };
}

/**
 * The ROI results as TSV text: one row per region and model, columns region, label, n_voxels,
 * layer, method, r (NaN written as "n/a", as BIDS tables do).
 */
export function formatRoiTable(result: { models: readonly ModelSpec[]; regions: readonly RoiResult[] }): string {
  const lines = ['region\tlabel\tn_voxels\tlayer\tmethod\tr'];
  for (const r of result.regions) {
    result.models.forEach((m, k) => {
      const v = r.values[k] as number;
      lines.push(
        `${r.region.name}\t${r.region.id}\t${r.nVoxels}\t${m.layer}\t${m.method}\t${Number.isNaN(v) ? 'n/a' : v.toFixed(6)}`,
      );
    });
  }
  return `${lines.join('\n')}\n`;
}
