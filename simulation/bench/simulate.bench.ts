/**
 * Benchmark: `orthostim simulate` of a 4-participant study with the defaults (8 runs, 3 mm voxels,
 * the 120 x 150 x 100 mm brain, int16) for a 16-image set with 11 layers (issue 6 target: under a
 * minute on the 2-core machine). The set's RDMs come from seeded random features (the model does
 * not depend on where an RDM came from); the images are small generated PNGs.
 *
 *   npm run bench -- simulate     (or: npx tsx analysis/bench/simulate.bench.ts [--participants 4])
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeRdm, createNormalRng } from '@orthostim/rdm';
import { describeLoad, timeRuns, writeTestStimulusSet, type Benchmark, type BenchResult } from '@orthostim/test';
import { simulateStudy } from '../src/simulate-study';

async function runBench(participants: number): Promise<BenchResult[]> {
  const root = mkdtempSync(join(tmpdir(), 'orthostim-bench-simulate-'));
  try {
    const n = 16;
    const rng = createNormalRng(5);
    const rdms: Record<string, number[]> = {};
    for (let l = 0; l < 11; l++)
      rdms[`layer${l}`] = Array.from(
        computeRdm(
          Float64Array.from({ length: n * 40 }, () => rng()),
          n,
          40,
          'correlation',
        ),
      );
    const set = await writeTestStimulusSet(join(root, 'set'), n, 32, { rdms, distance: 'correlation' });
    let k = 0;
    let volumes = 0;
    const { medianMs, medianCpuMs } = await timeRuns(
      async () => {
        const out = join(root, `bids-${k++}`);
        const r = await simulateStudy({ stimuli: set, outDir: out, participants });
        volumes = r.volumesPerRun[0]!;
        rmSync(out, { recursive: true, force: true });
      },
      1,
      0,
    );
    const note = `${participants} participants x 8 runs x ${volumes} volumes, 42x52x36 grid, 11 regions, int16 .nii.gz; ${describeLoad()}; target < 60 s`;
    return [
      { metric: `simulate ${participants} participants (wall)`, value: medianMs / 1000, unit: 's', note },
      {
        metric: `simulate ${participants} participants (CPU, main thread + zlib pool)`,
        value: medianCpuMs / 1000,
        unit: 's',
        note,
      },
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export const benchmarks: Benchmark[] = [
  {
    name: 'simulate',
    description: 'orthostim simulate: 4 participants x 8 runs with the defaults (16 images, 11 layer regions)',
    run: () => runBench(4),
  },
];

if (process.argv[1]?.endsWith('simulate.bench.ts')) {
  const i = process.argv.indexOf('--participants');
  for (const x of await runBench(i >= 0 ? Number(process.argv[i + 1]) : 4))
    console.log(`${x.metric}: ${x.value.toFixed(1)} ${x.unit} (${x.note})`);
}
