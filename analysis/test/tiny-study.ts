/**
 * Test fixture for the analysis pipeline: a tiny BIDS study (unequal sides, short runs, several
 * participants) in which each planted layer's RDM is carried by the voxel patterns of one known
 * box-shaped region. Deliberately simple and independent of simulation/src, so the pipeline
 * is checked against a ground truth it did not generate.
 *
 * How a layer is planted: each image has a random feature vector f (per layer); the layer's RDM
 * is the cosine distance 1 - cos(f_i, f_j). A voxel of the layer's region responds to image i with
 * w . f_i (w random per voxel and participant), so across a sphere's voxels the patterns of two
 * images correlate like their feature vectors: the sphere's correlation-distance RDM follows the
 * layer's RDM. Outside the regions voxels respond with independent noise only.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatEventsTsv, type EventsRow, type StimulusSet } from '@orthostim/protocol';
import { createNormalRng, createRng, pairCount } from '@orthostim/rdm';
import { writeTestStimulusSet } from '@orthostim/test';
import { computeFrameTimes, computeRegressor } from '../src/glm/regressors';
import { writeNifti } from '../src/io/nifti';

/** Cosine distance between the rows of `features` (n x d): the condensed RDM. */
export function cosineRdm(features: readonly Float64Array[]): Float64Array {
  const n = features.length;
  const out = new Float64Array(pairCount(n));
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = features[i]!;
      const b = features[j]!;
      let ab = 0;
      let aa = 0;
      let bb = 0;
      for (let q = 0; q < a.length; q++) {
        ab += a[q]! * b[q]!;
        aa += a[q]! ** 2;
        bb += b[q]! ** 2;
      }
      out[k++] = 1 - ab / Math.sqrt(aa * bb);
    }
  }
  return out;
}

export interface Box {
  i: [number, number];
  j: [number, number];
  k: [number, number];
}

export const inBox = (b: Box, i: number, j: number, k: number) =>
  i >= b.i[0] && i <= b.i[1] && j >= b.j[0] && j <= b.j[1] && k >= b.k[0] && k <= b.k[1];

export interface TinyStudy {
  root: string;
  stimuli: string;
  participants: string[];
  images: string[];
  layers: string[];
  /** Region of each planted layer (layers without a region carry no signal). */
  regions: Record<string, Box>;
  dims: [number, number, number];
  affine: number[];
  mask: Uint8Array;
}

export interface TinyStudyOptions {
  participants?: number;
  runs?: number;
  /** Percent signal change of the responses. */
  amplitude?: number;
  /** Noise SD in raw units around a baseline of 1000. */
  noise?: number;
  seed?: number;
  /**
   * Write the BOLD as fMRIPrep derivatives (derivatives/fmriprep: space-MNI152NLin2009cAsym
   * preproc BOLD, brain mask, confounds TSV with the 6 motion parameters); the raw runs are then
   * 1-volume stand-ins that only name the runs.
   */
  fmriprep?: boolean;
}

/**
 * Write the study under `root`: dataset_description.json, task-rdm_bold.json (TR 2 s), per
 * participant and run a 9 x 10 x 11 int16 BOLD series, events (with a `missed` trial, a fault
 * marker and fixation changes), events.json naming the set, and derivatives/masks brain masks.
 */
export async function writeTinyStudy(root: string, options: TinyStudyOptions = {}): Promise<TinyStudy> {
  const dims: [number, number, number] = [9, 10, 11];
  const [nx, ny, nz] = dims;
  const nvox = nx * ny * nz;
  const affine = [-3, 0, 0, 12, 0, 3, 0, -15, 0, 0, 3, -15, 0, 0, 0, 1]; // LAS, 3 mm
  const images = ['img-a', 'img-b', 'img-c', 'img-d', 'img-e', 'img-f', 'img-g', 'img-h'];
  const layers = ['conv1', 'inception_3a', 'inception_4e'];
  const regions: Record<string, Box> = {
    inception_3a: { i: [1, 4], j: [1, 4], k: [1, 5] },
    inception_4e: { i: [4, 7], j: [5, 8], k: [5, 9] },
  };
  const rng = createRng(options.seed ?? 7);
  const normal = createNormalRng(options.seed ?? 7);
  const D = 3;
  const features = layers.map(() => images.map(() => Float64Array.from({ length: D }, () => normal())));
  const rdms = features.map((f) => cosineRdm(f));
  const stimDir = join(root, 'stimuli-set');
  const stimuli = await writeTestStimulusSet(stimDir, images.length, 16, {
    ids: images,
    distance: 'correlation',
    rdms: Object.fromEntries(layers.map((l, k) => [l, Array.from(rdms[k]!)])),
  });
  const setSha = (JSON.parse(readFileSync(stimuli, 'utf8')) as StimulusSet).sha256;

  const mask = new Uint8Array(nvox);
  for (let k = 1; k < nz - 1; k++)
    for (let j = 1; j < ny - 1; j++) for (let i = 1; i < nx - 1; i++) mask[i + nx * (j + ny * k)] = 1;
  writeFileSync(
    join(root, 'dataset_description.json'),
    JSON.stringify({ Name: 'tiny layer study', BIDSVersion: '1.8.0', DatasetType: 'raw' }),
  );
  writeFileSync(join(root, 'task-rdm_bold.json'), JSON.stringify({ TaskName: 'rdm', RepetitionTime: 2 }));
  if (options.fmriprep) {
    mkdirSync(join(root, 'derivatives', 'fmriprep'), { recursive: true });
    writeFileSync(
      join(root, 'derivatives', 'fmriprep', 'dataset_description.json'),
      JSON.stringify({
        Name: 'fMRIPrep-style derivatives of the tiny study',
        BIDSVersion: '1.8.0',
        DatasetType: 'derivative',
      }),
    );
  }
  const tr = 2;
  const T = 64;
  const nP = options.participants ?? 3;
  const nRuns = options.runs ?? 2;
  const amp = options.amplitude ?? 2;
  const noiseSd = options.noise ?? 3;
  const participants = Array.from({ length: nP }, (_, p) => String(p + 1).padStart(2, '0'));
  const empty = {
    planned_onset: null,
    response_time: null,
    trial_index: null,
    stim_id: null,
    response_key: null,
  } as const;
  for (const sub of participants) {
    const func = join(root, `sub-${sub}`, 'func');
    mkdirSync(func, { recursive: true });
    const SPACE = 'space-MNI152NLin2009cAsym';
    const maskDir = options.fmriprep
      ? join(root, 'derivatives', 'fmriprep', `sub-${sub}`, 'func')
      : join(root, 'derivatives', 'masks', `sub-${sub}`);
    mkdirSync(maskDir, { recursive: true });
    writeNifti(
      join(maskDir, `sub-${sub}${options.fmriprep ? `_task-rdm_${SPACE}` : ''}_desc-brain_mask.nii.gz`),
      { dims, data: mask, affine },
      { datatype: 'uint8' },
    );
    // Response of every voxel to every image (percent signal change).
    const resp = new Float64Array(nvox * images.length);
    for (let g = 0; g < nvox; g++) {
      const i = g % nx;
      const j = Math.floor(g / nx) % ny;
      const k = Math.floor(g / (nx * ny));
      const layer = layers.findIndex((l) => regions[l] && inBox(regions[l]!, i, j, k));
      if (layer < 0) continue;
      const w = Float64Array.from({ length: D }, () => normal());
      for (let m = 0; m < images.length; m++) {
        let s = 0;
        for (let q = 0; q < D; q++) s += w[q]! * features[layer]![m]![q]!;
        resp[g * images.length + m] = (amp * s) / Math.sqrt(D);
      }
    }
    for (let r = 1; r <= nRuns; r++) {
      const trials = [...images, ...images, 'null', 'null', 'null', 'null'];
      for (let a = trials.length - 1; a > 0; a--) {
        const b = Math.floor(rng() * (a + 1));
        [trials[a], trials[b]] = [trials[b]!, trials[a]!];
      }
      const rows: EventsRow[] = trials.map((t, q) => ({
        ...empty,
        onset: 6 + q * 5,
        duration: 2,
        trial_type: t,
        stim_file: t === 'null' ? null : `stimuli/orthostim-test/images/${t}.png`,
        stim_id: t === 'null' ? null : t,
      }));
      rows.push({ ...empty, onset: 17, duration: 0.5, trial_type: 'fixation_change', stim_file: null });
      rows.push({ ...empty, onset: 71, duration: 0.5, trial_type: 'fixation_change', stim_file: null });
      if (r === 1) {
        // A trial the display never showed, and a display disconnect marker: neither is the image.
        rows.push({ ...empty, onset: 112, duration: 2, trial_type: 'missed', stim_file: null, stim_id: 'img-a' });
        rows.push({ ...empty, onset: 111, duration: 0, trial_type: 'display_disconnected', stim_file: null });
      }
      const stem = `sub-${sub}_task-rdm_run-${r}`;
      writeFileSync(join(func, `${stem}_events.tsv`), formatEventsTsv(rows));
      writeFileSync(join(func, `${stem}_events.json`), JSON.stringify({ StimulusSetSha256: setSha }));
      const frames = computeFrameTimes(T, tr);
      const regs = images.map((id) =>
        computeRegressor(
          rows
            .filter((x) => x.trial_type === id)
            .map((x) => ({ onsetS: x.onset, durationS: x.duration, amplitude: 1 })),
          frames,
        ),
      );
      const bold = new Int16Array(nvox * T);
      for (let g = 0; g < nvox; g++) {
        const base = 900 + 200 * rng();
        for (let t = 0; t < T; t++) {
          let s = 0;
          for (let m = 0; m < images.length; m++) s += resp[g * images.length + m]! * regs[m]![t]!;
          bold[t * nvox + g] = Math.round(base * (1 + s / 100) + 4 * Math.sin(t / 9) + noiseSd * normal());
        }
      }
      if (options.fmriprep) {
        writeNifti(
          join(maskDir, `${stem}_${SPACE}_desc-preproc_bold.nii.gz`),
          { dims: [...dims, T], data: bold, affine },
          { datatype: 'int16', repetitionTimeS: tr },
        );
        const motion = ['trans_x', 'trans_y', 'trans_z', 'rot_x', 'rot_y', 'rot_z'];
        const rows = Array.from({ length: T }, (_, t) =>
          [...motion.map((_, c) => (0.05 * Math.sin((t + 7 * c) / 11)).toFixed(5)), (0.1 * normal()).toFixed(5)].join(
            '\t',
          ),
        );
        writeFileSync(
          join(maskDir, `${stem}_desc-confounds_timeseries.tsv`),
          `${[...motion, 'csf'].join('\t')}\n${rows.join('\n')}\n`,
        );
        writeNifti(join(func, `${stem}_bold.nii.gz`), { dims: [1, 1, 1], data: [0], affine });
      } else {
        writeNifti(
          join(func, `${stem}_bold.nii.gz`),
          { dims: [...dims, T], data: bold, affine },
          { datatype: 'int16', repetitionTimeS: tr },
        );
      }
    }
  }
  return { root, stimuli, participants, images, layers, regions, dims, affine, mask };
}
