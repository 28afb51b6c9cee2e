/**
 * @orthostim/executor/cli: the executor flags every scaled-out command shares (`--executor`,
 * `--n-jobs`, `--slurm-*`, `--no-wait`, `--retry-failed`), their validation into
 * `ExecutorSettings`, the child command line a task runs (the user's, minus these flags), and the
 * end-of-run report.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { parse as parseShellWords } from 'shell-quote';
import { UsageError, describeValue } from '@orthostim/protocol';
import { info, parsePositiveInt } from '@orthostim/protocol/cli';
import { EXECUTOR_NAMES, TasksFailedError, type ExecutorName, type ExecutorSettings } from './executor';
import { describeFailure, type JobGroupResult } from './run-job-group';

const SLURM_TIME = /^(\d+-\d{1,2}(:\d{1,2}){0,2}|\d+(:\d{1,2}){0,2})$/;
const SLURM_MEM = /^\d+[KMGT]?$/i;
const SLURM_NAME = /^[A-Za-z0-9_.,+-]+$/;

function matching(flag: string, re: RegExp, expected: string) {
  return (value: string): string => {
    if (!re.test(value)) throw new InvalidArgumentError(`${flag} must be ${expected}; got "${value}"`);
    return value;
  };
}

/** Split `--slurm-extra` into words as a shell would (shell-quote), each an sbatch option. */
export function splitExtraArgs(text: string): string[] {
  const unclosed = /^(?:[^"']|"[^"]*"|'[^']*')*(["'])[^"']*$/.exec(text)?.[1];
  if (unclosed) throw new UsageError(`--slurm-extra: unclosed ${unclosed} in ${describeValue(text)}`);
  // Variables stay as written: sbatch options are passed on without a shell.
  const words = parseShellWords(text, (name) => `$${name}`).map((entry) => {
    if (typeof entry === 'string') return entry;
    if ('op' in entry && entry.op === 'glob') return entry.pattern;
    throw new UsageError(`--slurm-extra: shell operators and comments are not allowed; got ${describeValue(text)}`);
  });
  for (const w of words) {
    if (!w.startsWith('-'))
      throw new UsageError(
        `--slurm-extra: every word must be an sbatch option such as --qos=short; got ${describeValue(w)} in ${describeValue(text)}`,
      );
    if (/^--?(a|array|dependency|d|parsable|output|o|job-name|J)(=|$)/.test(w)) {
      throw new UsageError(
        `--slurm-extra: ${describeValue(w)} is set by orthostim itself (array, dependency, job name, output); leave it out`,
      );
    }
  }
  return words;
}

/** Option factories: one definition per flag, shared by every command that scales out. */
export const executorOptions = {
  executor: () =>
    new Option(
      '--executor <name>',
      'run the work as separate tasks: local (parallel processes here) or slurm (one array job on the cluster)',
    ).choices([...EXECUTOR_NAMES]),
  nJobs: () =>
    new Option(
      '--n-jobs <n>',
      'local: tasks at once (default: CPU count); slurm: most array tasks running at once (the %N of --array)',
    ).argParser(parsePositiveInt('--n-jobs')),
  slurmPartition: () =>
    new Option('--slurm-partition <name>', 'SLURM partition (sbatch --partition)').argParser(
      matching('--slurm-partition', SLURM_NAME, 'a partition name'),
    ),
  slurmTime: () =>
    new Option(
      '--slurm-time <limit>',
      'time limit per task (sbatch --time: minutes, HH:MM:SS or D-HH:MM:SS)',
    ).argParser(matching('--slurm-time', SLURM_TIME, 'minutes, MM:SS, HH:MM:SS, D-HH or D-HH:MM:SS')),
  slurmMem: () =>
    new Option('--slurm-mem <size>', 'memory per task (sbatch --mem, e.g. 8G)').argParser(
      matching('--slurm-mem', SLURM_MEM, 'a size such as 8G, 500M or 4096'),
    ),
  slurmCpus: () =>
    new Option('--slurm-cpus <n>', 'CPUs per task (sbatch --cpus-per-task)').argParser(
      parsePositiveInt('--slurm-cpus'),
    ),
  slurmAccount: () =>
    new Option('--slurm-account <name>', 'account to charge (sbatch --account)').argParser(
      matching('--slurm-account', SLURM_NAME, 'an account name'),
    ),
  slurmExtra: () =>
    new Option(
      '--slurm-extra <options>',
      'more sbatch options, passed as given (e.g. --slurm-extra="--qos=short --constraint=avx2")',
    ),
  noWait: () => new Option('--no-wait', 'submit, print the job id and return without following the tasks (slurm)'),
  retryFailed: () =>
    new Option(
      '--retry-failed',
      'resubmit the tasks that failed or were cancelled in an earlier run (done ones are always skipped)',
    ),
};

/** Add every executor flag to a command. */
export function addExecutorOptions(cmd: Command): Command {
  for (const make of Object.values(executorOptions)) cmd.addOption(make());
  return cmd;
}

/** How many values each executor flag takes on a command line (for `stripArgs`). */
export const EXECUTOR_FLAG_ARITY: Readonly<Record<string, number>> = {
  '--executor': 1,
  '--n-jobs': 1,
  '--slurm-partition': 1,
  '--slurm-time': 1,
  '--slurm-mem': 1,
  '--slurm-cpus': 1,
  '--slurm-account': 1,
  '--slurm-extra': 1,
  '--no-wait': 0,
  '--retry-failed': 0,
};

/** Arity 'variadic': the flag takes every following word up to the next `-`-word. */
export type FlagArity = number | 'variadic';

/**
 * Remove flags (and their values) from a command line: what a task runs is the user's command
 * without the executor flags and without what the task sets itself (`--participant-label`,
 * `--seed`). `--flag=value` forms are removed too; `--` ends the flags.
 */
export function stripArgs(argv: readonly string[], arity: Readonly<Record<string, FlagArity>>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const n = arity[flag];
    if (n === undefined) {
      out.push(a);
      continue;
    }
    if (flag !== a) continue; // --flag=value
    if (n === 'variadic') while (i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) i++;
    else i += n;
  }
  return out;
}

interface ExecutorOptionValues {
  executor?: string;
  nJobs?: number;
  slurmPartition?: string;
  slurmTime?: string;
  slurmMem?: string;
  slurmCpus?: number;
  slurmAccount?: string;
  slurmExtra?: string;
  wait?: boolean;
  retryFailed?: boolean;
}

/**
 * The executor settings from parsed options; undefined when `--executor` is not given (the
 * command then runs in-process as before). Flags that need an executor are refused without one.
 */
export function readExecutorSettings(parsed: object): ExecutorSettings | undefined {
  const opts = parsed as ExecutorOptionValues;
  const slurmFlags = (
    [
      ['slurmPartition', '--slurm-partition'],
      ['slurmTime', '--slurm-time'],
      ['slurmMem', '--slurm-mem'],
      ['slurmCpus', '--slurm-cpus'],
      ['slurmAccount', '--slurm-account'],
      ['slurmExtra', '--slurm-extra'],
    ] as const
  ).filter(([k]) => opts[k] !== undefined);
  if (opts.executor === undefined) {
    const stray = [
      ...slurmFlags.map(([, f]) => f),
      ...(opts.nJobs !== undefined ? ['--n-jobs'] : []),
      ...(opts.wait === false ? ['--no-wait'] : []),
      ...(opts.retryFailed ? ['--retry-failed'] : []),
    ];
    if (stray.length > 0)
      throw new UsageError(`${stray.join(', ')} need${stray.length === 1 ? 's' : ''} --executor local|slurm`);
    return undefined;
  }
  if (!(EXECUTOR_NAMES as readonly string[]).includes(opts.executor))
    throw new UsageError(`--executor must be one of ${EXECUTOR_NAMES.join(', ')}; got ${describeValue(opts.executor)}`);
  const executor = opts.executor as ExecutorName;
  if (executor !== 'slurm' && slurmFlags.length > 0)
    throw new UsageError(
      `${slurmFlags.map(([, f]) => f).join(', ')} need --executor slurm; got --executor ${executor}`,
    );
  if (executor !== 'slurm' && opts.wait === false)
    throw new UsageError(
      `--no-wait needs --executor slurm (local tasks end with this command); got --executor ${executor}`,
    );
  return {
    executor,
    ...(opts.nJobs !== undefined ? { nJobs: opts.nJobs } : {}),
    wait: opts.wait !== false,
    retryFailed: opts.retryFailed === true,
    slurm: {
      ...(opts.slurmPartition ? { partition: opts.slurmPartition } : {}),
      ...(opts.slurmTime ? { time: opts.slurmTime } : {}),
      ...(opts.slurmMem ? { mem: opts.slurmMem } : {}),
      ...(opts.slurmCpus ? { cpus: opts.slurmCpus } : {}),
      ...(opts.slurmAccount ? { account: opts.slurmAccount } : {}),
      ...(opts.slurmExtra ? { extra: splitExtraArgs(opts.slurmExtra) } : {}),
    },
  };
}

/** Run `fn` with an AbortSignal that Ctrl-C (and SIGTERM) trips, instead of killing the runner. */
export async function withInterrupt<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(ac.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Say how a group went: with --no-wait the job id on stdout (for scripts); failures as one error
 * naming each failed task with its log and the way to retry.
 */
export function reportJobGroup(result: JobGroupResult, wait: boolean): void {
  const total = result.state.tasks.length;
  if (!wait) {
    if (result.submitted) process.stdout.write(`${result.submitted.job}\n`);
    info(
      result.submitted
        ? `submitted ${result.submitted.taskIds.length} task(s) as job ${result.submitted.job}; job script ${result.scriptPath}; rerun the same command to follow it`
        : `nothing to submit: ${result.done.length} of ${total} task(s) done, ${result.active.length} still queued or running`,
    );
  } else if (!result.submitted && result.failed.length === 0) {
    info(`all ${total} task(s) done (state in ${result.jobDir})`);
  }
  if (result.failed.length > 0 && !wait) {
    info(
      `${result.failed.length} task(s) failed earlier and were not resubmitted (add --retry-failed): ${result.failed.map((t) => describeFailure(result.jobDir, t)).join('; ')}`,
    );
  } else if (result.failed.length > 0) {
    throw new TasksFailedError(
      `${result.failed.length} of ${total} task(s) failed: ${result.failed.map((t) => describeFailure(result.jobDir, t)).join('; ')}; rerun with --retry-failed to resubmit only those`,
    );
  }
}
