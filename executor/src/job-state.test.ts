import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  activeJobIds,
  applySubmission,
  countTasks,
  mergeTasks,
  nextTaskRecord,
  readJobState,
  selectForSubmission,
  writeJobState,
  type TaskRecord,
} from './job-state';
import type { TaskStatus } from './task-status';
import { testTempDir } from '@orthostim/test';

const T0 = '2026-01-01T00:00:00.000Z';
const at = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString();
const pending: TaskRecord = { id: 'sub-01', args: ['analyze'], state: 'pending', attempt: 1, job: '12_0' };
const status = (s: Partial<TaskStatus>): TaskStatus => ({
  task: 'sub-01',
  job: '12_0',
  host: 'n1',
  pid: 7,
  time: at(5),
  state: 'running',
  ...s,
});

describe('nextTaskRecord', () => {
  it('follows the scheduler while there is no status file', () => {
    expect(nextTaskRecord(pending, null, { kind: 'waiting', reason: 'Resources' }, at(1), 30_000).state).toBe(
      'pending',
    );
    expect(nextTaskRecord(pending, null, { kind: 'running' }, at(1), 30_000).state).toBe('running');
  });
  it('takes done and failed from the status file, with exit code and signal', () => {
    expect(
      nextTaskRecord(pending, status({ state: 'done', exitCode: 0 }), { kind: 'running' }, at(6), 30_000),
    ).toMatchObject({ state: 'done', exitCode: 0, host: 'n1', endedAt: at(5) });
    expect(
      nextTaskRecord(
        pending,
        status({ state: 'failed', exitCode: 2 }),
        { kind: 'ended', state: 'FAILED', exitCode: 2 },
        at(6),
        30_000,
      ),
    ).toMatchObject({
      state: 'failed',
      exitCode: 2,
      reason: 'exit 2',
    });
    const cancelled = nextTaskRecord(
      pending,
      status({ state: 'failed', exitCode: 143, signal: 'TERM' }),
      { kind: 'ended', state: 'CANCELLED', exitCode: 0, signal: 15 },
      at(6),
      30_000,
    );
    expect(cancelled).toMatchObject({ state: 'failed', exitCode: 143, signal: 'TERM', reason: 'cancelled (SIGTERM)' });
  });
  it('ignores a status file of an earlier attempt', () => {
    expect(
      nextTaskRecord(pending, status({ job: '11_0', state: 'failed', exitCode: 1 }), { kind: 'waiting' }, at(1), 30_000)
        .state,
    ).toBe('pending');
  });
  it('fails at once when the scheduler reports a failure the script could not record', () => {
    const r = nextTaskRecord(
      { ...pending, state: 'running' },
      status({}),
      { kind: 'ended', state: 'OUT_OF_MEMORY', exitCode: 0, signal: 9 },
      at(9),
      30_000,
    );
    expect(r).toMatchObject({ state: 'failed', reason: 'out of memory (signal 9)', host: 'n1' });
  });
  it('gives a task that left the queue without a status the grace period, then fails it', () => {
    const r1 = nextTaskRecord(pending, null, { kind: 'unknown' }, at(10), 30_000);
    expect(r1).toMatchObject({ state: 'pending', goneSince: at(10) });
    const r2 = nextTaskRecord(r1, null, { kind: 'unknown' }, at(39), 30_000);
    expect(r2.state).toBe('pending');
    const r3 = nextTaskRecord(r2, null, { kind: 'unknown' }, at(40), 30_000);
    expect(r3).toMatchObject({ state: 'failed', reason: expect.stringMatching(/left the queue/) });
    expect(r3.goneSince).toBeUndefined();
  });
  it('waits for the status file of a task the scheduler says completed (slow shared filesystem)', () => {
    const r1 = nextTaskRecord(pending, null, { kind: 'ended', state: 'COMPLETED', exitCode: 0 }, at(10), 30_000);
    expect(r1.state).toBe('pending');
    expect(
      nextTaskRecord(
        r1,
        status({ state: 'done', exitCode: 0 }),
        { kind: 'ended', state: 'COMPLETED', exitCode: 0 },
        at(20),
        30_000,
      ).state,
    ).toBe('done');
    expect(nextTaskRecord(r1, null, { kind: 'ended', state: 'COMPLETED', exitCode: 0 }, at(40), 30_000).reason).toMatch(
      /status file never appeared/,
    );
  });
  it('says a task cancelled while it waited was cancelled before it started', () => {
    expect(
      nextTaskRecord(
        pending,
        null,
        { kind: 'ended', state: 'CANCELLED', exitCode: 0, reason: 'JobArrayTaskLimit' },
        at(1),
        30_000,
      ).reason,
    ).toBe('cancelled before it started');
    expect(
      nextTaskRecord(
        { ...pending, state: 'running' },
        status({}),
        { kind: 'ended', state: 'TIMEOUT', exitCode: 0, signal: 15, reason: 'TimeLimit' },
        at(1),
        30_000,
      ).reason,
    ).toBe('timeout (signal 15), TimeLimit');
  });
  it('fails a task whose dependency can never be satisfied', () => {
    expect(
      nextTaskRecord(pending, null, { kind: 'waiting', reason: 'DependencyNeverSatisfied' }, at(1), 30_000),
    ).toMatchObject({ state: 'failed', reason: expect.stringMatching(/depends on failed/) });
  });
  it('returns an orphaned task (its local runner died) to new', () => {
    expect(
      nextTaskRecord({ ...pending, state: 'running' }, status({}), { kind: 'orphaned' }, at(1), 30_000),
    ).toMatchObject({ state: 'new', reason: 'interrupted' });
  });
  it('leaves ended records alone', () => {
    const done: TaskRecord = { ...pending, state: 'done' };
    expect(nextTaskRecord(done, null, { kind: 'unknown' }, at(100), 0)).toBe(done);
  });
});

describe('mergeTasks, selectForSubmission, applySubmission', () => {
  const tasks = [
    { id: 'sub-01', args: ['a', '1'] },
    { id: 'sub-02', args: ['a', '2'] },
    { id: 'sub-03', args: ['a', '3'] },
  ];
  it('starts every task as new, then submits them all as <job>_<index>', () => {
    const s0 = mergeTasks(null, 'g', 'slurm', tasks, T0);
    expect(selectForSubmission(s0, false)).toEqual([0, 1, 2]);
    const s1 = applySubmission(s0, [0, 1, 2], '40', 'slurm', T0);
    expect(s1.tasks.map((t) => [t.state, t.job, t.attempt])).toEqual([
      ['pending', '40_0', 1],
      ['pending', '40_1', 1],
      ['pending', '40_2', 1],
    ]);
    expect(s1.submissions).toEqual([
      { job: '40', executor: 'slurm', taskIds: ['sub-01', 'sub-02', 'sub-03'], indices: [0, 1, 2], submittedAt: T0 },
    ]);
    expect(activeJobIds(s1.tasks)).toEqual(['40']);
  });
  it('keeps done tasks on a rerun, resubmits failed ones only with retryFailed, and new ones always', () => {
    let s = applySubmission(mergeTasks(null, 'g', 'slurm', tasks, T0), [0, 1, 2], '40', 'slurm', T0);
    s = {
      ...s,
      tasks: s.tasks.map(
        (t, i): TaskRecord => ({ ...t, state: i === 1 ? 'failed' : 'done', reason: i === 1 ? 'exit 1' : undefined }),
      ),
    };
    const again = mergeTasks(s, 'g', 'slurm', [...tasks, { id: 'sub-04', args: ['a', '4'] }], at(60));
    expect(again.createdAt).toBe(T0);
    expect(selectForSubmission(again, false)).toEqual([3]);
    expect(selectForSubmission(again, true)).toEqual([1, 3]);
    const s2 = applySubmission(again, [1, 3], '41', 'slurm', at(60));
    expect(s2.tasks[1]).toEqual({ id: 'sub-02', args: ['a', '2'], state: 'pending', attempt: 2, job: '41_1' });
    expect(countTasks(s2.tasks)).toEqual({ new: 0, pending: 2, running: 0, done: 2, failed: 0 });
  });
  it('treats a task whose arguments changed as a new task', () => {
    const s = applySubmission(mergeTasks(null, 'g', 'local', tasks, T0), [0], 'L', 'local', T0);
    const done = { ...s, tasks: s.tasks.map((t): TaskRecord => ({ ...t, state: 'done' })) };
    const changed = mergeTasks(
      done,
      'g',
      'local',
      [{ id: 'sub-01', args: ['a', '1', '--radius-mm', '8'] }, ...tasks.slice(1)],
      T0,
    );
    expect(changed.tasks[0]).toMatchObject({ state: 'new', attempt: 1 });
    expect(changed.tasks[1]!.state).toBe('done');
  });
});

describe('readJobState / writeJobState', () => {
  it('round-trips a state and names the file and field of a bad one', () => {
    const dir = testTempDir('jobstate-');
    const s = applySubmission(mergeTasks(null, 'g', 'slurm', [{ id: 'a', args: [] }], T0), [0], '9', 'slurm', T0);
    expect(readJobState(dir)).toBeNull();
    writeJobState(dir, s);
    expect(readJobState(dir)).toEqual(s);
    writeFileSync(
      join(dir, 'state.json'),
      JSON.stringify({ ...s, tasks: [{ id: 'a', args: [], state: 'lost', attempt: 1 }] }),
    );
    expect(() => readJobState(dir)).toThrow(/state\.json: field tasks\.0\.state/);
    writeFileSync(join(dir, 'state.json'), '{');
    expect(() => readJobState(dir)).toThrow(/state\.json: not valid JSON/);
  });
});
