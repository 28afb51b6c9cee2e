/**
 * An existing dataset end to end, as a new user meets it: the real BIDS dataset
 * ../shared/data/bids/haxby2001 names its conditions by category (face, house, ...). A stimulus set
 * is made from photos by `orthostim rdms --ids stem` (real photos under category names, or under
 * their own names and mapped with --image-map), then `orthostim analyze ... participant` runs on
 * the dataset as it is; no file is edited by hand. A copy of three runs without the dataset's masks
 * takes the computed-mask path; a --mask on the command line wins over the dataset's masks.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOOGLENET_WEIGHTS, requireShared, runCli } from '@orthostim/test';
import { readNifti } from '../src/io/nifti';
import { readOutputIndex } from '../src/pipeline/output-index';

const HAXBY = 'data/bids/haxby2001';
const CATEGORIES = ['scissors', 'face', 'cat', 'shoe', 'house', 'scrambledpix', 'bottle', 'chair'];
const PHOTOS = [
  'kodim01.png',
  'kodim03.png',
  'kodim05.png',
  'kodim07.png',
  'ocelot.jpg',
  'vehicle.jpg',
  'domestic_dog.jpg',
];
/** The categories --image-map maps, to PHOTOS in this order; scrambledpix maps to no image. */
const MAPPED = CATEGORIES.filter((c) => c !== 'scrambledpix');
const stem = (f: string) => f.replace(/\.[a-z]+$/, '');
const tmp = mkdtempSync(join(tmpdir(), 'orthostim-haxby-sets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A folder of symlinks to real photos under the names given. */
function photoFolder(name: string, links: [string, string][]): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  for (const [as, photo] of links) symlinkSync(join(requireShared('data/photos/natural16'), photo), join(dir, as));
  return dir;
}

async function rdmsStem(dir: string, out: string): Promise<string> {
  const args = ['rdms', dir, '--ids', 'stem', '--out', out, '--weights', requireShared(GOOGLENET_WEIGHTS)];
  const res = await runCli([...args, '--size', '64', '--layers', 'conv1,inception_4a']);
  expect(res.stderr).not.toMatch(/error/);
  expect(res.code).toBe(0);
  return out;
}

const analyze = (bids: string, out: string, stimuli: string, extra: string[] = []) =>
  runCli(['analyze', bids, out, 'participant', '--stimuli', stimuli, '--radius-vox', '1', '--threads', '2', ...extra]);

function betaMap(dir: string, image: string, run: string): Float32Array {
  const f = readOutputIndex(dir).files.find((x) => x.stat === 'beta' && x.image === image && x.run === run)!;
  return readNifti(join(dir, f.path)).data as Float32Array;
}

const provenance = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'analysis.json'), 'utf8')) as { inputs: { runs: { mask: string }[] } };

let categorySet: string;
let photoSet: string;
let imageMap: string;

beforeAll(async () => {
  const natural = ['african_elephants.jpg', ...PHOTOS];
  categorySet = await rdmsStem(
    photoFolder(
      'categories',
      CATEGORIES.map((c, i) => [`${c}${natural[i]!.slice(natural[i]!.lastIndexOf('.'))}`, natural[i]!]),
    ),
    join(tmp, 'category-set'),
  );
  // Seven photos under their own names; scrambledpix maps to no image.
  photoSet = await rdmsStem(
    photoFolder(
      'photos',
      PHOTOS.map((p) => [p, p]),
    ),
    join(tmp, 'photo-set'),
  );
  imageMap = join(tmp, 'map.tsv');
  writeFileSync(imageMap, `value\timage\n${MAPPED.map((c, i) => `${c}\t${stem(PHOTOS[i]!)}`).join('\n')}\n`);
});

describe('orthostim analyze on haxby2001 with sets made by orthostim rdms --ids stem', () => {
  it('runs with photos named after the categories', async () => {
    const out = join(tmp, 'out-categories');
    const res = await analyze(requireShared(HAXBY), out, categorySet);
    expect(res.stderr).not.toMatch(/error/);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/sub-1: 12 run\(s\), 129 mask voxels/);
    const dir = join(out, 'sub-1');
    const betas = readOutputIndex(dir).files.filter((f) => f.stat === 'beta');
    expect(betas).toHaveLength(12 * 8);
    expect(new Set(betas.map((b) => b.image))).toEqual(new Set(CATEGORIES));
    const masks = provenance(dir).inputs.runs.map((r) => r.mask);
    expect(new Set(masks)).toEqual(
      new Set([join(requireShared(HAXBY), 'derivatives/masks/sub-1/sub-1_desc-brain_mask.nii.gz')]),
    );
  });

  it('runs with photos of other names mapped by --image-map; the unmapped condition is a regressor of no interest', async () => {
    const without = await analyze(requireShared(HAXBY), join(tmp, 'out-unmapped'), photoSet);
    expect(without.code).toBe(2);
    // One error line (after the start-up line), no stack trace.
    const errors = without.stderr.split('\n').filter((l) => /error/.test(l));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^orthostim: error: \S+run-1_events\.tsv: no trial of any stimulus-set image in this run \(its trial types: scissors, face, cat/,
    );
    expect(without.stderr).not.toMatch(/\bat .*\.ts:\d+/);

    const out = join(tmp, 'out-mapped');
    const res = await analyze(requireShared(HAXBY), out, photoSet, ['--image-map', imageMap]);
    expect(res.stderr).not.toMatch(/error/);
    expect(res.code).toBe(0);
    const dir = join(out, 'sub-1');
    const index = readOutputIndex(dir);
    const betas = index.files.filter((f) => f.stat === 'beta');
    expect(betas).toHaveLength(12 * 7);
    expect(new Set(betas.map((b) => b.image))).toEqual(new Set(PHOTOS.map(stem)));
    const design = JSON.parse(readFileSync(join(dir, 'glm', 'sub-1_task-objects_run-1_design.json'), 'utf8')) as {
      columns: { name: string; kind: string }[];
    };
    expect(design.columns.filter((c) => c.kind === 'nuisance').map((c) => c.name)).toEqual(['scrambledpix']);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toMatch(/<code>scrambledpix<\/code>/);
    // The same regressors in another order: the house beta (now kodim07's) is the category run's.
    const mapped = betaMap(dir, stem(PHOTOS[MAPPED.indexOf('house')]!), '3');
    const direct = betaMap(join(tmp, 'out-categories', 'sub-1'), 'house', '3');
    let maxDiff = 0;
    let maxAbs = 0;
    for (let g = 0; g < direct.length; g++) {
      maxDiff = Math.max(maxDiff, Math.abs(mapped[g]! - direct[g]!));
      maxAbs = Math.max(maxAbs, Math.abs(direct[g]!));
    }
    expect(maxAbs).toBeGreaterThan(0.1);
    expect(maxDiff).toBeLessThan(1e-4 * maxAbs);
  });

  it('computes a brain mask from the BOLD for runs without one, writes it and names it in the report', async () => {
    const haxby = requireShared(HAXBY);
    const bids = join(tmp, 'bids-no-masks');
    mkdirSync(join(bids, 'sub-1', 'func'), { recursive: true });
    for (const f of ['dataset_description.json', 'task-objects_bold.json']) symlinkSync(join(haxby, f), join(bids, f));
    for (const run of [1, 2, 3])
      for (const f of ['bold.nii.gz', 'events.tsv']) {
        const name = `sub-1_task-objects_run-${run}_${f}`;
        symlinkSync(join(haxby, 'sub-1', 'func', name), join(bids, 'sub-1', 'func', name));
      }
    const out = join(tmp, 'out-computed');
    const res = await analyze(bids, out, categorySet);
    expect(res.stderr).not.toMatch(/error/);
    expect(res.code).toBe(0);
    const dir = join(out, 'sub-1');
    const masks = readOutputIndex(dir).files.filter((f) => f.stat === 'mask' && f.path.startsWith('glm/'));
    expect(masks.map((m) => m.run)).toEqual(['1', '2', '3']);
    // Run 1's mask is the scipy transcription of nilearn's compute_epi_mask (fixture of epi-mask.test.ts).
    const reference = JSON.parse(
      readFileSync(new URL('../src/pipeline/fixtures/epi-mask-reference.json', import.meta.url), 'utf8'),
    )['bids/haxby2001/sub-1/func/sub-1_task-objects_run-1_bold.nii.gz'] as { runs: [number, number][] };
    const written = readNifti(join(dir, masks[0]!.path)).data;
    const expected = new Float32Array(written.length);
    for (const [start, length] of reference.runs) expected.fill(1, start, start + length);
    expect(Array.from(written)).toEqual(Array.from(expected));
    expect(provenance(dir).inputs.runs.map((r) => r.mask)).toEqual(masks.map((m) => m.path));
    const report = readFileSync(join(dir, 'report.html'), 'utf8');
    for (const m of masks) expect(report).toContain(m.path);
  });

  it('uses a --mask given on the command line instead of the dataset masks', async () => {
    const given = join(tmp, 'out-computed', 'sub-1', 'glm', 'sub-1_task-objects_run-1_desc-brain_mask.nii.gz');
    const nGiven = Array.from(readNifti(given).data).filter((v) => v > 0).length;
    const out = join(tmp, 'out-given');
    const res = await analyze(requireShared(HAXBY), out, categorySet, ['--mask', given]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`sub-1: 12 run(s), ${nGiven} mask voxels`);
    expect(nGiven).not.toBe(129); // the dataset's brain mask has 129
    expect(provenance(join(out, 'sub-1')).inputs.runs.map((r) => r.mask)).toEqual(Array(12).fill(given));
    expect(res.stdout).toContain(
      `brain mask ${given} used for every run (instead of the dataset's own mask of 12 run(s))`,
    );
  });
});
