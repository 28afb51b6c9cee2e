/**
 * Benchmark: the group level (`orthostim analyze ... group`, report included) on 8 participants'
 * Fisher-z maps of 22 models (11 layers x standard + residual) over 35,200 voxels, the size of the
 * simulated demo studies: the pseudo-t (default below 20 participants) with all 256 sign patterns,
 * with 1 thread and with 2 (the tests of the layers and methods run on worker threads).
 *
 *   npm run bench -- group
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNormalRng } from '@orthostim/rdm';
import { describeLoad, timeRuns, type Benchmark, type BenchResult } from '@orthostim/test';
import { runGroup } from '../src/pipeline/group';
import { writeParticipantZMaps } from '../test/participant-maps';

const DIMS = [40, 40, 22] as const;
const N = DIMS[0] * DIMS[1] * DIMS[2];
const PARTICIPANTS = 8;
const MODELS = 22;

function writeParticipants(root: string): void {
  const noise = createNormalRng(3);
  writeParticipantZMaps(root, {
    participants: PARTICIPANTS,
    dims: DIMS,
    affine: [3, 0, 0, -60, 0, 3, 0, -60, 0, 0, 3, -30],
    models: Array.from({ length: MODELS }, (_, m) => ({
      layer: `layer${m % 11}`,
      method: m < 11 ? ('standard' as const) : ('semipartial' as const),
    })),
    value: () => 0.05 + 0.2 * noise(),
  });
}

async function runBench(): Promise<BenchResult[]> {
  const root = mkdtempSync(join(tmpdir(), 'orthostim-bench-group-'));
  const prev = process.env.ORTHOSTIM_PROGRESS;
  process.env.ORTHOSTIM_PROGRESS = '0';
  try {
    const base = join(root, 'participants');
    writeParticipants(base);
    const results: BenchResult[] = [];
    for (const threads of [1, Math.min(2, availableParallelism())]) {
      let k = 0;
      const { medianMs, medianCpuMs } = await timeRuns(
        async () => {
          const dir = join(root, `run-${threads}-${k++}`);
          cpSync(base, dir, { recursive: true });
          await runGroup({
            outputDir: dir,
            bidsDir: join(root, 'none'),
            settings: { alpha: 0.05, nPermutations: 10000, seed: 0, connectivity: 26 },
            threads,
            settingsRecord: {},
          });
          rmSync(dir, { recursive: true, force: true });
        },
        1,
        0,
      );
      const note = `${PARTICIPANTS} participants x ${MODELS} maps x ${N} voxels, pseudo-t (6 mm), 256 exhaustive patterns, report included; ${describeLoad()}`;
      results.push({ metric: `group level, ${threads} thread(s) (wall)`, value: medianMs / 1000, unit: 's', note });
      results.push({
        metric: `group level, ${threads} thread(s) (CPU, all threads)`,
        value: medianCpuMs / 1000,
        unit: 's',
      });
    }
    return results;
  } finally {
    if (prev === undefined) delete process.env.ORTHOSTIM_PROGRESS;
    else process.env.ORTHOSTIM_PROGRESS = prev;
    rmSync(root, { recursive: true, force: true });
  }
}

export const benchmarks: Benchmark[] = [
  {
    name: 'group',
    description: 'group level on 8 participants x 22 z maps x 35,200 voxels (pseudo-t, 256 patterns), 1 and 2 threads',
    run: runBench,
  },
];
