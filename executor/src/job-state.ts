/**
 * The state of a job group, kept in `<output>/.orthostim-jobs/<name>/state.json` so that a rerun
 * skips what is done, follows what is still queued, and resubmits only what failed when asked.
 * The transitions are pure functions of (record, status file, scheduler view, time); the runner
 * only gathers those inputs and saves the result.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError } from '@orthostim/protocol';
import { writeFileAtomic } from '@orthostim/protocol/node';
import type { TaskSpec } from './task-spec';
import type { TaskStatus } from './task-status';

export const TASK_STATES = ['new', 'pending', 'running', 'done', 'failed'] as const;
export type TaskState = (typeof TASK_STATES)[number];

const taskRecordSchema = z.object({
  id: z.string(),
  args: z.array(z.string()),
  state: z.enum(TASK_STATES),
  /** Submissions of this task so far. */
  attempt: z.number().int().nonnegative(),
  /** Scheduler name of the latest attempt (`12_3`, `local-4711-1_3`). */
  job: z.string().optional(),
  exitCode: z.number().int().optional(),
  signal: z.string().optional(),
  /** Why it failed, in words (`exit 1`, `cancelled (SIGTERM)`, `TIMEOUT`). */
  reason: z.string().optional(),
  host: z.string().optional(),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  /** When the scheduler first stopped listing it without a final status (grace for slow filesystems). */
  goneSince: z.string().optional(),
});
export type TaskRecord = z.infer<typeof taskRecordSchema>;

const submissionSchema = z.object({
  job: z.string(),
  executor: z.string(),
  taskIds: z.array(z.string()),
  indices: z.array(z.number().int()),
  submittedAt: z.string(),
  dependency: z.string().optional(),
});
export type Submission = z.infer<typeof submissionSchema>;

export const JOB_STATE_SCHEMA = 'orthostim.jobs/1';
export const jobGroupStateSchema = z.object({
  schema: z.literal(JOB_STATE_SCHEMA),
  name: z.string(),
  executor: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  tasks: z.array(taskRecordSchema),
  submissions: z.array(submissionSchema),
});
export type JobGroupState = z.infer<typeof jobGroupStateSchema>;

/** What the scheduler (or the local process pool) knows about one attempt. */
export type SchedulerView =
  | { kind: 'waiting'; reason?: string }
  | { kind: 'running' }
  | { kind: 'ended'; state: string; exitCode?: number; signal?: number; reason?: string }
  /** The scheduler no longer lists it (purged, or cancelled before it started). */
  | { kind: 'unknown' }
  /** The process that ran it is gone with its runner (an interrupted local run): run it again. */
  | { kind: 'orphaned' };

export function isActive(state: TaskState): boolean {
  return state === 'pending' || state === 'running';
}

/** Pending reasons SLURM leaves on a task that was cancelled before it ran: not worth repeating. */
const STALE_REASONS = new Set([
  'None',
  'NonZeroExitCode',
  'Resources',
  'Priority',
  'JobArrayTaskLimit',
  'Dependency',
  'BeginTime',
]);

function failureReason(status: TaskStatus | null, view: SchedulerView, started: boolean): string {
  const sched =
    view.kind === 'ended' && view.state !== 'FAILED' && view.state !== 'COMPLETED'
      ? view.state.toLowerCase().replace(/_/g, ' ')
      : null;
  if (status?.signal) return `${sched ?? 'stopped'} (SIG${status.signal})`;
  if (status?.state === 'failed') return status.reason ?? `exit ${status.exitCode ?? '?'}`;
  if (view.kind === 'ended') {
    if (sched === 'cancelled' && !started) return 'cancelled before it started';
    const sig = view.signal ? ` (signal ${view.signal})` : '';
    const why = view.reason && !STALE_REASONS.has(view.reason) ? `, ${view.reason}` : '';
    return `${sched ?? `exit ${view.exitCode ?? '?'}`}${sig}${why}`;
  }
  return 'left the queue without recording an end (cancelled before it started, or killed)';
}

/**
 * The next record of one task from its status file (null when none, or one from an older attempt)
 * and the scheduler's view. A task that ends without a final status is given `graceMs` for its
 * status file to appear (shared filesystems cache) unless the scheduler already reports a failure.
 */
export function nextTaskRecord(
  rec: TaskRecord,
  status: TaskStatus | null,
  view: SchedulerView,
  nowIso: string,
  graceMs: number,
): TaskRecord {
  if (!isActive(rec.state)) return rec;
  const st = status && status.job === rec.job ? status : null;
  const base = { ...rec };
  if (st?.state === 'done') {
    return clean({
      ...base,
      state: 'done',
      exitCode: 0,
      host: st.host,
      endedAt: st.time,
      goneSince: undefined,
      reason: undefined,
    });
  }
  if (st?.state === 'failed') {
    return clean({
      ...base,
      state: 'failed',
      exitCode: st.exitCode,
      signal: st.signal,
      reason: failureReason(st, view, true),
      host: st.host,
      endedAt: st.time,
      goneSince: undefined,
    });
  }
  const started = st?.state === 'running' ? { host: st.host, startedAt: rec.startedAt ?? st.time } : {};
  if (view.kind === 'orphaned') {
    return clean({ ...base, state: 'new', reason: 'interrupted', goneSince: undefined, job: rec.job });
  }
  if (view.kind === 'waiting' && view.reason === 'DependencyNeverSatisfied') {
    return clean({
      ...base,
      state: 'failed',
      reason: 'a task it depends on failed (DependencyNeverSatisfied); it will never start',
      endedAt: nowIso,
      goneSince: undefined,
    });
  }
  if (view.kind === 'waiting')
    return clean({ ...base, ...started, state: st ? 'running' : 'pending', goneSince: undefined });
  if (view.kind === 'running') return clean({ ...base, ...started, state: 'running', goneSince: undefined });
  // Ended or unknown without a final status.
  if (view.kind === 'ended' && view.state !== 'COMPLETED') {
    return clean({
      ...base,
      ...started,
      state: 'failed',
      exitCode: view.exitCode,
      reason: failureReason(null, view, st !== null || rec.startedAt !== undefined),
      endedAt: nowIso,
      goneSince: undefined,
    });
  }
  const goneSince = rec.goneSince ?? nowIso;
  if (Date.parse(nowIso) - Date.parse(goneSince) >= graceMs) {
    const reason =
      view.kind === 'ended'
        ? 'the scheduler reports it completed but its status file never appeared (is the output folder on a shared filesystem?)'
        : failureReason(null, view, true);
    return clean({ ...base, ...started, state: 'failed', reason, endedAt: nowIso, goneSince: undefined });
  }
  return clean({ ...base, ...started, goneSince });
}

/** Drop keys whose value is undefined so that records compare and serialize cleanly. */
function clean(rec: TaskRecord): TaskRecord {
  const out = { ...rec } as Record<string, unknown>;
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out as TaskRecord;
}

/**
 * Combine a group's earlier state with the tasks asked for now: a task with the same id and the
 * same arguments keeps its record (done stays done); anything else starts as new. Order follows
 * `tasks`, which fixes each task's array index.
 */
export function mergeTasks(
  prev: JobGroupState | null,
  name: string,
  executor: string,
  tasks: readonly TaskSpec[],
  nowIso: string,
): JobGroupState {
  const old = new Map((prev?.tasks ?? []).map((t) => [t.id, t]));
  const records = tasks.map((t): TaskRecord => {
    const o = old.get(t.id);
    if (o && sameArgs(o.args, t.args)) return o;
    return { id: t.id, args: [...t.args], state: 'new', attempt: o?.attempt ?? 0 };
  });
  return {
    schema: JOB_STATE_SCHEMA,
    name,
    executor,
    createdAt: prev?.createdAt ?? nowIso,
    updatedAt: nowIso,
    tasks: records,
    submissions: prev?.submissions ?? [],
  };
}

function sameArgs(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Indices of the tasks to submit now: never run (or interrupted), plus failed ones when retrying. */
export function selectForSubmission(state: JobGroupState, retryFailed: boolean): number[] {
  const out: number[] = [];
  state.tasks.forEach((t, i) => {
    if (t.state === 'new' || (retryFailed && t.state === 'failed')) out.push(i);
  });
  return out;
}

/** Record a submission: the chosen tasks become pending under `<job>_<index>`. */
export function applySubmission(
  state: JobGroupState,
  indices: readonly number[],
  job: string,
  executor: string,
  nowIso: string,
  dependency?: string,
): JobGroupState {
  const chosen = new Set(indices);
  const tasks = state.tasks.map(
    (t, i): TaskRecord =>
      chosen.has(i) ? { id: t.id, args: t.args, state: 'pending', attempt: t.attempt + 1, job: `${job}_${i}` } : t,
  );
  const submission: Submission = {
    job,
    executor,
    taskIds: indices.map((i) => state.tasks[i]!.id),
    indices: [...indices],
    submittedAt: nowIso,
    ...(dependency ? { dependency } : {}),
  };
  return { ...state, executor, updatedAt: nowIso, tasks, submissions: [...state.submissions, submission] };
}

export interface TaskCounts {
  new: number;
  pending: number;
  running: number;
  done: number;
  failed: number;
}

export function countTasks(tasks: readonly TaskRecord[]): TaskCounts {
  const c: TaskCounts = { new: 0, pending: 0, running: 0, done: 0, failed: 0 };
  for (const t of tasks) c[t.state]++;
  return c;
}

/** Scheduler job ids (without task index) that still have active tasks. */
export function activeJobIds(tasks: readonly TaskRecord[]): string[] {
  const ids = new Set<string>();
  for (const t of tasks) if (isActive(t.state) && t.job) ids.add(t.job.replace(/_\d+$/, ''));
  return [...ids];
}

export function jobStatePath(jobDir: string): string {
  return join(jobDir, 'state.json');
}

export function readJobState(jobDir: string): JobGroupState | null {
  const p = jobStatePath(jobDir);
  if (!existsSync(p)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(p, 'utf8'));
  } catch (err) {
    throw new InputError(`${p}: not valid JSON (${(err as Error).message}); remove the file to start the group afresh`);
  }
  const r = jobGroupStateSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new InputError(
      `${p}: field ${issue?.path.join('.') || '(root)'}: ${issue?.message}; expected an ${JOB_STATE_SCHEMA} job state`,
    );
  }
  return r.data;
}

export function writeJobState(jobDir: string, state: JobGroupState): void {
  writeFileAtomic(jobStatePath(jobDir), `${JSON.stringify(state, null, 2)}\n`);
}
