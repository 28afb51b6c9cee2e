/**
 * The one way orthostim runs a TypeScript module on a worker thread: the module is bundled with
 * esbuild into `<repo>/.cache/workers/<name>/` (node-bundle.mjs: rebuilt when one of its sources
 * changes, so a worker never runs stale code) and the worker starts from that file, without a
 * TypeScript loader. Packages other than the workspaces stay external and each bundled module
 * keeps its own `import.meta.url`, so TF.js finds its .wasm files and a module finds the files next
 * to it as unbundled. Where the cache cannot be written (a read-only install), or with
 * ORTHOSTIM_TSX=1, the worker registers tsx and imports the TypeScript entry instead.
 */
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { ensureNodeBundle } from './node-bundle.mjs';

export interface NodeWorkerSpec {
  /** Name of the bundle (its cache folder): one per worker entry. */
  name: string;
  /** The worker module, e.g. `new URL('./x-worker.ts', import.meta.url)`. */
  entry: URL;
  /** Module specifiers replaced by files (e.g. a package's index by the one file a worker needs). */
  alias?: Record<string, string>;
  /** Cache folder of the bundle (default `<repo>/.cache/workers/<name>`). */
  cacheDir?: string;
}

const CACHE_ROOT = fileURLToPath(new URL('../../.cache/workers/', import.meta.url));

/** Registers tsx in the worker, then imports the entry named last in its argv. */
const TSX_BOOTSTRAP = `
const entry = process.argv[process.argv.length - 1];
const tsx = process.argv[process.argv.length - 2];
import(tsx).then((api) => { (api.register ?? api.default.register)(); return import(entry); })
  .catch((err) => { console.error(err); process.exit(1); });
`;

const scripts = new Map<string, Promise<URL | null>>();

async function bundleScript(spec: NodeWorkerSpec): Promise<URL | null> {
  if (process.env.ORTHOSTIM_TSX === '1') return null;
  try {
    const { dir } = await ensureNodeBundle({
      cacheDir: spec.cacheDir ?? join(CACHE_ROOT, spec.name),
      workingDir: fileURLToPath(new URL('../..', import.meta.url)),
      options: {
        entryPoints: [fileURLToPath(spec.entry)],
        format: 'esm',
        ...(spec.alias ? { alias: spec.alias } : {}),
      },
      externalPackages: true,
    });
    return pathToFileURL(join(dir, `${basename(spec.entry.pathname).replace(/\.[mc]?[jt]s$/, '')}.js`));
  } catch {
    return null;
  }
}

/** The bundle a worker of `spec` starts from (built once per process), or null to run through tsx. */
export function nodeWorkerScript(spec: NodeWorkerSpec): Promise<URL | null> {
  let script = scripts.get(spec.name);
  if (!script) {
    script = bundleScript(spec);
    scripts.set(spec.name, script);
  }
  return script;
}

/** Start a worker thread running `spec.entry`. `options` as for `new Worker` (workerData, transferList...). */
export async function startNodeWorker(spec: NodeWorkerSpec, options: WorkerOptions = {}): Promise<Worker> {
  const script = await nodeWorkerScript(spec);
  // execArgv []: a parent started by the tsx CLI would otherwise pass its loader flags on.
  if (script) return new Worker(script, { execArgv: [], ...options });
  // The ESM build of tsx's API (require.resolve finds the CJS one, which fails under the tsx CLI).
  const tsx = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const argv = [...(options.argv ?? []), tsx, spec.entry.href];
  return new Worker(TSX_BOOTSTRAP, { execArgv: [], ...options, argv, eval: true });
}
