/**
 * A simulated study's ground truth under derivatives/truth/: the brain mask, a mask per layer region,
 * the label image with its TSV, index.json, and a brain mask per participant (docs/simulate.md).
 */
import { join } from 'node:path';
import { writeNifti } from '@orthostim/analysis';
import { writeFileAtomic, type LoadedStimulusSet } from '@orthostim/protocol/node';
import type { BrainPhantom } from './brain-phantom';
import type { PlantedGeometry } from './planted-patterns';

export interface TruthRegion {
  layer: string;
  label: number;
  /** `desc-` label of the layer in file names. */
  desc: string;
  mask: string;
  centreMm: [number, number, number];
  nVoxels: number;
  rank: number;
  clippedFraction: number;
}

/** A JSON file's text: two-space indented, newline at the end. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** derivatives/truth/: brain mask, a mask per layer region, the label image with its TSV, index.json; per-participant brain masks. */
export function writeTruth(
  stage: string,
  phantom: BrainPhantom,
  descs: Map<string, string>,
  geometries: Map<string, PlantedGeometry>,
  participants: readonly string[],
  settings: Record<string, unknown>,
  loaded: LoadedStimulusSet,
): TruthRegion[] {
  const out: TruthRegion[] = [];
  const dir = join(stage, 'derivatives', 'truth');
  const image = (data: Uint8Array) => ({ dims: phantom.dims, data, affine: phantom.affine });
  writeFileAtomic(
    join(dir, 'dataset_description.json'),
    jsonText({
      Name: 'orthostim simulation ground truth',
      BIDSVersion: '1.9.0',
      DatasetType: 'derivative',
      GeneratedBy: [{ Name: 'orthostim simulate' }],
    }),
  );
  writeNifti(join(dir, 'desc-brain_mask.nii.gz'), image(phantom.brain), { datatype: 'uint8', intent: 'label' });
  writeNifti(join(dir, 'desc-layers_dseg.nii.gz'), image(phantom.labels), { datatype: 'uint8', intent: 'label' });
  writeFileAtomic(
    join(dir, 'desc-layers_dseg.tsv'),
    `index\tname\n${phantom.regions.map((r) => `${r.label}\t${r.layer}`).join('\n')}\n`,
  );
  const files: Record<string, unknown>[] = [
    { path: 'desc-brain_mask.nii.gz', stat: 'brain-mask', space: 'simulated' },
    { path: 'desc-layers_dseg.nii.gz', stat: 'labels', space: 'simulated', labels: 'desc-layers_dseg.tsv' },
  ];
  for (const r of phantom.regions) {
    const desc = descs.get(r.layer)!;
    const mask = new Uint8Array(phantom.brain.length);
    for (const g of r.voxels) mask[g] = 1;
    const path = `desc-${desc}_mask.nii.gz`;
    writeNifti(join(dir, path), image(mask), { datatype: 'uint8', intent: 'label' });
    const g = geometries.get(r.layer)!;
    out.push({
      layer: r.layer,
      label: r.label,
      desc,
      mask: path,
      centreMm: r.centreMm,
      nVoxels: r.voxels.length,
      rank: g.rank,
      clippedFraction: g.clippedFraction,
    });
    files.push({ path, stat: 'mask', layer: r.layer, space: 'simulated' });
  }
  // The analysis finds a participant's brain mask under the dataset's derivatives/ by its sub- entity.
  for (const p of participants) {
    const path = join(`sub-${p}`, `sub-${p}_desc-brain_mask.nii.gz`);
    writeNifti(join(dir, path), image(phantom.brain), { datatype: 'uint8', intent: 'label' });
    files.push({ path, stat: 'brain-mask', participant: p, space: 'simulated' });
  }
  writeFileAtomic(
    join(dir, 'index.json'),
    jsonText({
      schema: 'orthostim.simulation-truth/1',
      stimulusSet: {
        sha256: loaded.set.sha256,
        distance: loaded.set.distance,
        images: loaded.set.images.map((i) => i.id),
      },
      plantedRdm: `each region's voxel patterns (betas, % signal change) have the ${loaded.set.distance}-distance RDM of its layer, exactly (see clippedFraction)`,
      grid: { dims: phantom.dims, affine: phantom.affine, brainVoxels: phantom.brainVoxels.length },
      layers: out,
      settings,
      files,
    }),
  );
  return out;
}
