/**
 * Stimulus sets of 1,000 images (schema orthostim.stimulus-set/2, RDMs in rdms.f32, written here
 * from synthetic RDMs without the network): the searchlight refuses them and names the analyses
 * that handle them; ROI RSA (`searchlight --rois`) and `orthostim compare` run on them. The region
 * RDM is checked against rdm's reference computeRdm on the run-averaged betas, and the planted
 * layer must win where it was planted.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STIMULUS_SET_SCHEMA_V2, type StimulusSetV2 } from '@orthostim/protocol';
import { computeStimulusSetV2Sha256, encodeRdmsSidecar, readStimulusSet, sha256Hex } from '@orthostim/protocol/node';
import { computeRdm, condensedIndex, createNormalRng, spearman } from '@orthostim/rdm';
import { runCli } from '@orthostim/test';
import { writeNifti } from '../src/io/nifti';
import { readOutputIndex } from '../src/pipeline/output-index';
import { cosineRdm } from './tiny-study';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-large-sets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const N_IMAGES = 1000;
const DIMS = [4, 4, 3] as const;
const NV = DIMS[0] * DIMS[1] * DIMS[2];
const AFFINE = [3, 0, 0, 0, 0, 3, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1];
const RUNS = 2;
/** Voxels of the region that carries the planted layer's geometry (region 1); the rest is region 2. */
const planted = (g: number) => g % DIMS[0] < 2;

/** A version-2 set with only what readers need: ids, layers, the sidecar and the digests. */
function writeSyntheticSet(dir: string, ids: string[], rdms: Record<string, Float64Array>): string {
  mkdirSync(dir, { recursive: true });
  const layers = Object.keys(rdms);
  const sidecar = encodeRdmsSidecar(Object.values(rdms));
  writeFileSync(join(dir, 'rdms.f32'), sidecar);
  const images = ids.map((id) => ({ id, file: `images/${id}.png`, sha256: sha256Hex(id) }));
  const identity = layers.map((_, i) => layers.map((__, j) => (i === j ? 1 : 0)));
  const set: StimulusSetV2 = {
    schema: STIMULUS_SET_SCHEMA_V2,
    sha256: computeStimulusSetV2Sha256({ images, layers }, sidecar),
    images,
    model: { name: 'synthetic', weightsSha256: '0'.repeat(64), inputSize: 8 },
    layers,
    distance: 'correlation',
    rdmsFile: { path: 'rdms.f32', sha256: sha256Hex(sidecar), dtype: 'float32' },
    layerSimilarity: { pearson: identity, spearman: identity },
    provenance: { orthostim: 'test', backend: 'none', date: '2026-01-01T00:00:00Z', command: 'large-sets.test.ts' },
  };
  writeFileSync(join(dir, 'stimulus-set.json'), JSON.stringify(set));
  return dir;
}

let set = '';
let plantedRdm: Float64Array;
let otherRdm: Float64Array;
const runFiles: string[] = [];
const runBetas: Float32Array[] = [];

beforeAll(() => {
  const normal = createNormalRng(21);
  const ids = Array.from({ length: N_IMAGES }, (_, i) => `img${String(i).padStart(4, '0')}`);
  const features = ids.map(() => Float64Array.from({ length: 4 }, () => normal()));
  plantedRdm = cosineRdm(features);
  otherRdm = cosineRdm(ids.map(() => Float64Array.from({ length: 4 }, () => normal())));
  set = writeSyntheticSet(join(tmp, 'set'), ids, { planted: plantedRdm, other: otherRdm });
  const w = Array.from({ length: NV }, () => Float64Array.from({ length: 4 }, () => normal()));
  for (let r = 0; r < RUNS; r++) {
    const vol = new Float32Array(NV * N_IMAGES);
    for (let m = 0; m < N_IMAGES; m++)
      for (let g = 0; g < NV; g++) {
        const signal = planted(g) ? w[g]!.reduce((s, x, d) => s + x * features[m]![d]!, 0) : 0;
        vol[m * NV + g] = signal + 0.3 * normal();
      }
    runBetas.push(vol);
    runFiles.push(join(tmp, `run-${r + 1}.nii.gz`));
    writeNifti(runFiles[r]!, { dims: [...DIMS, N_IMAGES], data: vol, affine: AFFINE });
  }
  writeNifti(
    join(tmp, 'mask.nii.gz'),
    { dims: DIMS, data: new Uint8Array(NV).fill(1), affine: AFFINE },
    { datatype: 'uint8' },
  );
  const labels = Uint8Array.from({ length: NV }, (_, g) => (planted(g) ? 1 : 2));
  writeNifti(
    join(tmp, 'rois.nii.gz'),
    { dims: DIMS, data: labels, affine: AFFINE },
    { datatype: 'uint8', intent: 'label' },
  );
});

const searchlight = (out: string, extra: string[]) =>
  runCli([
    'searchlight',
    '--betas',
    ...runFiles,
    '--mask',
    join(tmp, 'mask.nii.gz'),
    '--stimuli',
    set,
    '--out',
    out,
    '--method',
    'standard',
    '--threads',
    '2',
    ...extra,
  ]);

describe('a 1,000-image stimulus set (schema /2)', () => {
  it('is read back from its sidecar', () => {
    const loaded = readStimulusSet(set, { checkImages: false });
    expect(loaded.set.schema).toBe('orthostim.stimulus-set/2');
    expect(loaded.rdms[0]![condensedIndex(3, 998, N_IMAGES)]).toBe(
      Math.fround(plantedRdm[condensedIndex(3, 998, N_IMAGES)]!),
    );
  });

  it('is refused by the searchlight with a message naming ROI RSA and compare', async () => {
    const res = await searchlight(join(tmp, 'refused'), ['--no-report']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      /the stimulus set has 1000 images; the searchlight handles up to 200 .* use ROI RSA \(--rois <label image>.*\) or `orthostim compare` with brain RDMs/,
    );
  });

  it('runs ROI RSA: the region RDM is the reference RDM of the run-averaged betas, the planted layer wins', async () => {
    const out = join(tmp, 'roi');
    const res = await searchlight(out, ['--rois', join(tmp, 'rois.nii.gz')]);
    expect(res.stderr).not.toMatch(/error/);
    expect(res.code).toBe(0);
    const index = readOutputIndex(out);
    const roi = JSON.parse(readFileSync(join(out, index.files.find((f) => f.stat === 'roi-rdm')!.path), 'utf8')) as {
      images: string[];
      regions: { name: string; nVoxels: number; rdm: number[]; models: { layer: string; r: number }[] }[];
    };
    expect(roi.images).toHaveLength(N_IMAGES);
    const region = roi.regions.find((r) => r.name === 'region1')!;
    const voxels = [...Array(NV).keys()].filter(planted);
    expect(region.nVoxels).toBe(voxels.length);
    const patterns = new Float64Array(N_IMAGES * voxels.length);
    for (let m = 0; m < N_IMAGES; m++)
      voxels.forEach(
        (g, v) => (patterns[m * voxels.length + v] = (runBetas[0]![m * NV + g]! + runBetas[1]![m * NV + g]!) / 2),
      );
    const expected = computeRdm(patterns, N_IMAGES, voxels.length, 'correlation');
    expect(region.rdm).toHaveLength(expected.length);
    let maxDiff = 0;
    for (let k = 0; k < expected.length; k += 997) maxDiff = Math.max(maxDiff, Math.abs(region.rdm[k]! - expected[k]!));
    expect(maxDiff).toBeLessThan(1e-4);
    const r = (name: string, layer: string) =>
      roi.regions.find((x) => x.name === name)!.models.find((m) => m.layer === layer)!.r;
    expect(r('region1', 'planted')).toBeCloseTo(spearman(expected, plantedRdm), 4);
    expect(r('region1', 'planted')).toBeGreaterThan(0.5);
    expect(Math.abs(r('region2', 'planted'))).toBeLessThan(0.05);
    expect(index.files.some((f) => f.stat === 'r')).toBe(false); // no searchlight maps
  });

  it('runs orthostim compare with brain RDMs of 1,000 images', async () => {
    const normal = createNormalRng(5);
    const subjects = [0, 1, 2].map(() => Array.from(plantedRdm, (v) => v + 0.3 * normal()));
    const brain = join(tmp, 'brain.json');
    writeFileSync(brain, JSON.stringify({ regions: { IT: subjects } }));
    const out = join(tmp, 'compare');
    const res = await runCli(['compare', '--stimuli', set, '--brain', brain, '--out', out, '--bootstrap', '200']);
    // The one note: no pairwise comparisons for a set this large (their bootstrap re-ranks every RDM).
    expect(res.stderr.trim()).toMatch(/^compare: note: pairwise model comparisons skipped: 1000 images/);
    expect(res.code).toBe(0);
    const expected = subjects.map((s) => spearman(s, Float32Array.from(plantedRdm))).reduce((a, b) => a + b, 0) / 3;
    expect(res.stdout).toMatch(/IT \(3 subjects;.*best layer: planted \((\d\.\d{3})\)/);
    expect(Number(/best layer: planted \((\d\.\d{3})\)/.exec(res.stdout)![1])).toBeCloseTo(expected, 3);
  });
});
