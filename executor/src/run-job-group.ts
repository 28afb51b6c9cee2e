/**
 * Run a job group: merge with the state an earlier run left in the output folder, follow tasks
 * that are still queued, write the job script, submit what needs running, and (unless told not to
 * wait) follow every task to its end with a live progress line. Failures are reported as they
 * happen, each with its log file; the caller decides what a failure means for its command.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '@orthostim/protocol';
import { writeFileAtomic } from '@orthostim/protocol/node';
import { RunInterruptedError, type Executor, type ExecutorSettings } from './executor';
import { createExecutor } from './executors';
import {
  activeJobIds,
  applySubmission,
  countTasks,
  isActive,
  mergeTasks,
  nextTaskRecord,
  readJobState,
  selectForSubmission,
  writeJobState,
  type JobGroupState,
  type TaskRecord,
} from './job-state';
import { renderJobScript, type TaskProgram } from './job-script';
import { createProgressLine, formatProgressLine, type ProgressLine } from './progress-line';
import { checkGroupName, checkTasks, type TaskSpec } from './task-spec';
import { clearTaskStatus, readTaskStatus, taskLogPath } from './task-status';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The ordinary orthostim command line of this checkout, with the running Node binary. Tasks run in
 * the folder the command was given in, so relative paths on the user's command line (the BIDS
 * folder, --stimuli) mean the same in every task.
 */
export function defaultProgram(): TaskProgram {
  return { node: process.execPath, entry: join(REPO_ROOT, 'bin', 'orthostim.js'), cwd: process.cwd() };
}

export interface JobGroupSpec {
  /** Group name: lowercase, digits, '-' (`analyze-participant`, `synthesize-seeds`). */
  name: string;
  /** Output folder; the group lives in `<outputDir>/.orthostim-jobs/<name>/`. */
  outputDir: string;
  tasks: readonly TaskSpec[];
  /** Default: node + bin/orthostim.js of this checkout. */
  program?: TaskProgram;
  /** Scheduler task names that must succeed first (SLURM `afterok`). */
  after?: readonly string[];
  /** Called for each task just before it is (re)submitted, e.g. to clear a failed attempt's leftovers. */
  prepareTask?(task: TaskSpec): void;
}

export interface JobGroupHooks {
  /** Aborting stops following (local tasks are stopped and marked for rerun; SLURM jobs go on). */
  signal?: AbortSignal;
  progress?: ProgressLine;
  now?: () => Date;
  /** Replace the executor (tests). */
  executor?: Executor;
}

export interface JobGroupResult {
  jobDir: string;
  scriptPath: string;
  state: JobGroupState;
  /** The submission this run made (null: nothing needed running). */
  submitted: { job: string; taskIds: string[] } | null;
  done: TaskRecord[];
  failed: TaskRecord[];
  /** Still queued or running (only when not waiting). */
  active: TaskRecord[];
}

export function jobGroupDir(outputDir: string, name: string): string {
  return join(resolve(outputDir), '.orthostim-jobs', name);
}

/** Where to read why a task failed: its own log and, under SLURM, the scheduler's output file. */
export function taskLogs(jobDir: string, rec: TaskRecord): string[] {
  const logs = [taskLogPath(jobDir, rec.id)];
  if (rec.job && /^\d+_\d+$/.test(rec.job)) {
    const slurmOut = join(jobDir, 'logs', `slurm-${rec.job}.out`);
    if (existsSync(slurmOut) && statSync(slurmOut).size > 0) logs.push(slurmOut);
  }
  return logs;
}

export function describeFailure(jobDir: string, rec: TaskRecord): string {
  return `${rec.id} failed (${rec.reason ?? 'no reason recorded'}${rec.job ? `, ${rec.job}` : ''}); log: ${taskLogs(jobDir, rec).join(', ')}`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((res) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      res();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Refresh active tasks from their status files and the executor's view; report new failures. */
async function refresh(
  executor: Executor,
  jobDir: string,
  state: JobGroupState,
  nowIso: string,
  graceMs: number,
  onFail: (rec: TaskRecord) => void,
): Promise<JobGroupState> {
  const active = state.tasks.filter((t) => isActive(t.state) && t.job);
  if (active.length === 0) return state;
  const views = await executor.observe(active.map((t) => t.job!));
  const tasks = state.tasks.map((t) => {
    if (!isActive(t.state) || !t.job) return t;
    const next = nextTaskRecord(
      t,
      readTaskStatus(jobDir, t.id),
      views.get(t.job) ?? { kind: 'unknown' },
      nowIso,
      graceMs,
    );
    if (next.state === 'failed') onFail(next);
    return next;
  });
  return { ...state, tasks, updatedAt: nowIso };
}

/**
 * Bring a group's saved state up to date (status files, the scheduler's view) without submitting
 * anything; null when the group has never run in this output folder.
 */
export async function refreshJobGroup(
  outputDir: string,
  name: string,
  settings: ExecutorSettings,
  hooks: JobGroupHooks = {},
): Promise<JobGroupState | null> {
  const jobDir = jobGroupDir(outputDir, name);
  const prev = readJobState(jobDir);
  if (!prev) return null;
  if (!prev.tasks.some((t) => isActive(t.state))) return prev;
  const executor =
    hooks.executor ?? createExecutor({ ...settings, executor: prev.executor as ExecutorSettings['executor'] });
  const now = (hooks.now ? hooks.now() : new Date()).toISOString();
  const state = await refresh(
    executor,
    jobDir,
    prev,
    now,
    settings.graceMs ?? Math.max(30_000, 3 * executor.pollIntervalMs),
    () => {},
  );
  writeJobState(jobDir, state);
  return state;
}

/** What the steps of a job group share. */
interface GroupRun {
  spec: JobGroupSpec;
  settings: ExecutorSettings;
  hooks: JobGroupHooks;
  executor: Executor;
  jobDir: string;
  scriptPath: string;
  graceMs: number;
  progress: ProgressLine;
  now: () => string;
  reportFailure: (rec: TaskRecord) => void;
}

function startGroupRun(spec: JobGroupSpec, settings: ExecutorSettings, hooks: JobGroupHooks): GroupRun {
  checkGroupName(spec.name);
  checkTasks(spec.tasks);
  const executor = hooks.executor ?? createExecutor(settings);
  if (!(settings.wait ?? true) && !executor.detached)
    throw new UsageError(
      `--no-wait needs an executor whose tasks outlive this command (slurm); got --executor ${executor.name}`,
    );
  const progress = hooks.progress ?? createProgressLine();
  const jobDir = jobGroupDir(spec.outputDir, spec.name);
  mkdirSync(join(jobDir, 'status'), { recursive: true });
  mkdirSync(join(jobDir, 'logs'), { recursive: true });
  return {
    spec,
    settings,
    hooks,
    executor,
    jobDir,
    scriptPath: join(jobDir, 'job.sh'),
    graceMs: settings.graceMs ?? Math.max(30_000, 3 * executor.pollIntervalMs),
    progress,
    now: () => (hooks.now ? hooks.now() : new Date()).toISOString(),
    reportFailure: (rec) => progress.message(`orthostim: task ${describeFailure(jobDir, rec)}`),
  };
}

/** Step 1, the earlier state: follow what is still queued on a scheduler that outlives its runner. */
async function earlierState(run: GroupRun): Promise<JobGroupState> {
  const { spec, settings, executor, jobDir } = run;
  const prev = readJobState(jobDir);
  let state = mergeTasks(prev, spec.name, executor.name, spec.tasks, run.now());
  const stillQueued = state.tasks.filter((t) => isActive(t.state));
  if (stillQueued.length > 0 && prev && prev.executor !== executor.name) {
    const prevExecutor = createExecutor({ ...settings, executor: prev.executor as ExecutorSettings['executor'] });
    if (prevExecutor.detached) {
      throw new UsageError(
        `${jobDir}: ${stillQueued.length} task(s) of this group are still with --executor ${prev.executor} (job ${activeJobIds(stillQueued).join(', ')}); rerun with --executor ${prev.executor} to follow them, or cancel them first`,
      );
    }
    // Their runner is gone with its process: run them again here.
    state = {
      ...state,
      tasks: state.tasks.map(
        (t): TaskRecord =>
          isActive(t.state) ? { id: t.id, args: t.args, state: 'new', attempt: t.attempt, reason: 'interrupted' } : t,
      ),
    };
  }
  return refresh(executor, jobDir, state, run.now(), run.graceMs, run.reportFailure);
}

/** Step 2: write the job script and submit what needs running. */
async function submitPending(
  run: GroupRun,
  state: JobGroupState,
): Promise<{ state: JobGroupState; submitted: JobGroupResult['submitted'] }> {
  const { spec, settings, executor, jobDir, scriptPath } = run;
  const indices = selectForSubmission(state, settings.retryFailed ?? false);
  writeFileAtomic(
    scriptPath,
    renderJobScript({
      name: spec.name,
      jobDir,
      tasks: spec.tasks,
      program: spec.program ?? defaultProgram(),
      resources: settings.slurm,
      ...(process.env.ORTHOSTIM_JOB_SETUP ? { setup: process.env.ORTHOSTIM_JOB_SETUP } : {}),
    }),
  );
  if (indices.length === 0) return { state, submitted: null };
  for (const i of indices) {
    clearTaskStatus(jobDir, state.tasks[i]!.id);
    spec.prepareTask?.(spec.tasks[i]!);
  }
  const after = spec.after && spec.after.length > 0 ? spec.after : undefined;
  const taskIds = spec.tasks.map((t) => t.id);
  const job = await executor.submit({ name: spec.name, jobDir, scriptPath, indices, taskIds, after });
  const dependency = after ? `afterok:${after.join(':')}` : undefined;
  const next = applySubmission(state, indices, job, executor.name, run.now(), dependency);
  return { state: next, submitted: { job, taskIds: indices.map((i) => next.tasks[i]!.id) } };
}

/** Step 3: follow every task to its end, with a live progress line. */
async function followTasks(run: GroupRun, start: JobGroupState): Promise<JobGroupState> {
  const { spec, executor, jobDir, hooks, progress } = run;
  let state = start;
  const show = () =>
    progress.update(formatProgressLine(spec.name, executor.name, activeJobIds(state.tasks), countTasks(state.tasks)));
  show();
  try {
    while (state.tasks.some((t) => isActive(t.state))) {
      await sleep(executor.pollIntervalMs, hooks.signal);
      if (hooks.signal?.aborted) break;
      const before = JSON.stringify(state.tasks);
      state = await refresh(executor, jobDir, state, run.now(), run.graceMs, run.reportFailure);
      if (JSON.stringify(state.tasks) !== before) writeJobState(jobDir, state);
      show();
    }
  } finally {
    progress.stop();
  }
  if (hooks.signal?.aborted) await interrupt(executor, jobDir, state, run.now());
  return state;
}

/** Run a job group (see the module comment): the earlier state, the submission, then (unless `wait` is off) every task to its end. */
export async function runJobGroup(
  spec: JobGroupSpec,
  settings: ExecutorSettings,
  hooks: JobGroupHooks = {},
): Promise<JobGroupResult> {
  const run = startGroupRun(spec, settings, hooks);
  const { state: submittedState, submitted } = await submitPending(run, await earlierState(run));
  writeJobState(run.jobDir, submittedState);
  const state = (settings.wait ?? true) ? await followTasks(run, submittedState) : submittedState;
  return {
    jobDir: run.jobDir,
    scriptPath: run.scriptPath,
    state,
    submitted,
    done: state.tasks.filter((t) => t.state === 'done'),
    failed: state.tasks.filter((t) => t.state === 'failed'),
    active: state.tasks.filter((t) => isActive(t.state)),
  };
}

/** Ctrl-C while following: local tasks stop and will rerun; SLURM tasks keep going. */
async function interrupt(executor: Executor, jobDir: string, state: JobGroupState, nowIso: string): Promise<never> {
  if (executor.detached) {
    writeJobState(jobDir, state);
    const jobs = activeJobIds(state.tasks);
    throw new RunInterruptedError(
      `interrupted; ${jobs.length > 0 ? `SLURM job ${jobs.join(', ')} keeps running: rerun the same command to follow it, or scancel ${jobs.join(' ')}` : 'nothing is left running'}`,
    );
  }
  await executor.stop();
  // Tasks that finished before the stop keep their result; the ones stopped will run again.
  const tasks = state.tasks.map((t): TaskRecord => {
    if (!isActive(t.state)) return t;
    const st = readTaskStatus(jobDir, t.id);
    if (st?.state === 'done' && st.job === t.job)
      return { ...t, state: 'done', exitCode: 0, host: st.host, endedAt: st.time };
    return { id: t.id, args: t.args, state: 'new', attempt: t.attempt, reason: 'interrupted' };
  });
  writeJobState(jobDir, { ...state, tasks, updatedAt: nowIso });
  const n = tasks.filter((t) => t.state === 'new' && t.reason === 'interrupted').length;
  throw new RunInterruptedError(
    `interrupted; ${n} unfinished task(s) stopped; rerun the same command to run them (finished ones are kept)`,
  );
}
