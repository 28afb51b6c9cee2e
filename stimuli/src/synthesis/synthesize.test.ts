/**
 * The optimization loop with the real BVLC GoogLeNet in two worker threads, at a small size:
 * the objective goes down, runs are bit-for-bit reproducible, and a run resumed from a checkpoint
 * equals the uninterrupted run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { GOOGLENET_WEIGHTS, hasShared, requireShared } from '@orthostim/test';
import { initBackend } from '../backend';
import { resolveWeights } from '../models/resolve-weights';
import { readCheckpoint, writeCheckpoint } from './checkpoint';
import { NetworkPool } from './network-pool';
import { createParam } from './param-registry';
import { SYNTHESIS_DEFAULTS, type SynthesisSettings } from './settings';
import { initialState, runSynthesis, type SynthesisState } from './synthesize';
import { shareIdentityOnWasm } from './wasm-shared-identity';

const settings: SynthesisSettings = {
  n: 4,
  size: 64,
  layers: ['conv1', 'inception_3a', 'inception_4c', 'inception_5b'],
  steps: 6,
  seed: 7,
  param: 'fourier',
  init: { kind: 'noise' },
  adam: { ...SYNTHESIS_DEFAULTS.adam, lr: 0.05 },
  loss: SYNTHESIS_DEFAULTS.loss,
  transforms: SYNTHESIS_DEFAULTS.transforms,
  polishFraction: 0.5,
  workers: 2,
};

describe.skipIf(!hasShared(GOOGLENET_WEIGHTS))('runSynthesis with BVLC GoogLeNet in 2 workers', () => {
  let pool: NetworkPool;
  let tmp: string;
  const param = () => createParam(settings.param, settings.size);

  beforeAll(async () => {
    await initBackend('wasm');
    shareIdentityOnWasm();
    tmp = mkdtempSync(join(tmpdir(), 'orthostim-synth-'));
    const p = param();
    pool = await NetworkPool.start({
      workers: 2,
      backend: 'wasm',
      weights: resolveWeights(requireShared(GOOGLENET_WEIGHTS)),
      layers: settings.layers,
      size: settings.size,
      param: settings.param,
      perImage: p.perImage,
    });
    p.dispose();
  });
  afterAll(async () => {
    await pool?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  async function run(s: SynthesisSettings, state?: SynthesisState): Promise<SynthesisState> {
    const p = param();
    const st = state ?? initialState(s, p);
    p.dispose();
    await runSynthesis(pool, s, st);
    return st;
  }

  let uninterrupted: SynthesisState;

  it('lowers the loss and the mean |r| between layers', async () => {
    // Without transforms, so consecutive values are comparable.
    const s = { ...settings, steps: 8, polishFraction: 1 };
    const st = await run(s);
    const first = st.history[0]!;
    const last = st.history[st.history.length - 1]!;
    expect(first.meanAbsR).toBeGreaterThan(0.2);
    expect(last.loss).toBeLessThan(0.7 * first.loss);
    expect(last.meanAbsR).toBeLessThan(first.meanAbsR);
  });

  it('gives the same parameters bit for bit with the same seed and settings', async () => {
    uninterrupted = await run(settings);
    const again = await run(settings);
    expect(Buffer.from(again.params.buffer).equals(Buffer.from(uninterrupted.params.buffer))).toBe(true);
    expect(again.history.map((h) => h.loss)).toEqual(uninterrupted.history.map((h) => h.loss));
    const other = await run({ ...settings, seed: 8, steps: 1 });
    expect(Buffer.from(other.params.buffer).equals(Buffer.from(uninterrupted.params.buffer))).toBe(false);
  });

  it('resumes from a checkpoint to exactly the uninterrupted result', async () => {
    const p = param();
    const st = initialState(settings, p);
    p.dispose();
    await runSynthesis(pool, settings, st, { shouldStop: () => st.step >= 3 });
    expect(st.step).toBe(3);
    const out = join(tmp, 'run');
    writeCheckpoint(out, st, { settings, weightsSha256: pool.weightsSha256, command: 'test' });
    const { state, meta } = readCheckpoint(out);
    expect(meta.settings).toEqual(settings);
    const resumed = await run(meta.settings, state);
    expect(resumed.step).toBe(settings.steps);
    expect(Buffer.from(resumed.params.buffer).equals(Buffer.from(uninterrupted.params.buffer))).toBe(true);
    expect(resumed.history.map((h) => h.loss)).toEqual(uninterrupted.history.map((h) => h.loss));
    expect(tf.getBackend()).toBe('wasm');
  });
});
