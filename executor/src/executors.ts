/** The executors by name: `--executor` choices, errors and help all come from this table. */
import type { Executor, ExecutorName, ExecutorSettings } from './executor';
import { LocalExecutor } from './local-executor';
import { SlurmExecutor } from './slurm-executor';

export const EXECUTORS = {
  local: (s) => new LocalExecutor({ nJobs: s.nJobs, env: s.env, pollIntervalMs: s.pollIntervalMs }),
  slurm: (s) => new SlurmExecutor({ nJobs: s.nJobs, env: s.env, pollIntervalMs: s.pollIntervalMs }),
} satisfies Record<ExecutorName, (settings: ExecutorSettings) => Executor>;

export function createExecutor(settings: ExecutorSettings): Executor {
  return EXECUTORS[settings.executor](settings);
}
