/**
 * Benchmark runner behind `npm run bench`. Parent mode: find `<workspace>/bench/*.bench.ts`, print
 * the machine, run every benchmark whose `<workspace>/<name>` contains one of the filters (all
 * when none) in a child process, print its results and peak RSS. Child mode (`--child <file>
 * <name>`): run one benchmark and print its results as one JSON line.
 *
 *   npm run bench                      all benchmarks
 *   npm run bench -- googlenet         those whose id contains "googlenet"
 *   npm run bench -- --list            list them
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeMachine, type Benchmark, type BenchResult } from '@orthostim/test';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RESULT_MARK = '@@bench-result ';

interface Entry {
  id: string;
  file: string;
  benchmark: Benchmark;
}

async function loadModule(file: string): Promise<Benchmark[] | null> {
  const mod = (await import(pathToFileURL(file).href)) as { benchmarks?: Benchmark[] };
  return Array.isArray(mod.benchmarks) ? mod.benchmarks : null;
}

async function discover(): Promise<Entry[]> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  const entries: Entry[] = [];
  for (const ws of pkg.workspaces) {
    const dir = join(ROOT, ws, 'bench');
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)
      .filter((f) => f.endsWith('.bench.ts'))
      .sort()) {
      const file = join(dir, name);
      const benchmarks = await loadModule(file);
      if (!benchmarks) {
        process.stderr.write(`bench: ${relative(ROOT, file)} exports no \`benchmarks\`; skipped\n`);
        continue;
      }
      for (const b of benchmarks) entries.push({ id: `${ws}/${b.name}`, file, benchmark: b });
    }
  }
  return entries;
}

function formatValue(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

async function runChild(file: string, name: string): Promise<void> {
  const benchmark = (await loadModule(file))?.find((b) => b.name === name);
  if (!benchmark) throw new Error(`bench: no benchmark ${name} in ${file}`);
  const results = await benchmark.run();
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${RESULT_MARK}${JSON.stringify({ results, peakRssMiB })}\n`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const childAt = args.indexOf('--child');
  if (childAt >= 0) {
    await runChild(args[childAt + 1]!, args[childAt + 2]!);
    return;
  }
  const list = args.includes('--list');
  const filters = args.filter((a) => !a.startsWith('--'));
  const entries = (await discover()).filter((e) => filters.length === 0 || filters.some((f) => e.id.includes(f)));
  if (list) {
    for (const e of entries) process.stdout.write(`${e.id.padEnd(40)} ${e.benchmark.description}\n`);
    return;
  }
  if (entries.length === 0) {
    process.stderr.write(
      `bench: no benchmark matches ${filters.map((f) => JSON.stringify(f)).join(', ')}; see npm run bench -- --list\n`,
    );
    process.exitCode = 2;
    return;
  }
  const m = describeMachine();
  process.stdout.write(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node}, ${m.platform}\n`);
  process.stdout.write(`date:    ${new Date().toISOString()}\n`);
  for (const e of entries) {
    process.stdout.write(`\n${e.id}: ${e.benchmark.description}\n`);
    const child = spawnSync(process.execPath, [join(ROOT, 'bin', 'bench.js'), '--child', e.file, e.benchmark.name], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
      maxBuffer: 64 * 2 ** 20,
    });
    const line = child.stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
    if (child.status !== 0 || !line) {
      process.stdout.write(`  FAILED (exit ${child.status})\n`);
      process.exitCode = 1;
      continue;
    }
    const { results, peakRssMiB } = JSON.parse(line.slice(RESULT_MARK.length)) as {
      results: BenchResult[];
      peakRssMiB: number;
    };
    for (const r of results) {
      process.stdout.write(
        `  ${r.metric.padEnd(36)} ${formatValue(r.value).padStart(10)} ${r.unit}${r.note ? `  (${r.note})` : ''}\n`,
      );
    }
    process.stdout.write(`  ${'peak RSS'.padEnd(36)} ${peakRssMiB.toFixed(0).padStart(10)} MiB\n`);
  }
}

await main();
