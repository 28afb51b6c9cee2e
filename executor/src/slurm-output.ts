/**
 * Parsers for what SLURM's commands print: `sbatch --parsable`, `squeue -h -r -t all -o
 * '%i|%T|%r'`, `scontrol show job -o` and `sacct -n -P -X -o JobID,State,ExitCode`. Pure: text in,
 * records out; tested with outputs recorded from a real slurmctld (test/fixtures/).
 */
import { parseIndexRanges } from './task-spec';

/** One job or array task as the scheduler reports it. */
export interface SchedulerRecord {
  /** The array job id (or the plain job id). */
  jobId: string;
  /** Array task index; null for a job that is not an array. */
  index: number | null;
  /** SLURM job state in capitals: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, ... */
  state: string;
  reason?: string;
  exitCode?: number;
  /** Signal that ended the batch script, when one did (ExitCode=0:15 is SIGTERM). */
  signal?: number;
}

/** The `squeue` output format the parser expects (job id with task, state, reason). */
export const SQUEUE_FORMAT = '%i|%T|%r';

/** The scheduler's name of an array task (`12_3`) or of a plain job (`12`). */
export function taskKey(jobId: string, index: number | null): string {
  return index === null ? jobId : `${jobId}_${index}`;
}

/** `sbatch --parsable` prints `<jobid>` or `<jobid>;<cluster>`. */
export function parseSbatchParsable(stdout: string): string {
  const line = stdout.trim().split('\n').pop() ?? '';
  const m = /^(\d+)(?:;\S+)?$/.exec(line.trim());
  if (!m)
    throw new Error(
      `sbatch --parsable: expected a job id like "12" or "12;cluster"; got ${JSON.stringify(stdout.trim())}`,
    );
  return m[1]!;
}

/** Split `12_[3-5%2]`, `12_4` or `12` into the job id and its task indices (null: not an array). */
function splitJobTask(id: string): { jobId: string; indices: number[] | null } {
  const m = /^(\d+)(?:_(\[[^\]]*\]|\d+))?(?:\+\d+)?$/.exec(id);
  if (!m) throw new Error(`expected a SLURM job id like 12, 12_3 or 12_[3-5]; got ${JSON.stringify(id)}`);
  return { jobId: m[1]!, indices: m[2] === undefined ? null : parseIndexRanges(m[2]) };
}

function expand(
  jobId: string,
  indices: number[] | null,
  rest: Omit<SchedulerRecord, 'jobId' | 'index'>,
): SchedulerRecord[] {
  return indices === null ? [{ jobId, index: null, ...rest }] : indices.map((index) => ({ jobId, index, ...rest }));
}

/** Parse `squeue -h [-r] -t all -o '%i|%T|%r'`; pending ranges (`12_[3-5]`) are expanded. */
export function parseSqueue(stdout: string): SchedulerRecord[] {
  const out: SchedulerRecord[] = [];
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const [id, state, reason] = line.split('|');
    if (id === undefined || state === undefined)
      throw new Error(`squeue: expected "id|state|reason" lines; got ${JSON.stringify(line)}`);
    const { jobId, indices } = splitJobTask(id);
    out.push(...expand(jobId, indices, { state: state.trim(), ...(reason && reason !== 'None' ? { reason } : {}) }));
  }
  return out;
}

/** Parse `code:signal` (ExitCode=3:0, 0:15). */
function parseExitCode(text: string | undefined): { exitCode?: number; signal?: number } {
  const m = text ? /^(\d+):(\d+)$/.exec(text) : null;
  if (!m) return {};
  const signal = Number(m[2]);
  return { exitCode: Number(m[1]), ...(signal > 0 ? { signal } : {}) };
}

/**
 * Split one `scontrol show job -o` line into its fields. Keys are words that may hold `:` or `/`
 * (`AllocNode:Sid`, `CPUs/Task`); a value runs up to the next ` Key=`.
 */
export function parseScontrolFields(line: string): Map<string, string> {
  const fields = new Map<string, string>();
  const re = /(?:^|\s)([A-Za-z][A-Za-z0-9_:/]*)=/g;
  const starts: { key: string; at: number; valueAt: number }[] = [];
  for (let m = re.exec(line); m; m = re.exec(line))
    starts.push({ key: m[1]!, at: m.index, valueAt: m.index + m[0].length });
  for (let i = 0; i < starts.length; i++) {
    const s = starts[i]!;
    const end = i + 1 < starts.length ? starts[i + 1]!.at : line.length;
    fields.set(s.key, line.slice(s.valueAt, end).trim());
  }
  return fields;
}

/** Parse `scontrol show job -o <id>`: one record per array task (pending ranges expanded). */
export function parseScontrolJobs(stdout: string): SchedulerRecord[] {
  const out: SchedulerRecord[] = [];
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('JobId=')) continue;
    const f = parseScontrolFields(line);
    const arrayJob = f.get('ArrayJobId');
    const jobId = arrayJob ?? f.get('JobId')!;
    const taskIds = f.get('ArrayTaskId');
    const indices = arrayJob && taskIds ? parseIndexRanges(taskIds) : null;
    const reason = f.get('Reason');
    out.push(
      ...expand(jobId, indices, {
        state: (f.get('JobState') ?? 'UNKNOWN').toUpperCase(),
        ...(reason && reason !== 'None' ? { reason } : {}),
        ...parseExitCode(f.get('ExitCode')),
      }),
    );
  }
  return out;
}

/**
 * Parse `sacct -n -P -X -o JobID,State,ExitCode`. States such as `CANCELLED by 0` keep their first
 * word. Clusters without an accounting database print an error instead (the caller treats sacct as
 * optional).
 */
export function parseSacct(stdout: string): SchedulerRecord[] {
  const out: SchedulerRecord[] = [];
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const [id, state, code] = line.split('|');
    if (id === undefined || state === undefined)
      throw new Error(`sacct: expected "JobID|State|ExitCode" lines; got ${JSON.stringify(line)}`);
    const { jobId, indices } = splitJobTask(id);
    out.push(...expand(jobId, indices, { state: state.split(' ')[0]!.toUpperCase(), ...parseExitCode(code) }));
  }
  return out;
}

/** SLURM states in which a job has not yet ended. */
const ACTIVE_STATES = new Set([
  'PENDING',
  'CONFIGURING',
  'RUNNING',
  'COMPLETING',
  'SUSPENDED',
  'REQUEUED',
  'REQUEUE_FED',
  'REQUEUE_HOLD',
  'RESIZING',
  'SIGNALING',
  'STAGE_OUT',
  'STOPPED',
  'RESV_DEL_HOLD',
]);
const WAITING_STATES = new Set([
  'PENDING',
  'REQUEUED',
  'REQUEUE_FED',
  'REQUEUE_HOLD',
  'RESV_DEL_HOLD',
  'SUSPENDED',
  'STOPPED',
]);

export function isActiveState(state: string): boolean {
  return ACTIVE_STATES.has(state);
}

/** Waiting to run (as opposed to running or ended). */
export function isWaitingState(state: string): boolean {
  return WAITING_STATES.has(state);
}
