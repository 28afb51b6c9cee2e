/**
 * The status files a task's job script writes (`status/<id>.json`): `running` when it starts, then
 * `done` or `failed` with the exit code (and the signal when it was stopped). They are the runner's
 * primary source of truth; the scheduler's view only fills in what they cannot say (still queued,
 * killed before the script could write).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const taskStatusSchema = z.object({
  task: z.string(),
  /** Scheduler name of the attempt: `12_3` under SLURM, `local-<pid>-<n>_3` locally. */
  job: z.string(),
  host: z.string(),
  pid: z.number().int(),
  time: z.string(),
  state: z.enum(['running', 'done', 'failed']),
  exitCode: z.number().int().optional(),
  signal: z.string().optional(),
  reason: z.string().optional(),
});
export type TaskStatus = z.infer<typeof taskStatusSchema>;

/** Parse a status file's text; null when it is not a status (a foreign or damaged file). */
export function parseTaskStatus(text: string): TaskStatus | null {
  try {
    const r = taskStatusSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

export function taskStatusPath(jobDir: string, taskId: string): string {
  return join(jobDir, 'status', `${taskId}.json`);
}

export function taskLogPath(jobDir: string, taskId: string): string {
  return join(jobDir, 'logs', `${taskId}.log`);
}

export function readTaskStatus(jobDir: string, taskId: string): TaskStatus | null {
  const p = taskStatusPath(jobDir, taskId);
  if (!existsSync(p)) return null;
  try {
    return parseTaskStatus(readFileSync(p, 'utf8'));
  } catch {
    return null; // removed between the check and the read
  }
}

/** Forget an earlier attempt's status before a task is submitted again. */
export function clearTaskStatus(jobDir: string, taskId: string): void {
  rmSync(taskStatusPath(jobDir, taskId), { force: true });
}
