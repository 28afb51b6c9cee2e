/**
 * The benchmark registry's contract. Each workspace may have `bench/*.bench.ts` modules that
 * export `benchmarks: Benchmark[]`; `npm run bench [-- <filter>...]` (bin/bench.js) finds them,
 * runs each matching one in its own child process (so peak memory is its own) and prints the
 * machine, the results and the peak RSS. A filter matches `<workspace>/<benchmark name>` as a
 * substring, e.g. `npm run bench -- googlenet` or `npm run bench -- stimuli/synthesis`.
 */
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

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

export interface RunTimes {
  /** Wall-clock milliseconds of each timed run, sorted. */
  runsMs: number[];
  medianMs: number;
  /**
   * Median CPU time (user + system, all threads of this process) per run. On a shared machine
   * it is the better figure for single-threaded work: other processes stretch the wall time,
   * not the CPU time.
   */
  medianCpuMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Run `fn` `warmup` times untimed, then `repeats` times timed. `fn` must finish its work before
 * returning (read results back).
 */
export async function timeRuns(fn: () => unknown | Promise<unknown>, repeats = 3, warmup = 1): Promise<RunTimes> {
  for (let i = 0; i < warmup; i++) await fn();
  const runsMs: number[] = [];
  const cpuMs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    await fn();
    runsMs.push(performance.now() - t);
    const d = process.cpuUsage(c);
    cpuMs.push((d.user + d.system) / 1000);
  }
  runsMs.sort((a, b) => a - b);
  return { runsMs, medianMs: median(runsMs), medianCpuMs: median(cpuMs) };
}

/** The 1-minute load average and the core count, to judge whether the machine was busy. */
export function describeLoad(): string {
  return `load average ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} cores`;
}
