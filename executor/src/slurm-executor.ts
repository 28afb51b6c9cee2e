/**
 * The `slurm` executor: one array job per submission (`sbatch --parsable --array=...`), followed
 * with `squeue` (states of queued, running and recently ended tasks), `scontrol show job` (exit
 * codes of ended ones) and, where the cluster keeps an accounting database, `sacct` for tasks the
 * controller has already forgotten. Resources are `#SBATCH` lines in the job script itself, so a
 * user can resubmit it by hand with the same settings.
 */
import { SchedulerError, defaultPollIntervalMs, type Executor, type SubmitRequest } from './executor';
import type { SchedulerView } from './job-state';
import { runCommand, type CommandResult, type CommandRunner } from './run-command';
import {
  SQUEUE_FORMAT,
  isActiveState,
  isWaitingState,
  parseSacct,
  parseSbatchParsable,
  parseScontrolJobs,
  parseSqueue,
  taskKey,
  type SchedulerRecord,
} from './slurm-output';
import { formatIndexRanges } from './task-spec';

export interface SlurmExecutorOptions {
  nJobs?: number;
  env?: NodeJS.ProcessEnv;
  pollIntervalMs?: number;
  run?: CommandRunner;
}

/** The `sbatch` arguments of one submission (pure: what the runner would type). */
export function sbatchArgs(request: Pick<SubmitRequest, 'indices' | 'after' | 'scriptPath'>, nJobs?: number): string[] {
  const array = `${formatIndexRanges(request.indices)}${nJobs ? `%${nJobs}` : ''}`;
  const args = ['--parsable', `--array=${array}`];
  // Without --kill-on-invalid-dep a task whose dependency failed would wait forever.
  if (request.after && request.after.length > 0)
    args.push(`--dependency=afterok:${request.after.join(':')}`, '--kill-on-invalid-dep=yes');
  args.push(request.scriptPath);
  return args;
}

/** A scheduler record as the runner sees it. */
export function viewOf(rec: SchedulerRecord): SchedulerView {
  if (isWaitingState(rec.state)) return { kind: 'waiting', ...(rec.reason ? { reason: rec.reason } : {}) };
  if (isActiveState(rec.state)) return { kind: 'running' };
  return {
    kind: 'ended',
    state: rec.state,
    ...(rec.exitCode !== undefined ? { exitCode: rec.exitCode } : {}),
    ...(rec.signal !== undefined ? { signal: rec.signal } : {}),
    ...(rec.reason ? { reason: rec.reason } : {}),
  };
}

export class SlurmExecutor implements Executor {
  readonly name = 'slurm' as const;
  readonly detached = true;
  readonly pollIntervalMs: number;
  private readonly run: CommandRunner;
  private readonly env: NodeJS.ProcessEnv;
  private readonly nJobs?: number;
  private sacctAvailable = true;

  constructor(options: SlurmExecutorOptions = {}) {
    this.env = options.env ?? process.env;
    this.run = options.run ?? runCommand;
    this.nJobs = options.nJobs;
    this.pollIntervalMs = options.pollIntervalMs ?? defaultPollIntervalMs('slurm', this.env);
  }

  private async call(command: string, args: readonly string[]): Promise<CommandResult> {
    try {
      return await this.run(command, args, this.env);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') {
        throw new SchedulerError(
          `${command}: not found on PATH; --executor slurm needs SLURM's client commands (run it on a cluster login node, or use --executor local)`,
        );
      }
      throw err;
    }
  }

  async submit(request: SubmitRequest): Promise<string> {
    const args = sbatchArgs(request, this.nJobs);
    const r = await this.call('sbatch', args);
    if (r.code !== 0) {
      const why = (r.stderr || r.stdout).trim().split('\n').pop() ?? '';
      throw new SchedulerError(`sbatch ${args.join(' ')} failed (exit ${r.code}): ${why}`);
    }
    return parseSbatchParsable(r.stdout);
  }

  async observe(attempts: readonly string[]): Promise<Map<string, SchedulerView>> {
    const views = new Map<string, SchedulerView>();
    if (attempts.length === 0) return views;
    const jobIds = [...new Set(attempts.map((a) => a.replace(/_\d+$/, '')))];
    const q = await this.call('squeue', ['-h', '-r', '-t', 'all', '-j', jobIds.join(','), '-o', SQUEUE_FORMAT]);
    // squeue exits 1 with "Invalid job id" once every listed job has been purged.
    const listed = q.code === 0 ? parseSqueue(q.stdout) : [];
    if (q.code !== 0 && !/invalid job id/i.test(q.stderr))
      throw new SchedulerError(`squeue failed (exit ${q.code}): ${q.stderr.trim()}`);
    const byKey = new Map(listed.map((r) => [taskKey(r.jobId, r.index), r]));
    const wanted = new Set(attempts);
    // Exit codes of ended tasks come from scontrol (squeue has none).
    const endedJobs = new Set<string>();
    for (const a of attempts) {
      const r = byKey.get(a);
      if (r && !isActiveState(r.state)) endedJobs.add(r.jobId);
    }
    for (const job of endedJobs) {
      const s = await this.call('scontrol', ['show', 'job', '-o', job]);
      if (s.code === 0)
        for (const r of parseScontrolJobs(s.stdout))
          if (wanted.has(taskKey(r.jobId, r.index))) byKey.set(taskKey(r.jobId, r.index), r);
    }
    const missing = attempts.filter((a) => !byKey.has(a));
    if (missing.length > 0 && this.sacctAvailable) {
      const missingJobs = [...new Set(missing.map((a) => a.replace(/_\d+$/, '')))];
      const s = await this.call('sacct', [
        '-n',
        '-P',
        '-X',
        '-j',
        missingJobs.join(','),
        '-o',
        'JobID,State,ExitCode',
      ]).catch(() => null);
      if (!s || s.code !== 0)
        this.sacctAvailable = false; // no accounting database: optional
      else for (const r of parseSacct(s.stdout)) byKey.set(taskKey(r.jobId, r.index), r);
    }
    for (const a of attempts) {
      const r = byKey.get(a);
      views.set(a, r ? viewOf(r) : { kind: 'unknown' });
    }
    return views;
  }

  async stop(): Promise<void> {
    // Array jobs belong to the cluster: an interrupted runner leaves them queued; a rerun follows them.
  }
}
