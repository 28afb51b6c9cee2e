import { createRng } from '@orthostim/rdm';
import { InputError } from './errors';

/**
 * The image order of a condition-rich design (`imageTrialsPerRun`): one sequence per participant,
 * cut into runs of `trialsPerRun` image trials. The sequence is a chain of cycles, each a random
 * permutation of all images, with no image twice in a row at the junction of two cycles. So:
 *
 * - after any number of complete runs (indeed after any prefix of the sequence) every image has
 *   been shown equally often, plus or minus one;
 * - no image is shown twice in a row, within a run or across the boundary of consecutive runs;
 * - an image is in a run at most ceil(trialsPerRun / nImages) + 1 times, and images absent from a
 *   run are those of the cycles' parts that other runs hold.
 *
 * A pure function of (nImages, trialsPerRun, runIndex, sequenceSeed): run r's images are found
 * again from the participant's sequence seed alone, whichever runs were scheduled before.
 */
export interface ImageSequencePlan {
  /** The participant's sequence seed (the same for all of their runs). */
  sequenceSeed: number;
  /** Position of the run in the participant's sequence, from 0. */
  runIndex: number;
}

/** Images of run `plan.runIndex` (indices 0..nImages-1) in presentation order. */
export function sequenceImagesOfRun(nImages: number, trialsPerRun: number, plan: ImageSequencePlan): number[] {
  const { sequenceSeed, runIndex } = plan;
  if (!Number.isInteger(nImages) || nImages < 2)
    throw new InputError(`schedule: a condition-rich run needs at least 2 images; got ${nImages}`);
  if (!Number.isInteger(trialsPerRun) || trialsPerRun < 1)
    throw new InputError(`schedule: imageTrialsPerRun must be a whole number >= 1; got ${trialsPerRun}`);
  if (!Number.isInteger(runIndex) || runIndex < 0 || runIndex > 9999)
    throw new InputError(`schedule: run index in the sequence must be a whole number in [0, 9999]; got ${runIndex}`);
  if (!Number.isInteger(sequenceSeed) || sequenceSeed < 0 || sequenceSeed > 0xffffffff)
    throw new InputError(`schedule: sequence seed must be a whole number in [0, 4294967295]; got ${sequenceSeed}`);
  const rng = createRng(sequenceSeed);
  const end = (runIndex + 1) * trialsPerRun;
  const sequence: number[] = [];
  const cycle = Array.from({ length: nImages }, (_, i) => i);
  while (sequence.length < end) {
    // Fisher-Yates over the previous cycle's order (any permutation is a fine start).
    for (let i = nImages - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [cycle[i], cycle[j]] = [cycle[j]!, cycle[i]!];
    }
    // The junction: the previous image may not open the cycle; swap it to a random later place.
    if (sequence.length > 0 && cycle[0] === sequence[sequence.length - 1]) {
      const j = 1 + Math.floor(rng() * (nImages - 1));
      [cycle[0], cycle[j]] = [cycle[j]!, cycle[0]!];
    }
    sequence.push(...cycle);
  }
  return sequence.slice(runIndex * trialsPerRun, end);
}
