import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, writeTestStimulusSet } from '@orthostim/test';
import { encodeMatV5 } from '../../test/mat-v5-writer';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-compare-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// The hand-computed case of layer-profiles.test.ts: 4 images, layers A and B, three subjects.
const A = [1, 2, 3, 4, 5, 6];
const B = [1, 2, 3, 6, 5, 4];
const S = [
  [1, 2, 3, 4, 5, 6],
  [2, 1, 3, 4, 6, 5],
  [1, 3, 2, 5, 4, 6],
];
let set = '';

beforeAll(async () => {
  set = await writeTestStimulusSet(join(tmp, 'set'), 4, 16, { rdms: { A, B }, distance: 'correlation' });
});

describe('orthostim compare', () => {
  it('prints and writes the layer profiles: hand-computed means, noise ceiling, best layer', async () => {
    const brain = join(tmp, 'brain.json');
    writeFileSync(brain, JSON.stringify({ regions: { V1: S } }));
    const out = join(tmp, 'out');
    const r = await runCli(['compare', '--stimuli', set, '--brain', brain, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // 97/105 = 0.9238, 27/35 = 0.7714, ceiling 0.8630 to 0.9238 (see layer-profiles.test.ts).
    expect(r.stdout).toContain('V1 (3 subjects; noise ceiling 0.863 to 0.924); best layer: A (0.924)');
    const tsv = readFileSync(join(out, 'layer-profiles.tsv'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    expect(tsv[0]).toEqual([
      'region',
      'layer',
      'method',
      'comparator',
      'n_subjects',
      'mean',
      'ci_low',
      'ci_high',
      'noise_ceiling_lower',
      'noise_ceiling_upper',
      'best',
      'kind',
    ]);
    expect(tsv[1]!.slice(0, 6)).toEqual(['V1', 'A', 'standard', 'spearman', '3', (97 / 105).toFixed(6)]);
    expect(tsv[2]!.slice(5, 8)).toEqual([(27 / 35).toFixed(6), (27 / 35).toFixed(6), (27 / 35).toFixed(6)]);
    expect(tsv[1]![10]).toBe('yes');
    for (const f of ['layer-profiles.json', 'per-subject.tsv', 'layer-profiles.svg', 'layer-profiles.png'])
      expect(existsSync(join(out, f))).toBe(true);
    const json = JSON.parse(readFileSync(join(out, 'layer-profiles.json'), 'utf8')) as {
      regions: { noiseCeiling: { upper: number } }[];
    };
    expect(json.regions[0]!.noiseCeiling.upper).toBeCloseTo(97 / 105, 10);
    // A rerun does not overwrite silently.
    const again = await runCli(['compare', '--stimuli', set, '--brain', brain, '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toMatch(/output folder exists and is not empty/);
  });

  it('reads a MAT-file stack and runs the residual method', async () => {
    // P x S = 6 x 3 (a column per subject), column-major.
    const brain = join(tmp, 'brain.mat');
    writeFileSync(brain, encodeMatV5([{ name: 'V1', value: { dims: [6, 3], data: S.flat() } }], { compress: true }));
    const r = await runCli([
      'compare',
      '--stimuli',
      set,
      '--brain',
      brain,
      '--out',
      join(tmp, 'res'),
      '--method',
      'residual',
    ]);
    expect(r.code).toBe(0);
    const tsv = readFileSync(join(tmp, 'res', 'per-subject.tsv'), 'utf8');
    // Subject 1 equals layer A: its semipartial rho with A is sqrt(7.0857143 / 17.5) = 0.636316.
    expect(tsv).toContain('V1\t1\tA\t0.636316');
  });

  it('a wrong shape is one line on stderr and exit code 2', async () => {
    const brain = join(tmp, 'bad.json');
    writeFileSync(brain, JSON.stringify({ V1: [1, 2, 3, 4, 5] }));
    const r = await runCli(['compare', '--stimuli', set, '--brain', brain, '--out', join(tmp, 'bad')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/region "V1": an array of 1 x 5 is not an RDM stack for 4 images \(P = 6 pairs\)/);
  });
});
