/**
 * What a job group runs: named tasks, each an ordinary orthostim command line. A task's id names
 * its status and log files, so it is limited to characters that are safe in file names and shell
 * words; its position in the list is its array index.
 */
import { UsageError, describeValue } from '@orthostim/protocol';

export interface TaskSpec {
  /** File-name-safe name, unique in the group: `sub-01`, `seed-3`, `group`. */
  id: string;
  /** The orthostim arguments (what follows `orthostim` on a command line). */
  args: readonly string[];
}

const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const GROUP_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Refuse ids that are not file-name-safe or not unique, naming the first bad one. */
export function checkTasks(tasks: readonly TaskSpec[]): void {
  if (tasks.length === 0) throw new UsageError('job group: no tasks to run');
  const seen = new Set<string>();
  for (const t of tasks) {
    if (!TASK_ID.test(t.id))
      throw new UsageError(`task id must be letters, digits, '.', '_' or '-' (not first); got ${describeValue(t.id)}`);
    if (seen.has(t.id)) throw new UsageError(`task id ${describeValue(t.id)} appears twice`);
    seen.add(t.id);
  }
}

export function checkGroupName(name: string): void {
  if (!GROUP_NAME.test(name))
    throw new UsageError(`job group name must be lowercase letters, digits and '-'; got ${describeValue(name)}`);
}

/** Indices as SLURM's `--array` wants them: sorted, runs collapsed (`0-3,7,9-10`). */
export function formatIndexRanges(indices: readonly number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * Expand a SLURM index expression (`3`, `3-5`, `[3-5]`, `1,4-6`, `0-9:3`, `3-5%2`) into indices.
 * Throws on anything else, quoting it.
 */
export function parseIndexRanges(text: string): number[] {
  const body = text.replace(/^\[/, '').replace(/\]$/, '').replace(/%\d+$/, '');
  const out: number[] = [];
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part);
    if (!m)
      throw new Error(
        `array index expression: expected forms like 3, 3-5, 1,4-6 or 0-9:3; got ${JSON.stringify(text)}`,
      );
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (to < from || step <= 0) throw new Error(`array index expression: empty range in ${JSON.stringify(text)}`);
    for (let k = from; k <= to; k += step) out.push(k);
  }
  return out;
}
