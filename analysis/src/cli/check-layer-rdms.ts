/** The stimulus set's layer RDMs as models: a constant one is a warning naming it, all constant an error. */
import { InputError } from '@orthostim/protocol';
import { info } from '@orthostim/protocol/cli';
import type { LoadedStimulusSet } from '@orthostim/protocol/node';
import { constantLayers } from '../searchlight/constant-rdms';

export function checkLayerRdms(stimuli: LoadedStimulusSet): void {
  const { set } = stimuli;
  const constant = constantLayers(set.layers, Object.fromEntries(set.layers.map((l, i) => [l, stimuli.rdms[i]!])));
  if (constant.length === 0) return;
  if (constant.length === set.layers.length)
    throw new InputError(
      `${stimuli.path}: the RDM of every layer (${constant.join(', ')}) is constant; no map could be computed (expected dissimilarities that differ between image pairs)`,
    );
  for (const layer of constant)
    info(
      `warning: ${stimuli.path}: the RDM of layer ${layer} is constant (every image pair equally dissimilar); its maps will be NaN`,
    );
}
