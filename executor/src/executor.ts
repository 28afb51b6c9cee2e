/**
 * The executor abstraction: where a job group's tasks run. Both implementations start the same job
 * script (job-script.ts) once per task index and report what they know about each attempt; the
 * status files the script writes do the rest (run-job-group.ts).
 */
import { OrthostimError } from '@orthostim/protocol';
import type { SchedulerView } from './job-state';
import type { SlurmResources } from './job-script';

export const EXECUTOR_NAMES = ['local', 'slurm'] as const;
export type ExecutorName = (typeof EXECUTOR_NAMES)[number];

/** How and where to run a group, as the command line gives it. */
export interface ExecutorSettings {
  executor: ExecutorName;
  /** local: tasks at once (default: CPU count); slurm: array tasks running at once (`%N`). */
  nJobs?: number;
  slurm?: SlurmResources;
  /** Follow the tasks until all have ended (default true; false only submits: slurm only). */
  wait?: boolean;
  /** Resubmit tasks that failed or were cancelled in an earlier run. */
  retryFailed?: boolean;
  /** Milliseconds between looks at the tasks (default: local 500, slurm 5000, or $ORTHOSTIM_POLL_MS). */
  pollIntervalMs?: number;
  /** How long a task may be gone from the queue without a final status before it counts as failed. */
  graceMs?: number;
  /** Environment for the scheduler's commands and local tasks (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface SubmitRequest {
  /** Group name (the SLURM job name is `orthostim-<name>`). */
  name: string;
  jobDir: string;
  scriptPath: string;
  /** Array indices to run. */
  indices: readonly number[];
  /** Task id of every index of the script (for local log files). */
  taskIds: readonly string[];
  /** Scheduler task names (`12_3`) that must end successfully before these start. */
  after?: readonly string[];
}

export interface Executor {
  readonly name: ExecutorName;
  /** Tasks outlive this process: `--no-wait` is possible and a rerun can follow them. */
  readonly detached: boolean;
  readonly pollIntervalMs: number;
  /** Start the tasks; returns the job id (attempt names are `<job>_<index>`). */
  submit(request: SubmitRequest): Promise<string>;
  /** What is known about the given attempts (`<job>_<index>`), keyed by attempt name. */
  observe(attempts: readonly string[]): Promise<Map<string, SchedulerView>>;
  /** Stop what this process started (a local run on Ctrl-C); SLURM jobs are left to the cluster. */
  stop(): Promise<void>;
}

/** The scheduler refused or failed a request (bad partition, account, time limit; daemon down). */
export class SchedulerError extends OrthostimError {
  constructor(message: string) {
    super(message, 'E_SCHEDULER', 2);
  }
}

/** Some tasks of a group failed; the message names each with its log. */
export class TasksFailedError extends OrthostimError {
  constructor(message: string) {
    super(message, 'E_TASKS_FAILED', 1);
  }
}

/** The runner was interrupted (Ctrl-C); the message says what keeps running and how to go on. */
export class RunInterruptedError extends OrthostimError {
  constructor(message: string) {
    super(message, 'E_INTERRUPTED', 130);
  }
}

export function defaultPollIntervalMs(name: ExecutorName, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = Number(env.ORTHOSTIM_POLL_MS);
  if (Number.isFinite(fromEnv) && fromEnv > 0) return fromEnv;
  return name === 'slurm' ? 5000 : 500;
}
