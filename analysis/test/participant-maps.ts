/**
 * Participant-level output folders as the group level reads them: `sub-<label>/` with one Fisher-z
 * map per model and an index.json. For group tests and benchmarks.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeNifti } from '../src/io/nifti';
import { OutputIndexBuilder } from '../src/pipeline/output-index';
import type { ModelMethod } from '../src/rsa/compare-models';

export interface ParticipantMapsSpec {
  participants: number;
  dims: readonly [number, number, number];
  affine: readonly number[];
  models: readonly { layer: string; method: ModelMethod }[];
  /** The z value of participant p (1-based) and model m at grid voxel g. */
  value: (p: number, m: number, g: number) => number;
}

export function writeParticipantZMaps(root: string, spec: ParticipantMapsSpec): void {
  const n = spec.dims[0] * spec.dims[1] * spec.dims[2];
  for (let p = 1; p <= spec.participants; p++) {
    const label = String(p).padStart(2, '0');
    const sub = join(root, `sub-${label}`);
    mkdirSync(sub, { recursive: true });
    const index = new OutputIndexBuilder({ level: 'participant', participant: label, space: 'MNI152NLin2009cAsym' });
    spec.models.forEach(({ layer, method }, m) => {
      const name = `sub-${label}_desc-${layer.replace(/[^A-Za-z0-9]/g, '')}_rsa-${method}_stat-z_statmap.nii.gz`;
      writeNifti(join(sub, name), {
        dims: spec.dims,
        data: Float32Array.from({ length: n }, (_, g) => spec.value(p, m, g)),
        affine: [...spec.affine],
      });
      index.add({ path: name, layer, method, stat: 'z' });
    });
    index.write(sub);
  }
}
