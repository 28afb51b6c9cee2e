/**
 * Model RDMs and brain RDMs end to end: `orthostim simulate` (two participants) -> `analyze
 * participant --rois <the planted regions> --model-rdm halves=<a categorical RDM>` -> the model
 * RDM's maps are listed in index.json with `model` instead of `layer` and stay out of winner-take-
 * all -> `analyze group` tests them, warns that native-space maps are not in one space and scores
 * the recovery on top-k maps (2 participants) -> `orthostim compare` reads the ROI RDM files analyze
 * wrote (one per participant), finds each planted region's own layer best and beating the others in
 * the pairwise comparisons, and draws the noise-ceiling band.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { computeRdm, createNormalRng } from '@orthostim/rdm';
import { readOutputIndex } from '@orthostim/analysis';
import { runCli, writeTestStimulusSet } from '../src';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-e2e-models-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('model RDMs, ROI RDMs and compare', () => {
  it('maps a model RDM like a layer and compares the ROI RDMs analyze writes', async () => {
    const n = 8;
    const rng = createNormalRng(17);
    const layers = ['early', 'middle', 'late'];
    const rdms: Record<string, number[]> = {};
    for (const l of layers)
      rdms[l] = Array.from(
        computeRdm(
          Float64Array.from({ length: n * 10 }, () => rng()),
          n,
          10,
          'correlation',
        ),
      );
    const set = await writeTestStimulusSet(join(tmp, 'set'), n, 16, { rdms, distance: 'correlation' });
    const ids = Array.from({ length: n }, (_, i) => `stim-${String(i + 1).padStart(2, '0')}`);
    // Two categories of four images: 0 within, 1 between (a square TSV with image ids).
    const halves = join(tmp, 'halves.tsv');
    writeFileSync(
      halves,
      [
        `\t${ids.join('\t')}`,
        ...ids.map((a, i) => `${a}\t${ids.map((_, j) => (i < 4 === j < 4 ? 0 : 1)).join('\t')}`),
      ].join('\n'),
    );
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
    const truth = join(bids, 'derivatives', 'truth');
    const part = await runCli([
      'analyze',
      bids,
      out,
      'participant',
      '--stimuli',
      set,
      '--method',
      'both',
      '--rois',
      join(truth, 'desc-layers_dseg.nii.gz'),
      '--roi-labels',
      join(truth, 'desc-layers_dseg.tsv'),
      '--model-rdm',
      `halves=${halves}`,
    ]);
    expect(part.code, part.stderr).toBe(0);
    const index = readOutputIndex(join(out, 'sub-01'));
    const modelMaps = index.files.filter((f) => f.model === 'halves');
    expect(modelMaps.map((f) => [f.stat, f.method]).sort()).toEqual([
      ['r', 'standard'],
      ['z', 'standard'],
    ]);
    expect(modelMaps.every((f) => f.layer === undefined && f.path.includes('desc-halves'))).toBe(true);
    // Winner-take-all is over the layers only.
    const wta = index.files.find((f) => f.stat === 'wta-labels' && f.method === 'standard')!;
    expect(readFileSync(join(out, 'sub-01', wta.path), 'utf8')).not.toContain('halves');

    const group = await runCli(['analyze', bids, out, 'group', '--method', 'both']);
    expect(group.code, group.stderr).toBe(0);
    expect(group.stderr).toMatch(/warning: the participants' maps are in native space/);
    const gIndex = readOutputIndex(join(out, 'group'));
    expect(gIndex.files.some((f) => f.model === 'halves' && f.stat === 'mean-z')).toBe(true);
    const html = readFileSync(join(out, 'group', 'report.html'), 'utf8');
    expect(html).toContain('Participants not in one space');
    expect(html).toContain('halves (model RDM)');
    expect(html).toMatch(/each layer's top-k map/);

    const roiFiles = ['01', '02'].map((p) => {
      const f = readOutputIndex(join(out, `sub-${p}`)).files.find((x) => x.stat === 'roi-rdm')!;
      return join(out, `sub-${p}`, f.path);
    });
    const cmp = join(tmp, 'cmp');
    const res = await runCli([
      'compare',
      '--stimuli',
      set,
      '--brain',
      ...roiFiles,
      '--model-rdm',
      `halves=${halves}`,
      '--out',
      cmp,
      '--bootstrap',
      '200',
    ]);
    expect(res.code, res.stderr).toBe(0);
    for (const l of layers)
      expect(res.stdout).toMatch(
        new RegExp(`${l} \\(2 subjects; noise ceiling [-0-9.]+ to [-0-9.]+\\); best layer: ${l} `),
      );
    const pairs = readFileSync(join(cmp, 'pairwise.tsv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t'));
    // In each planted region its own layer beats every other model (p < 0.05, the right sign).
    for (const region of layers)
      for (const other of [...layers.filter((l) => l !== region), 'halves']) {
        const row = pairs.find(
          (r) => r[0] === region && [r[1], r[2]].includes(region) && [r[1], r[2]].includes(other),
        )!;
        const sign = row[1] === region ? 1 : -1;
        expect(sign * Number(row[3]), `${region} vs ${other}`).toBeGreaterThan(0);
        expect(Number(row[6]), `${region} vs ${other}`).toBeLessThan(0.05);
      }
    const profiles = readFileSync(join(cmp, 'layer-profiles.tsv'), 'utf8');
    expect(profiles).toMatch(/\nearly\thalves\tstandard\tspearman\t2\t.*\tmodel\n/);
    // The figure shades the noise ceiling from its lower to its upper bound.
    const json = JSON.parse(readFileSync(join(cmp, 'layer-profiles.json'), 'utf8')) as {
      regions: { noiseCeiling: { lower: number; upper: number } }[];
    };
    const svg = readFileSync(join(cmp, 'layer-profiles.svg'), 'utf8');
    expect(svg).toContain('early: noise ceiling');
    expect(json.regions.every((r) => r.noiseCeiling.upper >= r.noiseCeiling.lower)).toBe(true);
  });
});
