/**
 * Synthesis restarts: one task per seed, each the ordinary synthesize command with `--seed S
 * --out <seeds-dir>/seed-S`; then a summary that ranks the sets by their final mean |r| over layer
 * pairs (lower is more orthogonal) with each layer's RDM spread beside it, and the winner copied
 * to the user's `--out` when asked.
 */
import { cpSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError, describeValue, formatTsv } from '@orthostim/protocol';
import { buildOutputDir, writeFileAtomic } from '@orthostim/protocol/node';
import type { ExecutorSettings } from './executor';
import type { TaskProgram } from './job-script';
import { runJobGroup, type JobGroupHooks, type JobGroupResult } from './run-job-group';

export const SEED_GROUP = 'synthesize-seeds';
const MAX_SEED = 2 ** 32 - 1;
const MAX_SEEDS = 10_000;

/** `1-8`, `1,3,5`, `1-4,10` into sorted distinct seeds; errors name --seeds and the bad part. */
export function parseSeedList(text: string, flag = '--seeds'): number[] {
  const seeds = new Set<number>();
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    const from = m ? Number(m[1]) : NaN;
    const to = m?.[2] !== undefined ? Number(m[2]) : from;
    if (!m || to < from || to > MAX_SEED)
      throw new UsageError(
        `${flag} must be seeds or ranges such as 1-8 or 1,3,5 (0..${MAX_SEED}); got ${describeValue(part)} in ${describeValue(text)}`,
      );
    if (to - from + 1 + seeds.size > MAX_SEEDS)
      throw new UsageError(`${flag}: at most ${MAX_SEEDS} seeds; got ${describeValue(text)}`);
    for (let s = from; s <= to; s++) seeds.add(s);
  }
  if (seeds.size === 0) throw new UsageError(`${flag} needs at least one seed; got ${describeValue(text)}`);
  return [...seeds].sort((a, b) => a - b);
}

export function seedRunDir(seedsDir: string, seed: number): string {
  return join(resolve(seedsDir), `seed-${seed}`);
}

export interface SeedJobsRequest {
  /** Folder holding one `seed-<S>/` per seed, the job state and the summary. */
  seedsDir: string;
  seeds: readonly number[];
  /** orthostim arguments of one seed's synthesis, writing into `outDir`. */
  argsFor(seed: number, outDir: string): string[];
  settings: ExecutorSettings;
  program?: TaskProgram;
  hooks?: JobGroupHooks;
}

export function runSeedJobs(request: SeedJobsRequest): Promise<JobGroupResult> {
  if (request.seeds.length === 0) throw new UsageError('no seeds to run');
  return runJobGroup(
    {
      name: SEED_GROUP,
      outputDir: request.seedsDir,
      tasks: request.seeds.map((seed) => ({
        id: `seed-${seed}`,
        args: request.argsFor(seed, seedRunDir(request.seedsDir, seed)),
      })),
      ...(request.program ? { program: request.program } : {}),
      // A seed that failed or was interrupted may have left a partial folder (a checkpoint) that
      // the synthesis would refuse to start over; its run is reproducible, so it starts afresh.
      prepareTask: (task) =>
        rmSync(seedRunDir(request.seedsDir, Number(task.id.slice('seed-'.length))), { recursive: true, force: true }),
    },
    request.settings,
    request.hooks,
  );
}

/** What the ranking needs from one finished synthesis (read from its stimulus-set.json by the caller). */
export interface SeedRunMetrics {
  seed: number;
  dir: string;
  /** Final mean |Pearson r| over layer pairs. */
  meanAbsR: number;
  /** Per-layer RDM spread: mean dissimilarity and its coefficient of variation. */
  spread: readonly { layer: string; mean: number; cv: number }[];
}

export interface RankedSeedRun extends SeedRunMetrics {
  rank: number;
}

/** Rank by final mean |r| (ascending; ties by seed). NaN (a broken run) goes last. */
export function rankSeedRuns(runs: readonly SeedRunMetrics[]): RankedSeedRun[] {
  const key = (r: SeedRunMetrics) => (Number.isFinite(r.meanAbsR) ? r.meanAbsR : Infinity);
  return [...runs].sort((a, b) => key(a) - key(b) || a.seed - b.seed).map((r, i) => ({ ...r, rank: i + 1 }));
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toPrecision(4) : 'nan';
}

/**
 * The summary as TSV: one row per seed, best first, with the layer closest to collapse on each
 * measure (smallest mean dissimilarity, smallest coefficient of variation).
 */
export function formatSeedSummaryTsv(ranked: readonly RankedSeedRun[]): string {
  const rows = ranked.map((r) => {
    const byMean = [...r.spread].sort((a, b) => a.mean - b.mean)[0];
    const byCv = [...r.spread].sort((a, b) => a.cv - b.cv)[0];
    return [
      r.rank,
      r.seed,
      fmt(r.meanAbsR),
      byMean ? fmt(byMean.mean) : '',
      byMean?.layer ?? '',
      byCv ? fmt(byCv.cv) : '',
      byCv?.layer ?? '',
      r.dir,
    ];
  });
  const columns = ['rank', 'seed', 'mean_abs_r', 'min_spread_mean', 'min_mean_layer', 'min_spread_cv', 'min_cv_layer'];
  return formatTsv([...columns, 'dir'], rows);
}

export interface SeedSummaryFiles {
  json: string;
  tsv: string;
}

/** Write `seeds-summary.json` (full per-layer spread) and `seeds-summary.tsv` into the seeds folder. */
export function writeSeedSummary(seedsDir: string, ranked: readonly RankedSeedRun[]): SeedSummaryFiles {
  const json = join(resolve(seedsDir), 'seeds-summary.json');
  const tsv = join(resolve(seedsDir), 'seeds-summary.tsv');
  const body = {
    schema: 'orthostim.seeds-summary/1',
    rankedBy: 'final mean |Pearson r| over layer pairs, ascending',
    runs: ranked.map((r) => ({ rank: r.rank, seed: r.seed, dir: r.dir, meanAbsR: r.meanAbsR, spread: r.spread })),
  };
  writeFileAtomic(json, `${JSON.stringify(body, null, 2)}\n`);
  writeFileAtomic(tsv, formatSeedSummaryTsv(ranked));
  return { json, tsv };
}

/** Copy the best run's folder to `outDir` atomically (refused over a non-empty folder unless overwrite). */
export async function copyBestRun(
  ranked: readonly RankedSeedRun[],
  outDir: string,
  overwrite = false,
): Promise<RankedSeedRun> {
  const best = ranked[0];
  if (!best || !Number.isFinite(best.meanAbsR)) throw new UsageError('--pick best: no finished seed run to pick from');
  await buildOutputDir(outDir, (staging) => cpSync(best.dir, staging, { recursive: true }), { overwrite });
  return best;
}
