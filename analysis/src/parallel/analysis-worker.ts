/**
 * Worker threads of the analysis start through tooling's one mechanism (`startNodeWorker`: a cached
 * esbuild bundle of the entry). Analysis workers use only protocol's error classes; protocol's index
 * would also bring zod and the file schemas for every worker to load at start, so it is replaced by
 * its errors module in their bundles.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { WorkerOptions, Worker } from 'node:worker_threads';
import { startNodeWorker } from '@orthostim/tooling';

function protocolErrorsAlias(): Record<string, string> {
  try {
    const errors = join(dirname(createRequire(import.meta.url).resolve('@orthostim/protocol')), 'errors.ts');
    return existsSync(errors) ? { '@orthostim/protocol': errors } : {};
  } catch {
    return {}; // not resolvable from here: bundle protocol whole
  }
}

/** Start a worker thread running `entry` (a module of the analysis), e.g. `new URL('./x-worker.ts', import.meta.url)`. */
export function startAnalysisWorker(name: string, entry: URL, options: WorkerOptions = {}): Promise<Worker> {
  return startNodeWorker({ name, entry, alias: protocolErrorsAlias() }, options);
}
