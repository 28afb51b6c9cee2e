/**
 * The scenario both executors go through in the tests: a small group of stand-in tasks that write
 * files, one of which is held and cancelled midway; it must be reported with its log, left alone
 * by a plain rerun, and completed by --retry-failed, while done tasks are never run again.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import {
  readJobState,
  readTaskStatus,
  runJobGroup,
  type ExecutorSettings,
  type ProgressLine,
  type TaskProgram,
  type TaskSpec,
} from '../../src/index';
import { REPO_ROOT } from '../../src/run-job-group';
import { testTempDir } from '@orthostim/test';

export const STAND_IN = join(REPO_ROOT, 'executor', 'test', 'support', 'stand-in-task.mjs');
export const standInProgram = (): TaskProgram => ({ node: process.execPath, entry: STAND_IN, cwd: REPO_ROOT });

/** A ProgressLine that keeps what it was given, for assertions. */
export function recordingProgress(): ProgressLine & { lines: string[]; messages: string[] } {
  const lines: string[] = [];
  const messages: string[] = [];
  return { lines, messages, update: (l) => lines.push(l), message: (m) => messages.push(m), stop() {} };
}

export async function waitForFile(path: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${path}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function readOutput(path: string): { value: string; argv: string[]; cwd: string } {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/**
 * Run the scenario. `cancel(jobDir, taskId)` must stop the held task the way the executor's users
 * would (scancel <job>_<i>; a SIGTERM to the task's process).
 */
export async function cancelAndRetryScenario(
  settings: ExecutorSettings,
  cancel: (jobDir: string, taskId: string) => void | Promise<void>,
): Promise<void> {
  const dir = testTempDir(`${settings.executor}-`);
  const outDir = join(dir, 'out');
  const hold = join(dir, 'hold');
  const tasks: TaskSpec[] = ['a', 'b', 'c', 'd'].map((v, i) => ({
    id: `t-${v}`,
    args: [
      'write',
      '--out',
      join(dir, 'results', `${v}.json`),
      '--value',
      `value ${v}`,
      ...(i === 2 ? ['--hold', hold] : []),
    ],
  }));
  const spec = { name: 'demo', outputDir: outDir, tasks, program: standInProgram() };

  // 1. First run: the held task is cancelled while it runs.
  const progress = recordingProgress();
  const first = runJobGroup(spec, settings, { progress });
  await waitForFile(`${hold}.started`);
  const jobDir = join(outDir, '.orthostim-jobs', 'demo');
  await cancel(jobDir, 't-c');
  const r1 = await first;
  expect(r1.submitted?.taskIds).toEqual(['t-a', 't-b', 't-c', 't-d']);
  expect(r1.done.map((t) => t.id)).toEqual(['t-a', 't-b', 't-d']);
  for (const v of ['a', 'b', 'd']) expect(readOutput(join(dir, 'results', `${v}.json`)).value).toBe(`value ${v}`);
  expect(existsSync(join(dir, 'results', 'c.json'))).toBe(false);
  expect(r1.failed).toHaveLength(1);
  const failed = r1.failed[0]!;
  expect(failed).toMatchObject({ id: 't-c', state: 'failed', signal: 'TERM', exitCode: 143 });
  expect(failed.reason).toMatch(/SIGTERM/);
  const log = join(jobDir, 'logs', 't-c.log');
  expect(readFileSync(log, 'utf8')).toMatch(/stopped by SIGTERM/);
  expect(progress.messages).toEqual([expect.stringContaining(`task t-c failed (`)]);
  expect(progress.messages[0]).toContain(`log: ${log}`);
  expect(progress.lines.at(-1)).toMatch(/0 pending, 0 running, 3 done, 1 failed$/);
  // The state on disk says the same, and the job script is there to read.
  expect(readJobState(jobDir)?.tasks.map((t) => t.state)).toEqual(['done', 'done', 'failed', 'done']);
  expect(readTaskStatus(jobDir, 't-c')).toMatchObject({ state: 'failed', signal: 'TERM' });
  expect(readFileSync(r1.scriptPath, 'utf8')).toMatch(/^#!\/bin\/bash\n#SBATCH --job-name=orthostim-demo/);

  // 2. A plain rerun submits nothing: done tasks are skipped, failed ones wait for --retry-failed.
  const r2 = await runJobGroup(spec, settings, { progress: recordingProgress() });
  expect(r2.submitted).toBeNull();
  expect(r2.failed.map((t) => t.id)).toEqual(['t-c']);

  // 3. --retry-failed resubmits only the cancelled task, which now completes.
  writeFileSync(`${hold}.release`, '');
  const aBefore = readFileSync(join(dir, 'results', 'a.json'), 'utf8');
  const r3 = await runJobGroup(spec, { ...settings, retryFailed: true }, { progress: recordingProgress() });
  expect(r3.submitted?.taskIds).toEqual(['t-c']);
  expect(r3.failed).toEqual([]);
  expect(r3.done.map((t) => t.id)).toEqual(['t-a', 't-b', 't-c', 't-d']);
  expect(r3.state.tasks.map((t) => t.attempt)).toEqual([1, 1, 2, 1]);
  expect(readOutput(join(dir, 'results', 'c.json')).value).toBe('value c');
  expect(readFileSync(join(dir, 'results', 'a.json'), 'utf8')).toBe(aBefore);
  // Both attempts are in the task's log.
  expect(readFileSync(log, 'utf8').match(/=== orthostim task t-c \(index 2/g)).toHaveLength(2);
}
