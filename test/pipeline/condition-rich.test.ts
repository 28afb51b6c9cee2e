/**
 * End to end, a condition-rich design on real photos: the 54 distinct photos of ../shared/data/photos
 * (three folders, gathered by symlinks) -> `orthostim rdms` (3 layers) -> `orthostim simulate
 * --image-trials-per-run 36` (2 participants x 3 runs: each image shown twice, never in every run)
 * -> `orthostim analyze` participant and group. Checked against the files themselves: the events
 * balance the images over each participant's runs, the GLM has a beta for exactly the images of
 * each run's events, and the planted layer regions are found (Dice of the top-k voxels far above
 * the region's share of the brain, about 1%).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEventsTsv } from '@orthostim/protocol';
import { readRecovery } from '@orthostim/analysis';
import { GOOGLENET_WEIGHTS, requireShared, runCli } from '../src';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-e2e-rich-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const FOLDERS = ['cameratrap_cdla', 'kodak_custom', 'pd_cc0_ccby'];
const LAYERS = ['conv1', 'inception_3a', 'inception_5b'];

/** The 54 distinct photos (natural16 repeats 16 of them) as one folder of symlinks. */
function gatherPhotos(dir: string): number {
  mkdirSync(dir);
  let n = 0;
  for (const folder of FOLDERS) {
    const src = requireShared(join('data', 'photos', folder));
    for (const f of readdirSync(src).filter((f) => /\.(png|jpe?g)$/i.test(f))) {
      symlinkSync(join(src, f), join(dir, f));
      n++;
    }
  }
  return n;
}

interface IndexEntry {
  path: string;
  stat: string;
  run?: string;
  image?: string;
}

describe('condition-rich design: rdms of 54 photos -> simulate --image-trials-per-run -> analyze', () => {
  it('schedules, simulates and analyses a design where no run holds every image', async () => {
    expect(gatherPhotos(join(tmp, 'photos'))).toBe(54);
    const set = join(tmp, 'set');
    const rdms = await runCli([
      'rdms',
      join(tmp, 'photos'),
      '--out',
      set,
      '--layers',
      LAYERS.join(','),
      '--weights',
      requireShared(GOOGLENET_WEIGHTS),
    ]);
    expect(rdms.code, rdms.stderr).toBe(0);
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
      '3',
      '--image-trials-per-run',
      '36',
      '--snr',
      '2',
      '--brain-mm',
      '60,90,50',
      '--seed',
      '3',
    ]);
    expect(sim.code, sim.stderr).toBe(0);

    // The events: 36 image trials per run; over a participant's 3 runs each image twice (108 / 54),
    // never twice in a row, also across run boundaries; the sidecar records the design.
    const eventsOf = (p: string, r: number) =>
      join(bids, `sub-${p}`, 'func', `sub-${p}_task-orthostim_run-${r}_events`);
    const imagesIn = new Map<string, Set<string>>();
    for (const p of ['01', '02']) {
      const sequence: string[] = [];
      for (const r of [1, 2, 3]) {
        const rows = parseEventsTsv(readFileSync(`${eventsOf(p, r)}.tsv`, 'utf8'), 'events');
        const shown = rows.flatMap((row) => (row.stim_id === null ? [] : [row.stim_id]));
        expect(shown).toHaveLength(36);
        imagesIn.set(`${p}/${r}`, new Set(shown));
        sequence.push(...shown);
        const sidecar = JSON.parse(readFileSync(`${eventsOf(p, r)}.json`, 'utf8'));
        expect(sidecar.Orthostim.config.imageTrialsPerRun).toBe(36);
        expect(sidecar.Orthostim.imageSequence).toMatchObject({ imageTrialsPerRun: 36, runIndex: r - 1 });
      }
      const counts = new Map<string, number>();
      for (const id of sequence) counts.set(id, (counts.get(id) ?? 0) + 1);
      expect(counts.size).toBe(54);
      expect(new Set(counts.values())).toEqual(new Set([2]));
      for (let k = 1; k < sequence.length; k++) expect(sequence[k]).not.toBe(sequence[k - 1]);
      // A condition-rich design: no run shows every image.
      for (const r of [1, 2, 3]) expect(imagesIn.get(`${p}/${r}`)!.size).toBeLessThan(54);
    }

    const part = await runCli(['analyze', bids, out, 'participant', '--stimuli', set, '--radius-vox', '1']);
    expect(part.code, part.stderr).toBe(0);
    const group = await runCli(['analyze', bids, out, 'group', '--stimuli', set]);
    expect(group.code, group.stderr).toBe(0);
    expect(existsSync(join(out, 'group', 'report.html'))).toBe(true);

    for (const p of ['01', '02']) {
      // The GLM: one beta per image and run, for exactly the images of that run's events.
      const index = JSON.parse(readFileSync(join(out, `sub-${p}`, 'index.json'), 'utf8')) as { files: IndexEntry[] };
      for (const r of [1, 2, 3]) {
        const betas = index.files.filter((f) => f.stat === 'beta' && String(f.run) === String(r)).map((f) => f.image);
        expect(new Set(betas)).toEqual(imagesIn.get(`${p}/${r}`));
      }
      const analysis = JSON.parse(readFileSync(join(out, `sub-${p}`, 'analysis.json'), 'utf8'));
      expect(JSON.stringify(analysis)).toContain('their patterns average the runs that have them');
      // The planted regions are found: chance Dice is the region's share of the brain, about 1%.
      const t = readRecovery({ analysisDir: out, bidsDir: bids, method: 'standard', participant: p });
      expect(t.rows.map((r) => r.layer)).toEqual(LAYERS);
      for (const r of t.rows) expect(r.dice, `sub-${p} ${r.layer}`).toBeGreaterThan(0.2);
    }
  });
});
