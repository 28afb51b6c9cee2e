import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  copyBestRun,
  rankSeedRuns,
  readJobState,
  readTaskStatus,
  runJobGroup,
  runSeedJobs,
  writeSeedSummary,
  type ExecutorSettings,
} from '../src/index';
import { cancelAndRetryScenario, readOutput, recordingProgress, standInProgram, waitForFile } from './support/scenario';
import { testTempDir } from '@orthostim/test';

const LOCAL: ExecutorSettings = { executor: 'local', nJobs: 2, pollIntervalMs: 200 };

describe('local executor', () => {
  it('runs tasks in parallel processes; a task stopped midway is reported with its log and --retry-failed completes it', async () => {
    await cancelAndRetryScenario(LOCAL, (jobDir, taskId) => {
      // As a user would: SIGTERM to the task's process (its pid is in the status file).
      const st = readTaskStatus(jobDir, taskId);
      if (!st) throw new Error(`no status for ${taskId}`);
      process.kill(st.pid, 'SIGTERM');
    });
  });

  it('on interrupt stops the running tasks and marks them to run again; a rerun finishes them', async () => {
    const dir = testTempDir('local-int-');
    const hold = join(dir, 'hold');
    const spec = {
      name: 'int',
      outputDir: join(dir, 'out'),
      program: standInProgram(),
      tasks: [
        { id: 'quick', args: ['write', '--out', join(dir, 'quick.json')] },
        { id: 'held', args: ['write', '--out', join(dir, 'held.json'), '--hold', hold] },
      ],
    };
    const ac = new AbortController();
    const run = runJobGroup(spec, LOCAL, { signal: ac.signal, progress: recordingProgress() });
    await waitForFile(`${hold}.started`);
    await waitForFile(join(dir, 'quick.json'));
    // quick.json appears before the task's wrapper records "done"; abort only once it has, so the
    // test is about the interrupt and not about that race.
    const jobDirEarly = join(dir, 'out', '.orthostim-jobs', 'int');
    for (let i = 0; i < 300 && readTaskStatus(jobDirEarly, 'quick')?.state !== 'done'; i++)
      await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    await expect(run).rejects.toThrow(/interrupted; 1 unfinished task\(s\) stopped/);
    const jobDir = join(dir, 'out', '.orthostim-jobs', 'int');
    const saved = readJobState(jobDir)!;
    expect(saved.tasks.map((t) => [t.id, t.state])).toEqual([
      ['quick', 'done'],
      ['held', 'new'],
    ]);
    writeFileSync(`${hold}.release`, '');
    const again = await runJobGroup(spec, LOCAL, { progress: recordingProgress() });
    expect(again.submitted?.taskIds).toEqual(['held']);
    expect(again.done.map((t) => t.id)).toEqual(['quick', 'held']);
  });

  it('refuses --no-wait, whose tasks would end with the command', async () => {
    const dir = testTempDir('local-nw-');
    await expect(
      runJobGroup(
        { name: 'nw', outputDir: dir, tasks: [{ id: 'a', args: [] }], program: standInProgram() },
        { ...LOCAL, wait: false },
      ),
    ).rejects.toThrow(/--no-wait needs an executor whose tasks outlive this command \(slurm\); got --executor local/);
  });

  it('runs one task per seed into seed-<S>/, and the summary ranks them with the best copied to --out', async () => {
    const dir = testTempDir('seeds-');
    const seedsDir = join(dir, 'set-seeds');
    // The stand-in writes a metrics file whose mean |r| is planted per seed: seed 4 is best.
    const planted: Record<number, number> = { 2: 0.3, 4: 0.05, 9: 0.12 };
    // A leftover of an interrupted attempt is cleared before the seed runs.
    mkdirSync(join(seedsDir, 'seed-4'), { recursive: true });
    writeFileSync(join(seedsDir, 'seed-4', 'leftover'), '');
    const r = await runSeedJobs({
      seedsDir,
      seeds: [2, 4, 9],
      argsFor: (seed, outDir) => [
        'write',
        '--out',
        join(outDir, 'metrics.json'),
        '--value',
        String(planted[seed]),
        '--seed',
        String(seed),
      ],
      settings: LOCAL,
      program: standInProgram(),
      hooks: { progress: recordingProgress() },
    });
    expect(r.done.map((t) => t.id)).toEqual(['seed-2', 'seed-4', 'seed-9']);
    expect(existsSync(join(seedsDir, 'seed-4', 'leftover'))).toBe(false);
    const runs = [2, 4, 9].map((seed) => {
      const d = join(seedsDir, `seed-${seed}`);
      const out = readOutput(join(d, 'metrics.json'));
      expect(out.argv).toContain(String(seed));
      return { seed, dir: d, meanAbsR: Number(out.value), spread: [{ layer: 'conv1', mean: 0.5, cv: 0.1 }] };
    });
    const ranked = rankSeedRuns(runs);
    expect(ranked.map((x) => x.seed)).toEqual([4, 9, 2]);
    writeSeedSummary(seedsDir, ranked);
    await copyBestRun(ranked, join(dir, 'set'));
    expect(readOutput(join(dir, 'set', 'metrics.json')).value).toBe('0.05');
    expect(readFileSync(join(seedsDir, 'seeds-summary.tsv'), 'utf8').split('\n')[1]).toMatch(/^1\t4\t0\.05000/);
  });
});
