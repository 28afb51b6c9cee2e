/**
 * Benchmark: the group level (`orthostim analyze ... group`, report included) on 8 participants'
 * Fisher-z maps of 22 models (11 layers x standard + residual) over 35,200 voxels, the size of the
 * simulated demo studies: the pseudo-t (default below 20 participants) with all 256 sign patterns,
 * with 1 thread and with 2 (the tests of the layers and methods run on worker threads).
 *
 *   npm run bench -- group
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNormalRng } from '@orthostim/rdm';
import { describeLoad, timeRuns, type Benchmark, type BenchResult } from '@orthostim/test';
import { writeNifti } from '../src/io/nifti';
import { runGroup } from '../src/pipeline/group';
import { OutputIndexBuilder } from '../src/pipeline/output-index';

const DIMS = [40, 40, 22] as const;
const N = DIMS[0] * DIMS[1] * DIMS[2];
const PARTICIPANTS = 8;
const MODELS = 22;

function writeParticipants(root: string): void {
  const noise = createNormalRng(3);
  for (let s = 1; s <= PARTICIPANTS; s++) {
    const label = String(s).padStart(2, '0');
    const sub = join(root, `sub-${label}`);
    mkdirSync(sub, { recursive: true });
    const index = new OutputIndexBuilder({ level: 'participant', participant: label, space: 'MNI152NLin2009cAsym' });
    for (let m = 0; m < MODELS; m++) {
      const name = `sub-${label}_desc-layer${m % 11}_rsa-${m < 11 ? 'standard' : 'semipartial'}_stat-z_statmap.nii.gz`;
      writeNifti(join(sub, name), { dims: DIMS, data: Float32Array.from({ length: N }, () => 0.05 + 0.2 * noise()), affine: [3, 0, 0, -60, 0, 3, 0, -60, 0, 0, 3, -30] });
      index.add({ path: name, layer: `layer${m % 11}`, method: m < 11 ? 'standard' : 'residual', stat: 'z' });
    }
    index.write(sub);
  }
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
          await runGroup({ outputDir: dir, bidsDir: join(root, 'none'), settings: { alpha: 0.05, nPermutations: 10000, seed: 0, connectivity: 26 }, threads, settingsRecord: {} });
          rmSync(dir, { recursive: true, force: true });
        },
        1,
        0,
      );
      const note = `${PARTICIPANTS} participants x ${MODELS} maps x ${N} voxels, pseudo-t (6 mm), 256 exhaustive patterns, report included; ${describeLoad()}`;
      results.push({ metric: `group level, ${threads} thread(s) (wall)`, value: medianMs / 1000, unit: 's', note });
      results.push({ metric: `group level, ${threads} thread(s) (CPU, all threads)`, value: medianCpuMs / 1000, unit: 's' });
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
