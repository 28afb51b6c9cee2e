/**
 * BIDS-Apps scale-out: one task per participant, each the ordinary participant command with
 * `--participant-label <label>`, all writing into the same output folder; then the group step,
 * which under SLURM is queued to start only after every participant task has succeeded.
 */
import { UsageError } from '@orthostim/protocol';
import type { ExecutorSettings } from './executor';
import { isActive } from './job-state';
import type { TaskProgram } from './job-script';
import { EXECUTOR_FLAG_ARITY, stripArgs, type FlagArity } from './cli-options';
import {
  describeFailure,
  jobGroupDir,
  refreshJobGroup,
  runJobGroup,
  type JobGroupHooks,
  type JobGroupResult,
} from './run-job-group';

export const PARTICIPANT_GROUP = 'analyze-participant';
export const GROUP_STEP_GROUP = 'analyze-group';

/**
 * A participant task's command line: the user's (`analyze <bids> <out> participant ...`) without
 * the executor flags and the participant list, plus `--participant-label <label>`.
 */
export function participantTaskArgs(
  argv: readonly string[],
  label: string,
  drop: Readonly<Record<string, FlagArity>> = {},
): string[] {
  return [
    ...stripArgs(argv, { ...EXECUTOR_FLAG_ARITY, '--participant-label': 'variadic', ...drop }),
    '--participant-label',
    label,
  ];
}

/** The group step's command line: the user's without the executor flags. */
export function groupTaskArgs(argv: readonly string[], drop: Readonly<Record<string, FlagArity>> = {}): string[] {
  return stripArgs(argv, { ...EXECUTOR_FLAG_ARITY, ...drop });
}

export interface ParticipantJobsRequest {
  outputDir: string;
  /** Participant labels without `sub-`. */
  labels: readonly string[];
  /** orthostim arguments of one participant's task (see participantTaskArgs). */
  argsFor(label: string): string[];
  settings: ExecutorSettings;
  program?: TaskProgram;
  hooks?: JobGroupHooks;
  /** Group name (default analyze-participant). */
  name?: string;
}

export function runParticipantJobs(request: ParticipantJobsRequest): Promise<JobGroupResult> {
  if (request.labels.length === 0) throw new UsageError('no participants to run');
  return runJobGroup(
    {
      name: request.name ?? PARTICIPANT_GROUP,
      outputDir: request.outputDir,
      tasks: request.labels.map((label) => ({ id: `sub-${label}`, args: request.argsFor(label) })),
      ...(request.program ? { program: request.program } : {}),
    },
    request.settings,
    request.hooks,
  );
}

export interface GroupJobRequest {
  outputDir: string;
  /** orthostim arguments of the group step (see groupTaskArgs). */
  args: string[];
  settings: ExecutorSettings;
  program?: TaskProgram;
  hooks?: JobGroupHooks;
  /** Name of the participant group it follows (default analyze-participant). */
  after?: string;
  name?: string;
}

/**
 * The scheduler task names the group step must wait for: participant tasks still queued or
 * running. Refuses when a participant failed or never ran, naming them.
 */
export async function participantDependencies(
  outputDir: string,
  settings: ExecutorSettings,
  participantGroup = PARTICIPANT_GROUP,
): Promise<string[]> {
  const jobDir = jobGroupDir(outputDir, participantGroup);
  const state = await refreshJobGroup(outputDir, participantGroup, settings);
  if (!state) return []; // participants were run without an executor: nothing to wait for
  const failed = state.tasks.filter((t) => t.state === 'failed');
  if (failed.length > 0) {
    throw new UsageError(
      `group step: ${failed.length} participant task(s) failed: ${failed.map((t) => describeFailure(jobDir, t)).join('; ')}; rerun the participant step with --retry-failed first`,
    );
  }
  const notRun = state.tasks.filter((t) => t.state === 'new');
  if (notRun.length > 0)
    throw new UsageError(
      `group step: participant task(s) ${notRun.map((t) => t.id).join(', ')} have not run yet; run the participant step first`,
    );
  return state.tasks.filter((t) => isActive(t.state) && t.job).map((t) => t.job!);
}

/** Run (or queue) the group step after the participant tasks. */
export async function runGroupJob(request: GroupJobRequest): Promise<JobGroupResult> {
  const after = await participantDependencies(request.outputDir, request.settings, request.after ?? PARTICIPANT_GROUP);
  if (after.length > 0 && request.settings.executor !== 'slurm') {
    throw new UsageError(
      `group step: participant task(s) ${after.join(', ')} are still queued or running; wait for them, or queue the group step behind them with --executor slurm`,
    );
  }
  return runJobGroup(
    {
      name: request.name ?? GROUP_STEP_GROUP,
      outputDir: request.outputDir,
      tasks: [{ id: 'group', args: request.args }],
      after,
      ...(request.program ? { program: request.program } : {}),
    },
    request.settings,
    request.hooks,
  );
}
