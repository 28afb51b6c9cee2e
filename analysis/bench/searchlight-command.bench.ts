/**
 * Benchmark: `orthostim searchlight` timed as a whole command, from uncompressed .nii betas to
 * written maps (issue 5: <= 2.5 s on the 2-core machine, peak memory <= 1.5 GB; a vectorized
 * float32 numpy reference does the 10-model version in 2.2 s, rsatoolbox 88 s).
 *
 * Input, generated in a temporary folder: a 91x109x91 mask (uint8 .nii) with ~150,000 voxels, 8
 * run files of 16 float32 beta volumes each (uncompressed .nii, 58 MB each), a stimulus set of 16
 * images x 11 layers. Settings: radius 3 voxels, correlation distance, Spearman, standard +
 * residual = 22 models, 2 threads. Output: r and z map per model (44 .nii.gz, gzip level 1), two
 * winner-take-all maps, the sphere-size map, index.json, analysis.json.
 *
 * Two figures: the command's work in this process (read betas -> written maps, median of 3; what
 * `runSearchlightOnFiles` does, without report.html), and the real CLI in a child process
 * (`node bin/orthostim.js searchlight ...`, process start and module loading included; median of
 * 3), with its peak RSS from /usr/bin/time. `orthostim --version` runs first so that the CLI's
 * bundle cache (.cache/cli, rebuilt after any source change) is current, as on a user's second run.
 *
 *   npm run bench -- searchlight-command
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStimulusSet } from '@orthostim/protocol/node';
import { createNormalRng, createRng, pairCount } from '@orthostim/rdm';
import { REPO_ROOT, timeRuns, writeTestStimulusSet, type Benchmark, type BenchResult } from '@orthostim/test';
import { writeNifti } from '../src/io/nifti';
import { runSearchlightOnFiles } from '../src/pipeline/searchlight-on-files';
import { resolveSearchlightSettings } from '../src/pipeline/settings';
import { MNI_2MM_AFFINE, MNI_2MM_DIMS, SEARCHLIGHT_ELLIPSOID, ellipsoidMask } from './support/mni-grid';

const DIMS = MNI_2MM_DIMS;
const RUNS = 8;
const IMAGES = 16;
const LAYERS = 11;

async function writeInputs(root: string): Promise<{ mask: string; betas: string[]; stimuli: string; nMask: number }> {
  const [nx, ny, nz] = DIMS;
  const nvox = nx * ny * nz;
  const affine = MNI_2MM_AFFINE;
  const { mask, nMask } = ellipsoidMask(SEARCHLIGHT_ELLIPSOID);
  const maskPath = join(root, 'mask.nii');
  writeNifti(maskPath, { dims: DIMS, data: mask, affine }, { datatype: 'uint8' });
  const noise = createNormalRng(1);
  const betas: string[] = [];
  const vol = new Float32Array(nvox * IMAGES);
  for (let r = 0; r < RUNS; r++) {
    for (let t = 0; t < IMAGES; t++) for (let g = 0; g < nvox; g++) vol[t * nvox + g] = mask[g] ? noise() : 0;
    const p = join(root, `run-${r + 1}_betas.nii`);
    writeNifti(p, { dims: [...DIMS, IMAGES], data: vol, affine });
    betas.push(p);
  }
  const rng = createRng(2);
  const shared = Array.from({ length: pairCount(IMAGES) }, () => rng());
  const rdms = Object.fromEntries(
    Array.from({ length: LAYERS }, (_, l) => [`layer_${l + 1}`, shared.map((v) => v + rng())]),
  );
  const stimuli = await writeTestStimulusSet(join(root, 'set'), IMAGES, 16, { rdms, distance: 'correlation' });
  return { mask: maskPath, betas, stimuli, nMask };
}

function childRun(args: string[]): { seconds: number; peakMiB: number; ok: boolean; stderr: string } {
  const t = performance.now();
  const res = spawnSync(
    '/usr/bin/time',
    ['-f', 'maxrss_kb=%M', process.execPath, join(REPO_ROOT, 'bin', 'orthostim.js'), ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, ORTHOSTIM_PROGRESS: '0' },
    },
  );
  const seconds = (performance.now() - t) / 1000;
  const m = /maxrss_kb=(\d+)/.exec(res.stderr ?? '');
  return { seconds, peakMiB: m ? Number(m[1]) / 1024 : Number.NaN, ok: res.status === 0, stderr: res.stderr ?? '' };
}

async function runBench(threads: number, repeats: number): Promise<BenchResult[]> {
  const root = mkdtempSync(join(tmpdir(), 'orthostim-slcmd-bench-'));
  try {
    const inputs = await writeInputs(root);
    const stimuli = readStimulusSet(inputs.stimuli, { checkImages: false });
    const settings = resolveSearchlightSettings(
      { radiusVox: 3, minFraction: 0.5, distance: 'correlation', compare: 'spearman', method: 'both', threads },
      false,
    );
    let k = 0;
    let last: Awaited<ReturnType<typeof runSearchlightOnFiles>> | undefined;
    const { runsMs, medianMs, medianCpuMs } = await timeRuns(
      async () => {
        const out = join(root, `out-${k++}`);
        last = await runSearchlightOnFiles({
          betas: inputs.betas,
          mask: inputs.mask,
          stimuli,
          outDir: out,
          settings,
          report: false,
          settingsRecord: {},
        });
        rmSync(out, { recursive: true, force: true });
      },
      repeats,
      1,
    );
    const note = `${inputs.nMask} mask voxels, ${last!.searchlight.nCenters} centres, radius 3 vox, ${IMAGES} images x ${RUNS} runs (.nii), correlation, spearman x ${2 * LAYERS} models, ${threads} threads`;
    const stage = last!.seconds;
    const args = [
      'searchlight',
      '--betas',
      ...inputs.betas,
      '--mask',
      inputs.mask,
      '--stimuli',
      inputs.stimuli,
      '--radius-vox',
      '3',
      '--method',
      'both',
      '--threads',
      String(threads),
    ];
    childRun(['--version']); // brings the CLI bundle cache up to date
    const cliRuns = [0, 1, 2].map((i) => childRun([...args, '--out', join(root, `cli-out-${i}`), '--no-report']));
    const reportRuns = [0, 1, 2].map((i) => childRun([...args, '--out', join(root, `cli-out-report-${i}`)]));
    const failed = [...cliRuns, ...reportRuns].find((r) => !r.ok);
    if (failed) throw new Error(`orthostim searchlight failed: ${failed.stderr.slice(-500)}`);
    if (!existsSync(join(root, 'cli-out-0', 'index.json'))) throw new Error('the CLI wrote no index.json');
    const cliSorted = cliRuns.map((r) => r.seconds).sort((a, b) => a - b);
    const cli = { seconds: cliSorted[1]!, best: cliSorted[0]!, peakMiB: Math.max(...cliRuns.map((r) => r.peakMiB)) };
    const cliReport = {
      seconds: reportRuns.map((r) => r.seconds).sort((a, b) => a - b)[1]!,
      peakMiB: Math.max(...reportRuns.map((r) => r.peakMiB)),
    };
    return [
      {
        metric: 'searchlight command in-process median (read .nii betas -> written maps)',
        value: medianMs / 1000,
        unit: 's',
        note: `${note}; target <= 2.5 s`,
      },
      { metric: 'searchlight command in-process best', value: runsMs[0]! / 1000, unit: 's', note },
      {
        metric: 'searchlight command in-process CPU time (all threads, median)',
        value: medianCpuMs / 1000,
        unit: 's',
        note: `CPU / ${threads} cores bounds the wall time on an idle machine from below`,
      },
      { metric: 'stage: read betas + assemble', value: stage.read, unit: 's' },
      { metric: 'stage: neighbours + searchlight (maps handed to the encoders)', value: stage.searchlight, unit: 's' },
      { metric: 'stage: 47 maps on disk', value: stage.write, unit: 's' },
      {
        metric: 'orthostim searchlight CLI, --no-report, median of 3 (process start included)',
        value: cli.seconds,
        unit: 's',
        note: `${note}; target <= 2.5 s`,
      },
      { metric: 'orthostim searchlight CLI, --no-report, best of 3', value: cli.best, unit: 's' },
      { metric: 'orthostim searchlight CLI peak RSS', value: cli.peakMiB, unit: 'MiB', note: 'target <= 1.5 GB' },
      {
        metric: 'orthostim searchlight CLI with report.html (the default), median of 3',
        value: cliReport.seconds,
        unit: 's',
        note: `peak RSS ${cliReport.peakMiB.toFixed(0)} MiB`,
      },
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export const benchmarks: Benchmark[] = [
  {
    name: 'searchlight-command',
    description:
      'orthostim searchlight as a whole command: 8 x 16 uncompressed .nii betas, 150k voxels, radius 3, correlation, spearman vs 22 models, 2 threads',
    run: () => runBench(Math.min(2, availableParallelism()), 3),
  },
];
