import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, writeTestStimulusSet } from '@orthostim/test';
import { readNifti } from '@orthostim/analysis';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-simulate-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('orthostim simulate', () => {
  it('writes the study and prints the regions; bad values are one line and exit code 2', async () => {
    const set = await writeTestStimulusSet(join(tmp, 'set'), 5, 16, {
      rdms: {
        conv1: [0.2, 0.5, 0.9, 1.1, 0.4, 0.7, 1, 0.3, 0.8, 0.6],
        fc8: [1, 0.9, 0.2, 0.4, 0.6, 0.3, 1.1, 0.5, 0.8, 0.7],
      },
      distance: 'correlation',
    });
    const out = join(tmp, 'bids');
    const args = [
      'simulate',
      '--stimuli',
      set,
      '--out',
      out,
      '--participants',
      '1',
      '--runs',
      '1',
      '--voxel-mm',
      '5',
      '--brain-mm',
      '60,75,50',
      '--tr',
      '1.5',
      '--seed',
      '3',
    ];
    const r = await runCli(args);
    expect(r.stderr).toMatch(/^simulate: 1 participants x 1 runs, 5 images, 2 layer regions/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/conv1 +region 1: \d+ voxels at \(/);
    expect(r.stdout).toMatch(/fc8 +region 2: \d+ voxels at \(/);
    const bold = readNifti(join(out, 'sub-01', 'func', 'sub-01_task-orthostim_run-1_bold.nii.gz'));
    expect(bold.repetitionTimeS).toBe(1.5);
    expect(bold.dims.slice(0, 3)).toEqual([14, 17, 12]); // ceil(60/5)+2, ceil(75/5)+2, ceil(50/5)+2
    expect(JSON.parse(readFileSync(join(out, 'task-orthostim_bold.json'), 'utf8')).RepetitionTime).toBe(1.5);

    const rich = await runCli([
      ...args.slice(0, 4),
      join(tmp, 'rich'),
      ...args.slice(5),
      '--image-trials-per-run',
      '7',
    ]);
    expect(rich.code, rich.stderr).toBe(0);
    expect(rich.stderr).toMatch(/^simulate: 1 participants x 1 runs of 7 image trials, 5 images/);
    const events = readFileSync(join(tmp, 'rich', 'sub-01', 'func', 'sub-01_task-orthostim_run-1_events.tsv'), 'utf8');
    expect(events.split('\n').filter((l) => /\tstim-0\d\t/.test(l))).toHaveLength(7);
    const zero = await runCli([...args.slice(0, 4), join(tmp, 'z'), '--image-trials-per-run', '0']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/--image-trials-per-run must be a positive whole number; got "0"/);

    const bad = await runCli(['simulate', '--stimuli', set, '--out', join(tmp, 'x'), '--brain-mm', '60,75']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/--brain-mm must be three diameters in mm .* got "60,75"/);
    const tooMany = await runCli([
      'simulate',
      '--stimuli',
      set,
      '--out',
      join(tmp, 'y'),
      '--brain-mm',
      '60,30,50',
      '--voxel-mm',
      '5',
    ]);
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toMatch(
      /2 regions of radius 7.5 mm, 6 mm apart, need a brain at least 38 mm long; the brain is 30 mm/,
    );
  });
});
