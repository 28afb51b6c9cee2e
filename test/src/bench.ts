/**
 * The benchmark registry's contract. Each workspace may have `bench/*.bench.ts` modules that
 * export `benchmarks: Benchmark[]`; `npm run bench [-- <filter>...]` (bin/bench.js) finds them,
 * runs each matching one in its own child process (so peak memory is its own) and prints the
 * machine, the results and the peak RSS. A filter matches `<workspace>/<benchmark name>` as a
 * substring, e.g. `npm run bench -- googlenet` or `npm run bench -- stimuli/synthesis`.
 */
import { availableParallelism, cpus, totalmem } from 'node:os';

export interface BenchResult {
  metric: string;
  value: number;
  unit: string;
  /** Anything needed to read the figure (batch size, backend, input size). */
  note?: string;
}

export interface Benchmark {
  /** Short kebab-case name, unique within its workspace. */
  name: string;
  /** One line: what is measured and how. */
  description: string;
  run(): Promise<BenchResult[]>;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
}

export function describeMachine(): MachineInfo {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/**
 * Run `fn` `warmup` times untimed, then `repeats` times timed; returns the per-run milliseconds
 * (sorted) and their median. `fn` must finish its work before returning (read results back).
 */
export async function timeRuns(fn: () => unknown | Promise<unknown>, repeats = 3, warmup = 1): Promise<{ runsMs: number[]; medianMs: number }> {
  for (let i = 0; i < warmup; i++) await fn();
  const runsMs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await fn();
    runsMs.push(performance.now() - t);
  }
  runsMs.sort((a, b) => a - b);
  return { runsMs, medianMs: runsMs[Math.floor(runsMs.length / 2)]! };
}
