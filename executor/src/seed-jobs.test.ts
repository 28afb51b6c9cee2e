import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  copyBestRun,
  formatSeedSummaryTsv,
  parseSeedList,
  rankSeedRuns,
  writeSeedSummary,
  type SeedRunMetrics,
} from './seed-jobs';
import { testTempDir } from '@orthostim/test';

describe('parseSeedList', () => {
  it('expands ranges and lists into sorted distinct seeds', () => {
    expect(parseSeedList('1-8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseSeedList('10,3-4, 3')).toEqual([3, 4, 10]);
    expect(parseSeedList('0')).toEqual([0]);
  });
  it('names the bad part', () => {
    expect(() => parseSeedList('1-x')).toThrow(/--seeds must be seeds or ranges.*got "1-x"/);
    expect(() => parseSeedList('8-1')).toThrow(/got "8-1"/);
    expect(() => parseSeedList(' , ')).toThrow(/at least one seed/);
    expect(() => parseSeedList('1-100000')).toThrow(/at most 10000 seeds/);
  });
});

const run = (seed: number, meanAbsR: number, spreadMean = 0.5): SeedRunMetrics => ({
  seed,
  dir: `/s/seed-${seed}`,
  meanAbsR,
  spread: [
    { layer: 'conv1', mean: spreadMean, cv: 0.2 },
    { layer: 'inception_5b', mean: spreadMean * 2, cv: 0.4 + seed / 100 },
  ],
});

describe('rankSeedRuns', () => {
  it('ranks by final mean |r| ascending, ties by seed, NaN last', () => {
    const ranked = rankSeedRuns([run(1, 0.05), run(2, NaN), run(3, 0.01), run(4, 0.05)]);
    expect(ranked.map((r) => [r.rank, r.seed])).toEqual([
      [1, 3],
      [2, 1],
      [3, 4],
      [4, 2],
    ]);
  });
  it('writes a TSV with the smallest spread mean and the smallest CV per seed', () => {
    const r = {
      ...run(7, 0.02, 0.3),
      spread: [...run(7, 0.02, 0.3).spread, { layer: 'inception_3a', mean: 0.9, cv: 0.05 }],
    };
    const tsv = formatSeedSummaryTsv(rankSeedRuns([r]));
    expect(tsv.split('\n')).toEqual([
      'rank\tseed\tmean_abs_r\tmin_spread_mean\tmin_mean_layer\tmin_spread_cv\tmin_cv_layer\tdir',
      '1\t7\t0.02000\t0.3000\tconv1\t0.05000\tinception_3a\t/s/seed-7',
      '',
    ]);
  });
});

describe('writeSeedSummary / copyBestRun', () => {
  it('writes both summaries and copies the winner, refusing to overwrite without the flag', async () => {
    const dir = testTempDir('seeds-');
    const runs = [2, 5].map((seed) => {
      const d = join(dir, `seed-${seed}`);
      mkdirSync(join(d, 'images'), { recursive: true });
      writeFileSync(join(d, 'images', 'stim-01.png'), `png of ${seed}`);
      return { ...run(seed, seed === 5 ? 0.01 : 0.2), dir: d };
    });
    const ranked = rankSeedRuns(runs);
    const files = writeSeedSummary(dir, ranked);
    const json = JSON.parse(readFileSync(files.json, 'utf8'));
    expect(json.runs.map((r: { seed: number }) => r.seed)).toEqual([5, 2]);
    expect(readFileSync(files.tsv, 'utf8')).toContain('1\t5\t0.01000');
    const out = join(dir, 'best');
    expect((await copyBestRun(ranked, out)).seed).toBe(5);
    expect(readFileSync(join(out, 'images', 'stim-01.png'), 'utf8')).toBe('png of 5');
    await expect(copyBestRun(ranked, out)).rejects.toThrow(/not empty.*--overwrite/);
  });
});
