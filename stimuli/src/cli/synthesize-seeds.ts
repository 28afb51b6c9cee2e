/**
 * `orthostim synthesize --seeds 1-8 [--executor local|slurm] [--pick best]`: one synthesis per
 * seed (the ordinary command with `--seed S --out <seeds-dir>/seed-S`), run as executor tasks;
 * then a summary ranking the sets by their final mean |r| over layer pairs, with each layer's RDM
 * spread, and the winner copied to --out when asked. See docs/cluster.md.
 */
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { InputError, UsageError } from '@orthostim/protocol';
import { Option, info, requireOption, type Command } from '@orthostim/protocol/cli';
import {
  copyBestRun,
  parseSeedList,
  rankSeedRuns,
  runSeedJobs,
  seedRunDir,
  writeSeedSummary,
  type RankedSeedRun,
  type SeedRunMetrics,
} from '@orthostim/executor';
import {
  EXECUTOR_FLAG_ARITY,
  addExecutorOptions,
  readExecutorSettings,
  reportJobGroup,
  stripArgs,
  withInterrupt,
} from '@orthostim/executor/cli';

/** The seed flags and the executor flags, added to the synthesize command. */
export function addSeedOptions(cmd: Command): Command {
  cmd
    .addOption(
      new Option(
        '--seeds <list>',
        'run one synthesis per seed (e.g. 1-8 or 1,3,5) as separate tasks and rank the sets (replaces --seed)',
      ),
    )
    .addOption(
      new Option(
        '--seeds-dir <dir>',
        'with --seeds: folder for the runs (seed-<S>/) and the summary (default: <out>-seeds)',
      ),
    )
    .addOption(
      new Option('--pick <which>', 'with --seeds: copy the best set (lowest final mean |r|) to --out').choices([
        'best',
      ]),
    );
  return addExecutorOptions(cmd);
}

interface SeedFlags {
  seeds?: string;
  seedsDir?: string;
  pick?: string;
  out?: string;
  resume?: string;
  overwrite?: boolean;
  workers: number;
}

/** True when the command line asks for seed tasks (then runSynthesisSeeds takes over). */
export function wantsSeeds(flags: object): boolean {
  const f = flags as SeedFlags & { executor?: string };
  if (f.seeds === undefined) {
    const stray = [
      f.seedsDir !== undefined && '--seeds-dir',
      f.pick !== undefined && '--pick',
      f.executor !== undefined && '--executor',
    ].filter(Boolean);
    if (stray.length > 0)
      throw new UsageError(`${stray.join(', ')} need${stray.length === 1 ? 's' : ''} --seeds (e.g. --seeds 1-8)`);
    readExecutorSettings(flags); // refuses the other executor flags without --executor
    return false;
  }
  return true;
}

/** Final mean |r| and per-layer spread from a finished run's stimulus-set.json (synthesis block). */
export function readSeedMetrics(seed: number, dir: string): SeedRunMetrics {
  const path = join(dir, 'stimulus-set.json');
  let set: { synthesis?: { layerSimilarity?: { after?: { meanAbsPearson?: unknown } }; spread?: { after?: unknown } } };
  try {
    set = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(`${path}: cannot read the seed's stimulus set (${(err as Error).message})`);
  }
  const meanAbsR = set.synthesis?.layerSimilarity?.after?.meanAbsPearson;
  const spread = set.synthesis?.spread?.after;
  if (typeof meanAbsR !== 'number')
    throw new InputError(
      `${path}: field synthesis.layerSimilarity.after.meanAbsPearson: expected a number; got ${JSON.stringify(meanAbsR)}`,
    );
  if (
    !Array.isArray(spread) ||
    !spread.every((s) => typeof s?.layer === 'string' && typeof s?.mean === 'number' && typeof s?.cv === 'number')
  ) {
    throw new InputError(`${path}: field synthesis.spread.after: expected [{layer, mean, cv}, ...]`);
  }
  return { seed, dir, meanAbsR, spread };
}

function formatRanking(ranked: readonly RankedSeedRun[]): string {
  const rows = ranked.map((r) => {
    const minCv = r.spread.reduce((a, s) => (s.cv < a.cv ? s : a), r.spread[0] ?? { layer: '-', cv: NaN });
    return `  ${String(r.rank).padStart(3)}  seed ${String(r.seed).padEnd(6)} mean |r| ${r.meanAbsR.toFixed(4)}   lowest spread CV ${minCv.cv.toFixed(3)} (${minCv.layer})`;
  });
  return ['synthesize --seeds: ranked by final mean |Pearson r| over layer pairs (lower is better)', ...rows].join(
    '\n',
  );
}

/**
 * Run the seeds. `validate` checks the single-run flags (layers, init folder, ...) before any task
 * starts, so a typo fails here instead of in every task.
 */
export async function runSynthesisSeeds(parsed: object, command: Command, validate: () => void): Promise<void> {
  const flags = parsed as SeedFlags;
  if (flags.resume) throw new UsageError('--seeds starts new runs; --resume continues one run: use one or the other');
  if (command.getOptionValueSource('seed') === 'cli') throw new UsageError('--seeds replaces --seed; drop --seed');
  const out = requireOption(
    flags.out,
    '--out',
    'the folder for the picked set (the runs go to --seeds-dir, default <out>-seeds)',
  );
  const seeds = parseSeedList(flags.seeds!);
  validate();
  const settings = readExecutorSettings(flags) ?? { executor: 'local' as const, wait: true, retryFailed: false };
  const wait = settings.wait ?? true;
  // Each synthesis already uses --workers threads: by default run only as many as the cores hold.
  if (settings.executor === 'local' && settings.nJobs === undefined)
    settings.nJobs = Math.max(1, Math.floor(availableParallelism() / flags.workers));
  if (flags.pick && !wait)
    throw new UsageError(
      '--pick best needs the runs to finish; drop --no-wait (or rerun without it later to rank and pick)',
    );
  if (flags.pick && existsSync(out) && readdirSync(out).length > 0 && !flags.overwrite) {
    throw new InputError(`${out}: output folder exists and is not empty; choose another --out or pass --overwrite`);
  }
  const seedsDir = resolve(flags.seedsDir ?? `${resolve(out)}-seeds`);
  const base = stripArgs(process.argv.slice(2), {
    ...EXECUTOR_FLAG_ARITY,
    '--seeds': 1,
    '--seeds-dir': 1,
    '--pick': 1,
    '--out': 1,
    '--seed': 1,
    '--overwrite': 0,
  });
  const result = await withInterrupt((signal) =>
    runSeedJobs({
      seedsDir,
      seeds,
      argsFor: (seed, dir) => [...base, '--seed', String(seed), '--out', dir],
      settings,
      hooks: { signal },
    }),
  );
  if (wait && result.done.length > 0) {
    const ranked = rankSeedRuns(
      result.done.map((t) =>
        readSeedMetrics(Number(t.id.slice('seed-'.length)), seedRunDir(seedsDir, Number(t.id.slice('seed-'.length)))),
      ),
    );
    const files = writeSeedSummary(seedsDir, ranked);
    process.stdout.write(`${formatRanking(ranked)}\nwrote ${files.tsv}\n      ${files.json}\n`);
    if (flags.pick && result.failed.length === 0) {
      const best = await copyBestRun(ranked, out, flags.overwrite ?? false);
      process.stdout.write(
        `picked seed ${best.seed} (mean |r| ${best.meanAbsR.toFixed(4)}): copied ${best.dir} to ${resolve(out)}\n`,
      );
    } else if (!flags.pick)
      info(`best: seed ${ranked[0]!.seed} in ${ranked[0]!.dir} (add --pick best to copy it to ${out})`);
  }
  reportJobGroup(result, wait);
}
