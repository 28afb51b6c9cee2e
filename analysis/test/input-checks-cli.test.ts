/**
 * Bad and extreme inputs of `orthostim searchlight` and `orthostim analyze` through the real
 * command line (issue #14, "Why" items 4 and 5): --overwrite never deletes the command's inputs,
 * radii below one voxel or beyond the grid, too many threads, the same run twice, constant layer
 * RDMs, maps that would be all NaN, a damaged NIfTI header, and another program's ground truth.
 * Each is a one-line error (exit 2) or a warning, never a crash, an "internal error" or exit 0
 * with NaN maps.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNormalRng } from '@orthostim/rdm';
import { runCli, writeTestStimulusSet, type CliResult } from '@orthostim/test';
import { writeNifti } from '../src/io/nifti';
import { cosineRdm, writeTinyStudy, type TinyStudy } from './tiny-study';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-input-checks-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const DIMS = [7, 8, 9] as const;
const N = DIMS[0] * DIMS[1] * DIMS[2];
const AFFINE = [2.5, 0, 0, -8, 0, 2.5, 0, -10, 0, 0, 3, -12, 0, 0, 0, 1];
const K = 6;

/** One line on stderr starting `orthostim:`, no stack trace, no "internal error". */
function expectOneLineError(r: CliResult, code = 2): string {
  expect(r.stderr).not.toMatch(/internal error/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.code).toBe(code);
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('orthostim:'));
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('orthostim searchlight: inputs', () => {
  const betas: string[] = [];
  let mask = '';
  let stimuli = '';
  const normal = createNormalRng(11);
  const features = () => Array.from({ length: K }, () => Float64Array.from({ length: 3 }, () => normal()));

  beforeAll(async () => {
    const m = new Uint8Array(N);
    for (let k = 1; k < 8; k++)
      for (let j = 1; j < 7; j++) for (let i = 1; i < 6; i++) m[i + DIMS[0] * (j + DIMS[1] * k)] = 1;
    mask = join(tmp, 'mask.nii.gz');
    writeNifti(mask, { dims: DIMS, data: m, affine: AFFINE }, { datatype: 'uint8' });
    stimuli = await writeTestStimulusSet(join(tmp, 'set'), K, 16, {
      distance: 'correlation',
      rdms: { a: Array.from(cosineRdm(features())), b: Array.from(cosineRdm(features())) },
    });
    for (let r = 0; r < 2; r++) {
      const p = join(tmp, `run-${r + 1}_betas.nii.gz`);
      writeNifti(p, { dims: [...DIMS, K], data: Float32Array.from({ length: N * K }, () => normal()), affine: AFFINE });
      betas.push(p);
    }
  });

  /** `orthostim searchlight` on the test's betas, mask and set unless others are given. */
  const sl = (
    o: { out: string; betas?: string[]; mask?: string; stimuli?: string; cwd?: string },
    ...extra: string[]
  ) =>
    runCli(
      [
        'searchlight',
        '--betas',
        ...(o.betas ?? betas),
        '--mask',
        o.mask ?? mask,
        '--stimuli',
        o.stimuli ?? stimuli,
        '--out',
        o.out,
        ...extra,
      ],
      o.cwd ? { cwd: o.cwd } : {},
    );
  const searchlight = (out: string, ...extra: string[]) => sl({ out }, ...extra);

  it('--overwrite refuses a folder holding the betas, the mask and the stimulus set, and deletes nothing', async () => {
    const d = join(tmp, 'd');
    mkdirSync(d);
    const inside = betas.map((b, i) => join(d, `run-${i + 1}_betas.nii.gz`));
    betas.forEach((b, i) => copyFileSync(b, inside[i]!));
    copyFileSync(mask, join(d, 'mask.nii.gz'));
    const r = await sl({ betas: inside, mask: join(d, 'mask.nii.gz'), out: d }, '--overwrite');
    const line = expectOneLineError(r);
    expect(line).toMatch(/--overwrite would delete/);
    for (const f of [...inside, join(d, 'mask.nii.gz')]) expect(existsSync(f)).toBe(true);
  });

  it('--overwrite refuses an orthostim output that holds an input (its own stimulus set copied in)', async () => {
    const out = join(tmp, 'sl-out');
    expect((await searchlight(out, '--no-report', '--threads', '1')).code).toBe(0);
    mkdirSync(join(out, 'set', 'images'), { recursive: true });
    for (const f of ['stimulus-set.json', ...Array.from({ length: K }, (_, i) => `images/stim-0${i + 1}.png`)])
      copyFileSync(join(tmp, 'set', f), join(out, 'set', f));
    const r = await sl({ stimuli: join(out, 'set'), out }, '--overwrite');
    expect(expectOneLineError(r)).toContain(`holds ${join(out, 'set', 'stimulus-set.json')}, an input of this command`);
    expect(existsSync(join(out, 'set', 'stimulus-set.json'))).toBe(true);
  });

  it('--out . is refused before any work (the folder one is in cannot be renamed into place)', async () => {
    const here = join(tmp, 'here');
    mkdirSync(here);
    const r = await sl({ out: '.', cwd: here });
    expect(expectOneLineError(r)).toContain(`${here}: is the current folder or holds it`);
    expect(readdirSync(tmp).filter((n) => n.includes('partial'))).toEqual([]);
  });

  it.each([
    [['--radius-vox', '1000'], /--radius-vox must be a number from 1 to 256; got "1000"/],
    [['--radius-mm', '1e308'], /--radius-mm must be a number from 0 to 1000; got "1e308"/],
    [['--radius-vox', '0'], /--radius-vox must be a number from 1 to 256; got "0"/],
    [
      ['--radius-mm', '1'],
      /radius 1 mm is below one voxel \(grid 7 x 8 x 9, voxels of 2\.5 x 2\.5 x 3 mm\).*use at least 2\.5 mm/,
    ],
    [['--radius-vox', '40'], /radius 40 voxels reaches beyond the grid \(grid 7 x 8 x 9.*\); use at most \d+ voxels/],
    [
      ['--radius-mm', '500'],
      /radius 500 mm reaches beyond the grid \(grid 7 x 8 x 9, voxels of 2\.5 x 2\.5 x 3 mm\); use at most \d+ mm/,
    ],
    [['--threads', '1000'], /--threads must be a whole number from 1 to \d+ \(4 x the \d+ cores?\); got "1000"/],
    [['--threads', '1.5'], /--threads must be a whole number/],
  ])('refuses %j before any work', async (args, pattern) => {
    const out = join(tmp, 'bad-radius');
    const r = await searchlight(out, ...args);
    expect(expectOneLineError(r)).toMatch(pattern);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses the same run given twice (by path or as a copy) for crossnobis', async () => {
    const copy = join(tmp, 'copy-of-run-1.nii.gz');
    copyFileSync(betas[0]!, copy);
    for (const twice of [
      [betas[0]!, betas[0]!],
      [betas[0]!, copy],
    ]) {
      const r = await sl({ betas: twice, out: join(tmp, 'twice') }, '--distance', 'crossnobis');
      expect(expectOneLineError(r)).toMatch(/--betas: .* is the same run as .*; give each run once/);
    }
  });

  it('warns naming a layer whose RDM is constant; refuses a set where every layer is', async () => {
    const P = (K * (K - 1)) / 2;
    const oneConstant = await writeTestStimulusSet(join(tmp, 'set-const1'), K, 16, {
      distance: 'correlation',
      rdms: { varied: Array.from(cosineRdm(features())), flat: Array(P).fill(0.7) },
    });
    const r = await sl({ stimuli: oneConstant, out: join(tmp, 'const1') }, '--no-report', '--method', 'standard');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: .*the RDM of layer flat is constant/);
    expect(r.stderr).not.toMatch(/layer varied is constant/);
    const allConstant = await writeTestStimulusSet(join(tmp, 'set-const2'), K, 16, {
      distance: 'correlation',
      rdms: { flat1: Array(P).fill(0.7), flat2: Array(P).fill(1) },
    });
    const r3 = await sl({ stimuli: allConstant, out: join(tmp, 'const3') });
    expect(expectOneLineError(r3)).toMatch(/the RDM of every layer \(flat1, flat2\) is constant/);
    expect(existsSync(join(tmp, 'const3'))).toBe(false);
  });

  it('refuses maps that would be all NaN (constant betas), never exit 0', async () => {
    const flat = [0, 1].map((r) => {
      const p = join(tmp, `flat-${r}.nii.gz`);
      writeNifti(p, { dims: [...DIMS, K], data: new Float32Array(N * K).fill(1 + r), affine: AFFINE });
      return p;
    });
    const out = join(tmp, 'nan-maps');
    const r = await sl({ betas: flat, out });
    expect(expectOneLineError(r)).toMatch(/every searchlight map would be NaN/);
    expect(existsSync(out)).toBe(false);
  });

  it('a NIfTI with vox_offset = -100 is a one-line input error', async () => {
    const plain = join(tmp, 'mask-plain.nii');
    writeNifti(plain, { dims: DIMS, data: new Uint8Array(N).fill(1), affine: AFFINE }, { datatype: 'uint8' });
    const b = Buffer.from(readFileSync(plain));
    b.writeFloatLE(-100, 108); // vox_offset of a NIfTI-1 header
    writeFileSync(plain, b);
    const r = await sl({ mask: plain, out: join(tmp, 'bad-offset') });
    expect(expectOneLineError(r)).toMatch(/mask-plain\.nii: vox_offset -100 is not a valid data offset/);
  });
});

describe('orthostim analyze: inputs', () => {
  let study: TinyStudy;
  const bids = join(tmp, 'hx');

  beforeAll(async () => {
    study = await writeTinyStudy(bids);
  });

  it('participant --overwrite into derivatives/masks refuses to replace the masks it reads', async () => {
    const masks = join(bids, 'derivatives', 'masks');
    const maskFile = join(masks, 'sub-01', 'sub-01_desc-brain_mask.nii.gz');
    const before = readFileSync(maskFile);
    const r = await runCli([
      'analyze',
      bids,
      masks,
      'participant',
      '--participant-label',
      '01',
      '--stimuli',
      study.stimuli,
      '--overwrite',
    ]);
    const line = expectOneLineError(r);
    expect(line).toContain(join(masks, 'sub-01'));
    // Not a folder orthostim wrote (checked for every participant before any work), and it holds the mask read.
    expect(line).toMatch(/--overwrite would delete .*sub-01_desc-brain_mask\.nii\.gz/);
    expect(readFileSync(maskFile).equals(before)).toBe(true);
  });

  it('group on a dataset whose derivatives/truth/index.json is another program’s: a warning, no recovery table, no internal error', async () => {
    const out = join(tmp, 'hx-out');
    const p = await runCli([
      'analyze',
      bids,
      out,
      'participant',
      '--participant-label',
      '01',
      '02',
      '--stimuli',
      study.stimuli,
      '--threads',
      '2',
    ]);
    expect(p.code).toBe(0);
    mkdirSync(join(bids, 'derivatives', 'truth'), { recursive: true });
    writeFileSync(
      join(bids, 'derivatives', 'truth', 'index.json'),
      JSON.stringify({ generator: 'another-simulator', regions: { conv1: 'conv1.nii.gz' } }),
    );
    const g = await runCli(['analyze', bids, out, 'group', '--n-permutations', '100', '--threads', '2']);
    expect(g.stderr).not.toMatch(/internal error/);
    expect(g.code).toBe(0);
    expect(g.stderr).toMatch(/derivatives\/truth\/index\.json is not the ground truth of `orthostim simulate`/);
  });
});
