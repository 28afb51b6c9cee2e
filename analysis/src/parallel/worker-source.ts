/**
 * Code of a worker thread as one CommonJS text, for `new Worker(text, { eval: true })`: workers
 * then need no TypeScript loader and start in tens of milliseconds. The text comes from the
 * on-disk bundle cache (<repo>/.cache/workers/<name>, rebuilt when one of its sources changes;
 * tooling/src/node-bundle.mjs) or, where that cannot be written, from an in-memory build.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNodeBundle } from '@orthostim/tooling';

const sources = new Map<string, Promise<string>>();

/** `entry`: the worker module's URL (e.g. `new URL('./x-worker.ts', import.meta.url)`). */
export function workerSource(name: string, entry: URL): Promise<string> {
  let source = sources.get(name);
  if (!source) {
    source = buildWorkerSource(name, fileURLToPath(entry));
    sources.set(name, source);
  }
  return source;
}

async function buildWorkerSource(name: string, entry: string): Promise<string> {
  // Workers use only protocol's error classes; its index would also bring zod and the file
  // schemas (0.8 MB instead of tens of KB for every worker to parse at start).
  let errors = '';
  try {
    errors = join(dirname(createRequire(import.meta.url).resolve('@orthostim/protocol')), 'errors.ts');
  } catch {
    // not resolvable from here: bundle protocol whole
  }
  const options = {
    entryPoints: [entry],
    format: 'cjs' as const,
    ...(errors && existsSync(errors) ? { alias: { '@orthostim/protocol': errors } } : {}),
  };
  const out = `${basename(entry).replace(/\.[mc]?ts$/, '')}.js`;
  try {
    const { dir } = await ensureNodeBundle({
      cacheDir: fileURLToPath(new URL(`../../../.cache/workers/${name}`, import.meta.url)),
      options,
    });
    return readFileSync(join(dir, out), 'utf8');
  } catch {
    const { build } = await import('esbuild');
    const result = await build({
      ...options,
      bundle: true,
      platform: 'node',
      target: 'node20',
      write: false,
      logLevel: 'silent',
    });
    return result.outputFiles[0]!.text;
  }
}
