/**
 * Seconds per synthesis step (`orthostim synthesize` defaults: 16 images, the 11 default layers,
 * Fourier parameterization, transforms on, 2 worker threads) at 128 and 224 px, with the BVLC
 * weights. One step = forward of all images in the workers, the central RDM loss and its gradient,
 * backward in the workers, one Adam update. Median of 4 steps after 1 warm-up step. The CPU figure
 * is the whole process (all threads) per step; with 2 workers on 2 idle cores the wall time is
 * roughly the slower worker's share plus the central part.
 */
import { availableParallelism } from 'node:os';
import { GOOGLENET_WEIGHTS, describeLoad, sharedPath, type Benchmark, type BenchResult } from '@orthostim/test';
import { formatBackend, initBackend } from '../src/backend';
import { DEFAULT_RDM_LAYERS } from '../src/models/googlenet-layers';
import { resolveWeights } from '../src/models/resolve-weights';
import { NetworkPool } from '../src/synthesis/network-pool';
import { createParam } from '../src/synthesis/param-registry';
import { SYNTHESIS_DEFAULTS as D, type SynthesisSettings } from '../src/synthesis/settings';
import { initialState, runSynthesis } from '../src/synthesis/synthesize';
import { shareIdentityOnWasm } from '../src/synthesis/wasm-shared-identity';

const TIMED = 4;

function synthesisBenchmark(size: number): Benchmark {
  return {
    name: `synthesis-${size}`,
    description: `s/step of orthostim synthesize at ${size} px (16 images, 11 layers, 2 workers; median of ${TIMED} steps after 1 warm-up)`,
    async run(): Promise<BenchResult[]> {
      const info = await initBackend();
      if (info.name === 'wasm') shareIdentityOnWasm();
      const settings: SynthesisSettings = {
        n: D.n,
        size,
        layers: [...DEFAULT_RDM_LAYERS],
        steps: TIMED + 1,
        seed: 1,
        param: D.param,
        init: { kind: 'noise' },
        adam: { ...D.adam, lr: D.lr },
        loss: D.loss,
        transforms: D.transforms,
        polishFraction: 0,
        workers: D.workers,
      };
      const param = createParam(settings.param, size);
      const state = initialState(settings, param);
      const pool = await NetworkPool.start({
        workers: settings.workers,
        backend: info.name,
        weights: resolveWeights(process.env.ORTHOSTIM_WEIGHTS ?? sharedPath(GOOGLENET_WEIGHTS) ?? undefined),
        layers: settings.layers,
        size,
        param: settings.param,
        perImage: param.perImage,
      });
      const cpuPerStep: number[] = [];
      let cpu = process.cpuUsage();
      try {
        await runSynthesis(pool, settings, state, {
          onStep: () => {
            const d = process.cpuUsage(cpu);
            cpuPerStep.push((d.user + d.system) / 1e6);
            cpu = process.cpuUsage();
          },
        });
      } finally {
        await pool.close();
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const wall = state.history.slice(1).map((h) => h.seconds);
      return [
        {
          metric: `s/step at ${size} px`,
          value: median(wall),
          unit: 's',
          note: `${formatBackend(info)}, ${settings.workers} workers on ${availableParallelism()} cores`,
        },
        { metric: 'CPU per step (all threads)', value: median(cpuPerStep.slice(1)), unit: 's', note: describeLoad() },
        { metric: 'mean |r| at the start (transformed)', value: state.history[0]!.meanAbsR, unit: '' },
      ];
    },
  };
}

export const benchmarks: Benchmark[] = [synthesisBenchmark(128), synthesisBenchmark(224)];
