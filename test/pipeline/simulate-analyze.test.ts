/**
 * End to end at small size: a stimulus set with three layers of distinct geometry -> `orthostim
 * simulate` (two participants, short runs, a small brain) -> `orthostim analyze` participant and
 * group -> the planted layer regions are found in each participant's maps (top-k: the k voxels with
 * the highest r, k = the region's size; two participants are too few for a family-wise threshold)
 * and the group report is written.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { computeRdm, createNormalRng } from '@orthostim/rdm';
import { readNifti, readRecovery } from '@orthostim/analysis';
import { runCli, writeTestStimulusSet } from '../src';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-e2e-simulate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('simulate -> analyze -> report', () => {
  it('recovers the planted layer regions in both participants and writes the group report', async () => {
    const n = 8;
    const rng = createNormalRng(17);
    const rdms: Record<string, number[]> = {};
    for (const l of ['early', 'middle', 'late'])
      rdms[l] = Array.from(
        computeRdm(
          Float64Array.from({ length: n * 10 }, () => rng()),
          n,
          10,
          'correlation',
        ),
      );
    const set = await writeTestStimulusSet(join(tmp, 'set'), n, 16, { rdms, distance: 'correlation' });
    const bids = join(tmp, 'bids');
    const out = join(tmp, 'out');
    const sim = await runCli([
      'simulate',
      '--stimuli',
      set,
      '--out',
      bids,
      '--participants',
      '2',
      '--runs',
      '2',
      '--snr',
      '2',
      '--voxel-mm',
      '4',
      '--brain-mm',
      '60,90,50',
      '--seed',
      '2',
    ]);
    expect(sim.code, sim.stderr).toBe(0);
    const part = await runCli(['analyze', bids, out, 'participant', '--stimuli', set, '--method', 'both']);
    expect(part.code, part.stderr).toBe(0);
    const group = await runCli(['analyze', bids, out, 'group', '--stimuli', set, '--method', 'both']);
    expect(group.code, group.stderr).toBe(0);
    expect(existsSync(join(out, 'group', 'report.html'))).toBe(true);
    for (const participant of ['01', '02']) {
      const t = readRecovery({ analysisDir: out, bidsDir: bids, method: 'standard', participant });
      expect(t.rows.map((r) => r.layer)).toEqual(['early', 'middle', 'late']);
      // Chance is the region's share of the brain, a few percent.
      for (const r of t.rows) expect(r.dice, `sub-${participant} ${r.layer}`).toBeGreaterThan(0.5);
    }
    const truth = JSON.parse(readFileSync(join(bids, 'derivatives', 'truth', 'index.json'), 'utf8')) as {
      grid: { brainVoxels: number };
      layers: { layer: string; mask: string }[];
    };
    expect(truth.grid.brainVoxels).toBeGreaterThan(1000);
    // The group report of a simulated dataset scores its maps against the planted regions: one row
    // per layer whose region size is the truth mask's voxel count, counted here from the mask file
    // (columns: layer, recovered by peak and by region mean, fraction inside, Dice, map and region voxels).
    const html = readFileSync(join(out, 'group', 'report.html'), 'utf8');
    expect(html).toContain('Recovery of the planted regions');
    for (const { layer, mask } of truth.layers) {
      let regionVoxels = 0;
      for (const v of readNifti(join(bids, 'derivatives', 'truth', mask)).data) if (v > 0) regionVoxels++;
      expect(html).toMatch(
        new RegExp(`<td>${layer}</td>(<td[^>]*>[^<]*</td>){4}<td[^>]*>\\d+</td><td[^>]*>${regionVoxels}</td>`),
      );
    }
  });
});
