/**
 * The live progress line of a job group on stderr: `analyze-participant (slurm job 12): 2 pending,
 * 3 running, 4 done, 1 failed`. On a terminal it redraws in place; in a log file it prints a line
 * only when the counts change. ORTHOSTIM_PROGRESS=0 silences it (as it does the progress bars).
 */
import type { TaskCounts } from './job-state';

export function formatProgressLine(
  name: string,
  executor: string,
  jobs: readonly string[],
  counts: TaskCounts,
): string {
  const where = jobs.length === 0 ? executor : executor === 'slurm' ? `slurm job ${jobs.join(', ')}` : 'local';
  const parts = [
    `${counts.pending} pending`,
    `${counts.running} running`,
    `${counts.done} done`,
    `${counts.failed} failed`,
  ];
  if (counts.new > 0) parts.unshift(`${counts.new} not submitted`);
  return `${name} (${where}): ${parts.join(', ')}`;
}

export interface ProgressLine {
  update(line: string): void;
  /** Print a message on its own line (a failure), keeping the progress line below it. */
  message(text: string): void;
  stop(): void;
}

export function createProgressLine(
  stream: NodeJS.WriteStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): ProgressLine {
  const quiet = env.ORTHOSTIM_PROGRESS === '0';
  const tty = stream.isTTY === true;
  let last = '';
  let shown = false;
  return {
    update(line) {
      if (quiet || line === last) return;
      last = line;
      if (tty) {
        stream.write(`\r\x1b[2K${line}`);
        shown = true;
      } else stream.write(`${line}\n`);
    },
    message(text) {
      if (tty && shown) stream.write('\r\x1b[2K');
      stream.write(`${text}\n`);
      if (tty && shown && !quiet) stream.write(last);
    },
    stop() {
      if (tty && shown) stream.write('\n');
      shown = false;
    },
  };
}
