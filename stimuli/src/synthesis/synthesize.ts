/**
 * The optimization loop of `orthostim synthesize`, independent of files and terminals: settings
 * and a state in, the state advanced step by step. Each step: draw the step's transform (from a
 * stream indexed by the step), gradient of the objective through the worker pool, one Adam update.
 * Everything that decides the next step lives in `SynthesisState`, so a checkpoint of it resumes
 * to exactly the uninterrupted result.
 */
import { createNormalRng } from '@orthostim/rdm';
import { adamStep, createAdamState, type AdamState } from './adam';
import type { NetworkPool } from './network-pool';
import { evaluateObjective, type ObjectiveMetrics } from './objective';
import type { ImageParameterization } from './param';
import { deriveSeed, SEED_STREAMS } from './seeds';
import { transformedSteps, type SynthesisSettings } from './settings';
import { drawTransform, IDENTITY_TRANSFORM } from './transforms';

export interface HistoryEntry {
  /** Step index (0-based): the objective at the parameters before update `step`. */
  step: number;
  loss: number;
  similarity: number;
  penalty: number;
  meanAbsR: number;
  /** Wall-clock seconds the step took. */
  seconds: number;
}

export interface SynthesisState {
  /** Steps done. */
  step: number;
  /** n x perImage parameters. */
  params: Float32Array;
  adam: AdamState;
  history: HistoryEntry[];
}

/** The starting parameters: noise from the seed's init stream, or the given images inverted. */
export function initialState(
  settings: SynthesisSettings,
  param: ImageParameterization,
  images?: readonly Float32Array[],
): SynthesisState {
  const params = new Float32Array(settings.n * param.perImage);
  for (let i = 0; i < settings.n; i++) {
    const p = images
      ? param.fromImage(images[i]!)
      : param.initNoise(createNormalRng(deriveSeed(settings.seed, SEED_STREAMS.init, i)));
    params.set(p, i * param.perImage);
  }
  return { step: 0, params, adam: createAdamState(params.length), history: [] };
}

export interface StepReport {
  entry: HistoryEntry;
  metrics: ObjectiveMetrics;
}

export interface RunHooks {
  onStep?(report: StepReport, state: SynthesisState): void;
  /** Called after each step; true stops the loop (the caller checkpoints). */
  shouldStop?(): boolean;
  /** Called every `checkpointEvery` steps. */
  checkpoint?(state: SynthesisState): Promise<void> | void;
  checkpointEvery?: number;
}

/** The transform of step `step` (identity in the final polishing stretch). */
export function stepTransform(settings: SynthesisSettings, step: number) {
  return step < transformedSteps(settings)
    ? drawTransform(settings.seed, step, settings.size, settings.transforms)
    : IDENTITY_TRANSFORM(settings.size);
}

/** Run steps until `settings.steps` are done or a hook asks to stop. Returns 'done' or 'stopped'. */
export async function runSynthesis(
  pool: NetworkPool,
  settings: SynthesisSettings,
  state: SynthesisState,
  hooks: RunHooks = {},
): Promise<'done' | 'stopped'> {
  const weights = settings.pairWeights ? Float32Array.from(settings.pairWeights) : undefined;
  while (state.step < settings.steps) {
    const t0 = performance.now();
    const step = state.step;
    let metrics: ObjectiveMetrics | null = null;
    const grad = await pool.gradient(state.params, settings.n, stepTransform(settings, step), (rows) => {
      const r = evaluateObjective(rows, settings.n, settings.loss, weights, true);
      metrics = r.metrics;
      return r.grads!;
    });
    adamStep(state.params, grad, state.adam, settings.adam);
    state.step = step + 1;
    const m = metrics as unknown as ObjectiveMetrics;
    const entry: HistoryEntry = {
      step,
      loss: m.loss,
      similarity: m.similarity,
      penalty: m.penalty,
      meanAbsR: m.meanAbsR,
      seconds: (performance.now() - t0) / 1000,
    };
    state.history.push(entry);
    hooks.onStep?.({ entry, metrics: m }, state);
    const stop = hooks.shouldStop?.() ?? false;
    if (
      hooks.checkpoint &&
      hooks.checkpointEvery &&
      state.step % hooks.checkpointEvery === 0 &&
      state.step < settings.steps &&
      !stop
    )
      await hooks.checkpoint(state);
    if (stop && state.step < settings.steps) return 'stopped';
  }
  return 'done';
}
