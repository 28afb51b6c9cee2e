import { createRng, type Rng } from '@orthostim/rdm';
import { InputError } from './errors';
import { sequenceImagesOfRun, type ImageSequencePlan } from './schedule-sequence';
import type { SessionConfig } from './session-config';

/**
 * The run scheduler: a pure function of the image ids, the timing config and a seed. The session
 * server fixes a run's schedule with it before the run starts (and logs the seed), and
 * `orthostim simulate` uses the same function to write the events of simulated runs.
 *
 * - each image `repetitions` times, never the same image in two consecutive image trials (null
 *   trials in between do not count as a break);
 * - or, with `imageTrialsPerRun` (a condition-rich design), that many image trials taken from the
 *   participant's image sequence (schedule-sequence.ts): every image equally often over the runs,
 *   plus or minus one, never twice in a row; `repetitions` then does not apply;
 * - null trials (fixation only) make up `nullTrialFraction` of all trials, at random positions;
 * - trial onsets are whole multiples of the TR: `leadInVolumes + i * soaVolumes` volumes after time
 *   zero (the trigger of the first stored volume), computed from the volume number, never by adding
 *   durations;
 * - fixation-task colour changes at random times, at least `minIntervalS` apart.
 */
export type ScheduleConfig = Pick<
  SessionConfig,
  | 'repetitionTimeS'
  | 'repetitions'
  | 'imageTrialsPerRun'
  | 'nullTrialFraction'
  | 'soaVolumes'
  | 'imageDurationMs'
  | 'leadInVolumes'
  | 'leadOutVolumes'
> & {
  fixation: Pick<
    SessionConfig['fixation'],
    'enabled' | 'changesPerMinute' | 'changeDurationMs' | 'minIntervalS' | 'responseWindowS'
  >;
};

export interface PlannedTrial {
  /** Position in the run, from 0. */
  index: number;
  /** Index into the stimulus set's images, or null for a null trial. */
  imageIndex: number | null;
  imageId: string | null;
  /** Volume (counted from time zero) at whose trigger the trial starts. */
  onsetVolume: number;
  /** Planned onset in seconds from time zero (= onsetVolume x TR). */
  onsetS: number;
  /** Planned image duration in seconds (null trials: the same, fixation only). */
  durationS: number;
}

export interface PlannedFixationChange {
  index: number;
  onsetS: number;
  durationS: number;
}

/** Where a condition-rich run's images come from (recorded so that the run can be rebuilt). */
export interface RunImageSequence extends ImageSequencePlan {
  imageTrialsPerRun: number;
}

export interface RunSchedule {
  seed: number;
  /** Condition-rich designs only: the participant's image sequence this run is cut from. */
  imageSequence?: RunImageSequence;
  repetitionTimeS: number;
  soaS: number;
  trials: PlannedTrial[];
  fixationChanges: PlannedFixationChange[];
  /** Volumes from time zero to the end of the lead-out. */
  totalVolumes: number;
  /** totalVolumes x TR. */
  durationS: number;
}

/** Round to 1 microsecond so onsets print cleanly (0.1 x 3 is 0.3, not 0.30000000000000004). */
function roundUs(s: number): number {
  return Math.round(s * 1e6) / 1e6;
}

export function nullTrialCount(imageTrials: number, nullTrialFraction: number): number {
  return Math.round((imageTrials * nullTrialFraction) / (1 - nullTrialFraction));
}

/**
 * A random order of `counts[k]` copies of each item k with no item twice in a row. Draws each next
 * item with probability proportional to its remaining count among the items that keep the rest
 * arrangeable (no item may hold more than half of what is left, rounded up, and the item just used
 * may not start the rest), so it never dead-ends and needs no retries.
 */
export function orderWithoutAdjacentRepeats(counts: readonly number[], rng: Rng): number[] {
  const left = counts.slice();
  let total = left.reduce((s, c) => s + c, 0);
  const maxC = Math.max(0, ...left);
  if (maxC > Math.ceil(total / 2)) {
    throw new InputError(`schedule: ${maxC} copies of one item among ${total} cannot avoid adjacent repeats`);
  }
  const order: number[] = [];
  let prev = -1;
  while (total > 0) {
    const rest = total - 1;
    let weightSum = 0;
    const candidates: number[] = [];
    for (let k = 0; k < left.length; k++) {
      if (k === prev || left[k] === 0) continue;
      // After taking k, the remaining `rest` items must be arrangeable with k not first.
      let ok = true;
      for (let j = 0; j < left.length && ok; j++) {
        const c = j === k ? left[j]! - 1 : left[j]!;
        const limit = j === k ? Math.floor(rest / 2) : Math.ceil(rest / 2);
        if (c > limit) ok = false;
      }
      if (ok) {
        candidates.push(k);
        weightSum += left[k]!;
      }
    }
    if (candidates.length === 0)
      throw new Error('orderWithoutAdjacentRepeats: no candidate (feasibility check is wrong)');
    let r = rng() * weightSum;
    let pick = candidates[candidates.length - 1]!;
    for (const k of candidates) {
      r -= left[k]!;
      if (r < 0) {
        pick = k;
        break;
      }
    }
    order.push(pick);
    left[pick]!--;
    total--;
    prev = pick;
  }
  return order;
}

/** k distinct sorted positions out of 0..n-1, uniformly (partial Fisher-Yates). */
function choosePositions(n: number, k: number, rng: Rng): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng() * (n - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, k).sort((a, b) => a - b);
}

/**
 * Up to `count` times in [start, end] at least `gap` apart, uniformly among such sets: draw in the
 * shortened interval and spread by the gap.
 */
function spacedTimes(count: number, start: number, end: number, gap: number, rng: Rng): number[] {
  let k = count;
  while (k > 0 && end - start - (k - 1) * gap < 0) k--;
  const free = end - start - Math.max(0, k - 1) * gap;
  const draws = Array.from({ length: k }, () => rng() * free).sort((a, b) => a - b);
  return draws.map((d, i) => start + d + i * gap);
}

/**
 * The image order of a run: every image `repetitions` times (from the run's own generator), or,
 * with `imageTrialsPerRun`, the run's part of the participant's image sequence (`plan` required).
 */
function runImageOrder(
  nImages: number,
  config: ScheduleConfig,
  rng: Rng,
  plan: ImageSequencePlan | undefined,
): { order: number[]; imageSequence?: RunImageSequence } {
  const perRun = config.imageTrialsPerRun;
  if (perRun === undefined)
    return { order: orderWithoutAdjacentRepeats(new Array(nImages).fill(config.repetitions), rng) };
  if (!plan)
    throw new InputError(
      "schedule: imageTrialsPerRun needs the participant's sequence seed and the run's place in the sequence",
    );
  return {
    order: sequenceImagesOfRun(nImages, perRun, plan),
    imageSequence: { imageTrialsPerRun: perRun, sequenceSeed: plan.sequenceSeed, runIndex: plan.runIndex },
  };
}

/**
 * The schedule of one run from its seed (null trials, fixation changes, and the image order of a
 * design with `repetitions`). A condition-rich design (`imageTrialsPerRun`) also needs `plan`: the
 * participant's sequence seed and the run's place in it.
 */
export function buildRunSchedule(
  imageIds: readonly string[],
  config: ScheduleConfig,
  seed: number,
  plan?: ImageSequencePlan,
): RunSchedule {
  if (imageIds.length < 2)
    throw new InputError(`schedule: a run needs at least 2 images to avoid repeats; got ${imageIds.length}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new InputError(`schedule: seed must be a whole number in [0, 4294967295]; got ${seed}`);
  const rng = createRng(seed);
  const tr = config.repetitionTimeS;
  const { order: imageOrder, imageSequence } = runImageOrder(imageIds.length, config, rng, plan);
  const nNull = nullTrialCount(imageOrder.length, config.nullTrialFraction);
  const nTrials = imageOrder.length + nNull;
  const nullAt = new Set(choosePositions(nTrials, nNull, rng));
  const trials: PlannedTrial[] = [];
  let next = 0;
  for (let i = 0; i < nTrials; i++) {
    const imageIndex = nullAt.has(i) ? null : imageOrder[next++]!;
    const onsetVolume = config.leadInVolumes + i * config.soaVolumes;
    trials.push({
      index: i,
      imageIndex,
      imageId: imageIndex === null ? null : imageIds[imageIndex]!,
      onsetVolume,
      onsetS: roundUs(onsetVolume * tr),
      durationS: config.imageDurationMs / 1000,
    });
  }
  const totalVolumes = config.leadInVolumes + nTrials * config.soaVolumes + config.leadOutVolumes;
  const soaS = roundUs(config.soaVolumes * tr);
  const fixationChanges: PlannedFixationChange[] = [];
  if (config.fixation.enabled && config.fixation.changesPerMinute > 0 && nTrials > 0) {
    const start = trials[0]!.onsetS;
    const changeS = config.fixation.changeDurationMs / 1000;
    // Changes end early enough that their response window closes before the last trial ends.
    const end = trials[nTrials - 1]!.onsetS + soaS - changeS - config.fixation.responseWindowS;
    const count = Math.round((config.fixation.changesPerMinute * (end - start)) / 60);
    spacedTimes(
      count,
      start,
      end,
      Math.max(config.fixation.minIntervalS, changeS + config.fixation.responseWindowS),
      rng,
    ).forEach((t, index) => fixationChanges.push({ index, onsetS: roundUs(t), durationS: changeS }));
  }
  return {
    seed,
    ...(imageSequence ? { imageSequence } : {}),
    repetitionTimeS: tr,
    soaS,
    trials,
    fixationChanges,
    totalVolumes,
    durationS: roundUs(totalVolumes * tr),
  };
}

/** The seed of run `runIndex` given a session base seed (a fixed, documented mixing). */
export function runSeed(baseSeed: number, runIndex: number): number {
  return (baseSeed + Math.imul(runIndex, 0x9e3779b1)) >>> 0;
}
