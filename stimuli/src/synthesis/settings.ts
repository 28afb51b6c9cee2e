/**
 * Synthesis settings: one object that the command line fills, the run uses, the checkpoint stores
 * and stimulus-set.json records (its `synthesis.settings`), so a run can always be repeated.
 */
import type { AdamSettings } from './adam';
import { DEFAULT_ADAM } from './adam';
import { DEFAULT_LOSS, type LossSettings } from './loss';
import type { ParamName } from './param';
import { DEFAULT_TRANSFORMS, type TransformSettings } from './transforms';

export interface SynthesisSettings {
  /** Number of images. */
  n: number;
  /** Image side in pixels (the network sees exactly this size). */
  size: number;
  /** Canonical layer names whose RDMs are made orthogonal. */
  layers: string[];
  steps: number;
  seed: number;
  param: ParamName;
  /** 'noise' or the image folder the run started from (its files in order). */
  init: { kind: 'noise' } | { kind: 'images'; dir: string; files: string[] };
  adam: AdamSettings;
  loss: LossSettings;
  /** One weight per layer pair (a, b), a < b, in condensed order; absent: all 1. */
  pairWeights?: number[];
  transforms: TransformSettings;
  /**
   * Fraction of the steps, at the end, run without transforms: the last stretch optimizes exactly
   * what is reported (the untransformed images at the output size).
   */
  polishFraction: number;
  /** Worker threads (one backend instance each); part of the settings because float rounding depends on the split. */
  workers: number;
}

/** The defaults of `orthostim synthesize` (see docs/synthesis.md for how they were chosen). */
export const SYNTHESIS_DEFAULTS = {
  n: 16,
  size: 224,
  steps: 200,
  seed: 1,
  param: 'fourier' as ParamName,
  lr: 0.05,
  workers: 2,
  polishFraction: 0.25,
  checkpointEvery: 25,
  adam: DEFAULT_ADAM,
  loss: DEFAULT_LOSS,
  transforms: DEFAULT_TRANSFORMS,
};

/** Steps that use random transforms (the rest polish without them). */
export function transformedSteps(s: Pick<SynthesisSettings, 'steps' | 'polishFraction'>): number {
  return Math.round(s.steps * (1 - s.polishFraction));
}
