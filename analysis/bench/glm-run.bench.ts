/**
 * Benchmark: the GLM of one 2 mm whole-brain run, from reading the files to written beta maps
 * (issue 5 target: <= 5 s on the 2-core machine; nilearn's fit alone takes 7.1 s there).
 *
 * Generates, in a temporary folder, a BIDS dataset with fMRIPrep-style derivatives: a 91x109x91
 * run of 300 int16 volumes (uncompressed .nii, TR 2 s), an ellipsoidal brain mask of ~230,000
 * voxels, 16 images x 3 trials + null trials + fixation changes, and the 6 motion confounds.
 * Design: 16 image regressors + 1 nuisance + 6 confounds + 9 cosines + constant = 33 columns.
 *
 *   npm run bench -- glm-run     (or: npx tsx analysis/bench/glm-run.bench.ts [--threads 2] [--noise-model ar1] [--repeats 3])
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { formatEventsTsv, type EventsRow } from '@orthostim/protocol';
import { createNormalRng, createRng } from '@orthostim/rdm';
import { timeRuns, type Benchmark, type BenchResult } from '@orthostim/test';
import { findStudyRuns, readBidsDataset } from '../src/io/bids';
import { writeNifti } from '../src/io/nifti';
import { fitStudyRun } from '../src/io/run-glm';
import type { NoiseModel } from '../src/glm/fit-glm';
import { MNI_2MM_AFFINE, MNI_2MM_DIMS, WHOLE_BRAIN_ELLIPSOID, ellipsoidMask } from './support/mni-grid';

const DIMS = MNI_2MM_DIMS;
const T = 300;
const TR = 2;
const N_IMAGES = 16;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

export function generateRun(root: string): { nMask: number } {
  const [nx, ny, nz] = DIMS;
  const nvox = nx * ny * nz;
  const affine = MNI_2MM_AFFINE;
  const { mask, nMask } = ellipsoidMask(WHOLE_BRAIN_ELLIPSOID);
  mkdirSync(join(root, 'sub-01', 'func'), { recursive: true });
  const deriv = join(root, 'derivatives', 'fmriprep', 'sub-01', 'func');
  mkdirSync(deriv, { recursive: true });
  writeFileSync(join(root, 'dataset_description.json'), JSON.stringify({ Name: 'glm bench', BIDSVersion: '1.8.0' }));
  writeFileSync(join(root, 'task-bench_bold.json'), JSON.stringify({ RepetitionTime: TR }));
  const rng = createRng(1);
  const trials = Array.from({ length: N_IMAGES * 3 + 16 }, (_, i) =>
    i < N_IMAGES * 3 ? `img${String(i % N_IMAGES).padStart(2, '0')}` : 'null',
  );
  for (let i = trials.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [trials[i], trials[j]] = [trials[j]!, trials[i]!];
  }
  const base = { planned_onset: null, response_time: null, trial_index: null, response_key: null, stim_id: null };
  const rows: EventsRow[] = trials.map((t, i) => ({
    ...base,
    onset: 10 + i * 9,
    duration: 2,
    trial_type: t,
    stim_file: t === 'null' ? null : `set/${t}.png`,
  }));
  for (let i = 0; i < 20; i++)
    rows.push({ ...base, onset: 15 + i * 28, duration: 0.3, trial_type: 'fixation_change', stim_file: null });
  const stem = 'sub-01_task-bench_run-1';
  writeFileSync(join(root, 'sub-01', 'func', `${stem}_events.tsv`), formatEventsTsv(rows));
  const motion = ['trans_x', 'trans_y', 'trans_z', 'rot_x', 'rot_y', 'rot_z'];
  const conf = Array.from({ length: T }, (_, t) =>
    motion.map((_, c) => (0.1 * Math.sin((t + 13 * c) / 23)).toFixed(6)).join('\t'),
  );
  writeFileSync(join(deriv, `${stem}_desc-confounds_timeseries.tsv`), `${motion.join('\t')}\n${conf.join('\n')}\n`);
  // int16 BOLD: 1000 + slow drift + noise in the mask (simple, the fit's cost does not depend on it)
  const noise = createNormalRng(2);
  const bold = new Int16Array(nvox * T);
  for (let t = 0; t < T; t++) {
    const o = t * nvox;
    const drift = 5 * Math.sin(t / 40);
    for (let v = 0; v < nvox; v++) if (mask[v]) bold[o + v] = Math.round(1000 + drift + 8 * noise());
  }
  const pre = join(deriv, `${stem}_space-MNI152NLin2009cAsym`);
  writeNifti(
    `${pre}_desc-preproc_bold.nii`,
    { dims: [...DIMS, T], data: bold, affine },
    { datatype: 'int16', repetitionTimeS: TR },
  );
  writeNifti(`${pre}_desc-brain_mask.nii.gz`, { dims: DIMS, data: mask, affine }, { datatype: 'uint8' });
  // The raw run only has to exist for BIDS discovery; a 1-volume stand-in keeps the folder small.
  writeNifti(join(root, 'sub-01', 'func', `${stem}_bold.nii.gz`), { dims: [1, 1, 1], data: [0], affine });
  return { nMask };
}

async function runBench(threads: number, noiseModel: NoiseModel, repeats: number): Promise<BenchResult[]> {
  const root = mkdtempSync(join(tmpdir(), 'orthostim-glm-bench-'));
  try {
    const { nMask } = generateRun(root);
    const images = Array.from({ length: N_IMAGES }, (_, i) => ({
      id: `img${String(i).padStart(2, '0')}`,
      file: `img${String(i).padStart(2, '0')}.png`,
    }));
    let r = 0;
    let cols = 0;
    const { runsMs, medianMs } = await timeRuns(
      async () => {
        const out = join(root, `out-${r++}`);
        mkdirSync(out);
        const ds = readBidsDataset(root);
        const [run] = findStudyRuns(ds, '01', { derivatives: [join(root, 'derivatives', 'fmriprep')] });
        const res = await fitStudyRun(run!, {
          stimulusSet: { sha256: '0'.repeat(64), images },
          outDir: out,
          threads,
          noiseModel,
        });
        cols = res.design.nCols;
        rmSync(out, { recursive: true, force: true });
      },
      repeats,
      0,
    );
    const note = `91x109x91x300 int16 .nii, ${nMask} mask voxels, ${cols} columns, ${noiseModel}, ${threads} threads; target <= 5 s`;
    return [
      { metric: 'glm-run median (read to written betas)', value: medianMs / 1000, unit: 's', note },
      { metric: 'glm-run best', value: runsMs[0]! / 1000, unit: 's', note },
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export const benchmarks: Benchmark[] = [
  {
    name: 'glm-run',
    description:
      'GLM of one 2 mm whole-brain run (300 vols, 16 images + 6 confounds + drift, AR(1)), reading to written betas',
    run: () => runBench(Math.min(2, availableParallelism()), 'ar1', 3),
  },
];

// Also runnable alone: npx tsx analysis/bench/glm-run.bench.ts [--threads 2] [--noise-model ar1] [--repeats 3]
if (process.argv[1]?.endsWith('glm-run.bench.ts')) {
  const results = await runBench(
    Number(arg('--threads', '2')),
    arg('--noise-model', 'ar1') as NoiseModel,
    Number(arg('--repeats', '3')),
  );
  for (const x of results) console.log(`${x.metric}: ${x.value.toFixed(2)} ${x.unit} (${x.note})`);
}
