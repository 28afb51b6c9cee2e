/**
 * `orthostim synthesize --seeds ... --executor slurm --pick best` end to end at a tiny size with
 * the real BVLC weights, on a one-node SLURM cluster the test starts: each seed's set must be the
 * set a plain `synthesize --seed S` gives, the summary must rank the seeds by the final mean |r|
 * their own stimulus-set.json files record, and --pick best must copy the lowest.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOOGLENET_WEIGHTS, hasShared, requireShared, runCli } from '@orthostim/test';
import { slurmSkipReason, startSlurmCluster, type SlurmCluster } from '../../executor/test/support/slurm-cluster';

const skip = slurmSkipReason('test/cluster/synthesize-seeds.test.ts') !== null || !hasShared(GOOGLENET_WEIGHTS);
const TINY = [
  '--n',
  '3',
  '--size',
  '32',
  '--steps',
  '2',
  '--layers',
  'conv1,inception_3a,inception_5b',
  '--workers',
  '1',
];

interface SetJson {
  sha256: string;
  rdms: Record<string, number[]>;
  synthesis: { seed: number; layerSimilarity: { after: { meanAbsPearson: number } } };
}
const readSet = (dir: string) => JSON.parse(readFileSync(join(dir, 'stimulus-set.json'), 'utf8')) as SetJson;

describe.skipIf(skip)('orthostim synthesize --seeds on SLURM', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'orthostim-cluster-seeds-'));
  let cluster: SlurmCluster;
  beforeAll(async () => {
    cluster = await startSlurmCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('runs one task per seed, ranks the sets in the summary and copies the best to --out', async () => {
    const weights = requireShared(GOOGLENET_WEIGHTS);
    const env = { ...(cluster.env as Record<string, string>), ORTHOSTIM_POLL_MS: '300' };
    const out = join(tmp, 'picked');
    const [r, plain] = await Promise.all([
      runCli(
        [
          'synthesize',
          '--out',
          out,
          '--seeds',
          '4,9',
          ...TINY,
          '--weights',
          weights,
          '--executor',
          'slurm',
          '--slurm-cpus',
          '1',
          '--pick',
          'best',
        ],
        { env },
      ),
      runCli(['synthesize', '--out', join(tmp, 'plain-9'), '--seed', '9', ...TINY, '--weights', weights]),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(plain.code, plain.stderr).toBe(0);
    const seedsDir = `${out}-seeds`;
    const runs = [4, 9].map((seed) => ({ seed, set: readSet(join(seedsDir, `seed-${seed}`)) }));
    for (const { seed, set } of runs) expect(set.synthesis.seed).toBe(seed);
    // The task ran the ordinary command: seed 9's set is the plain run's, image for image.
    expect(runs[1]!.set.sha256).toBe(readSet(join(tmp, 'plain-9')).sha256);
    // The summary ranks by the mean |r| each run recorded, lowest first.
    const expected = [...runs].sort(
      (a, b) =>
        a.set.synthesis.layerSimilarity.after.meanAbsPearson - b.set.synthesis.layerSimilarity.after.meanAbsPearson,
    );
    const summary = JSON.parse(readFileSync(join(seedsDir, 'seeds-summary.json'), 'utf8')) as {
      runs: { rank: number; seed: number; meanAbsR: number; spread: unknown[] }[];
    };
    expect(summary.runs.map((x) => [x.rank, x.seed, x.meanAbsR])).toEqual(
      expected.map((x, i) => [i + 1, x.seed, x.set.synthesis.layerSimilarity.after.meanAbsPearson]),
    );
    expect(summary.runs[0]!.spread).toHaveLength(3);
    const tsv = readFileSync(join(seedsDir, 'seeds-summary.tsv'), 'utf8').trim().split('\n');
    expect(tsv).toHaveLength(3);
    expect(tsv[1]!.split('\t').slice(0, 2)).toEqual(['1', String(expected[0]!.seed)]);
    expect(r.stdout).toMatch(new RegExp(`picked seed ${expected[0]!.seed} `));
    expect(readSet(out).sha256).toBe(expected[0]!.set.sha256);
    // The tasks were SLURM array tasks.
    const state = JSON.parse(
      readFileSync(join(seedsDir, '.orthostim-jobs', 'synthesize-seeds', 'state.json'), 'utf8'),
    ) as { executor: string; tasks: { id: string; job: string; state: string }[] };
    expect(state.executor).toBe('slurm');
    expect(state.tasks.map((t) => [t.id, t.state])).toEqual([
      ['seed-4', 'done'],
      ['seed-9', 'done'],
    ]);
    expect(state.tasks[0]!.job).toMatch(/^\d+_0$/);
  });

  it('refuses --seeds with --seed or --resume, and seed flags without --seeds', async () => {
    const a = await runCli(['synthesize', '--out', join(tmp, 'x'), '--seeds', '1-2', '--seed', '3']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--seeds replaces --seed/);
    const b = await runCli(['synthesize', '--out', join(tmp, 'x'), '--pick', 'best']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--pick needs --seeds/);
    const c = await runCli(['synthesize', '--out', join(tmp, 'x'), '--seeds', '3-1']);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/--seeds must be seeds or ranges.*"3-1"/);
  });
});
