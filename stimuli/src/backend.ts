/**
 * The compute backend, chosen once per process. Order: the `preference` argument (`--backend`),
 * else `ORTHOSTIM_BACKEND`, else the first that loads of
 *   node  `@tensorflow/tfjs-node` (libtensorflow; an optionalDependency whose install needs the
 *         internet, so it is often absent),
 *   wasm  `@tensorflow/tfjs-backend-wasm` (XNNPACK + SIMD, one thread per process in Node),
 *   cpu   the plain-JavaScript backend of `@tensorflow/tfjs` (slow; always there).
 * A forced backend that cannot load is a UsageError naming it.
 *
 * tfjs-core does not fall back to another backend for a kernel the active one lacks: it throws
 * "Kernel X not registered for backend wasm". The wasm backend lacks a few kernels the cpu backend
 * has (Conv2DBackpropFilter, depthwise conv gradients, Einsum, UnsortedSegmentSum, ...), so
 * `registerCpuFallbacks` registers each of them for wasm as a bridge that copies the inputs to the
 * cpu backend, runs its kernel there and copies the outputs back. Our own GoogLeNet never takes
 * that path (see models/fast-conv.ts); it keeps other networks (LayersModels, GraphModels) working.
 *
 * Everything imports tf as `import * as tf from '@tensorflow/tfjs'`; tfjs-node registers its
 * backend into that same tfjs-core.
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '@orthostim/protocol';

export const BACKEND_NAMES = ['node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendInfo {
  name: BackendName;
  /** tfjs version (of tfjs-node for the node backend). */
  version: string;
  /** Threads the backend computes with in this process. */
  threads: number;
}

interface BackendLoader {
  /** tfjs's registered backend name. */
  tfName: string;
  /** Import and register the backend; returns the thread count once it is active. */
  load(): Promise<{ version: string; threads: () => number }>;
}

const LOADERS: Record<BackendName, BackendLoader> = {
  node: {
    tfName: 'tensorflow',
    async load() {
      // A variable specifier keeps bundlers and tsc from requiring the optional package.
      const spec = '@tensorflow/tfjs-node';
      const mod = (await import(spec)) as { version?: { 'tfjs-node'?: string } };
      return { version: mod.version?.['tfjs-node'] ?? tf.version.tfjs, threads: () => availableParallelism() };
    },
  },
  wasm: {
    tfName: 'wasm',
    async load() {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      return { version: wasm.version_wasm, threads: () => wasm.getThreadsCount() };
    },
  },
  cpu: {
    tfName: 'cpu',
    async load() {
      return { version: tf.version.tfjs, threads: () => 1 };
    },
  },
};

let active: BackendInfo | null = null;

export function parseBackendName(value: string, source: string): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new UsageError(`${source}: backend must be one of ${BACKEND_NAMES.join(', ')}; got ${JSON.stringify(value)}`);
}

async function activate(name: BackendName): Promise<BackendInfo> {
  const loader = LOADERS[name];
  const { version, threads } = await loader.load();
  if (!(await tf.setBackend(loader.tfName))) throw new Error(`tf.setBackend('${loader.tfName}') failed`);
  await tf.ready();
  if (name === 'wasm') registerCpuFallbacks('wasm');
  return { name, version, threads: threads() };
}

/**
 * Select and initialize the backend (see the module comment for the order). Prints
 * `backend: wasm (tfjs 4.22.0, 1 thread)` to stderr the first time a backend is activated, and
 * returns the same description for provenance. Calling it again returns the active backend unless
 * a different one is asked for.
 */
export async function initBackend(preference?: BackendName | string): Promise<BackendInfo> {
  // Silence tfjs's "install tfjs-node" banner; we choose the backend deliberately.
  tf.env().set('PROD', true);
  const forced =
    preference !== undefined
      ? parseBackendName(preference, '--backend')
      : process.env.ORTHOSTIM_BACKEND
        ? parseBackendName(process.env.ORTHOSTIM_BACKEND, 'ORTHOSTIM_BACKEND')
        : null;
  if (active && (forced === null || forced === active.name)) return active;

  let info: BackendInfo | null = null;
  if (forced) {
    try {
      info = await activate(forced);
    } catch (err) {
      const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
      throw new UsageError(
        `backend ${forced} cannot be loaded (${why}); choose another with --backend ${BACKEND_NAMES.filter((b) => b !== forced).join('|')}`,
      );
    }
  } else {
    for (const name of BACKEND_NAMES) {
      try {
        info = await activate(name);
        break;
      } catch {
        // Not installed or failed to initialize: try the next one.
      }
    }
    if (!info) throw new Error('no TF.js backend could be initialized (node, wasm, cpu all failed)');
  }
  active = info;
  process.stderr.write(`backend: ${formatBackend(info)}\n`);
  return info;
}

export function formatBackend(info: BackendInfo): string {
  const lib = info.name === 'node' ? 'tfjs-node' : 'tfjs';
  return `${info.name} (${lib} ${info.version}, ${info.threads} thread${info.threads === 1 ? '' : 's'})`;
}

const BRIDGEABLE = new Set(['float32', 'int32', 'bool']);
const bridged = new Set<string>();

/**
 * Register, for every kernel the cpu backend has and `backendName` lacks, a bridge that runs the
 * cpu kernel on copies of the data. Returns the names of the kernels bridged (idempotent).
 */
export function registerCpuFallbacks(backendName: string): string[] {
  const have = new Set(tf.getKernelsForBackend(backendName).map((k) => k.kernelName));
  const added: string[] = [];
  for (const cpuKernel of tf.getKernelsForBackend('cpu')) {
    const key = `${backendName}/${cpuKernel.kernelName}`;
    if (have.has(cpuKernel.kernelName) || bridged.has(key)) continue;
    bridged.add(key);
    added.push(cpuKernel.kernelName);
    tf.registerKernel({
      kernelName: cpuKernel.kernelName,
      backendName,
      kernelFunc: ({ inputs, backend: target, attrs }) => {
        const backend = target as tf.KernelBackend;
        const cpu = tf.engine().findBackend('cpu');
        const check = (t: tf.TensorInfo) => {
          if (!BRIDGEABLE.has(t.dtype)) {
            throw new Error(
              `kernel ${cpuKernel.kernelName} is not available on the ${backendName} backend for ${t.dtype} tensors; use --backend cpu`,
            );
          }
        };
        const cpuIds: tf.DataId[] = [];
        const cpuInputs: tf.NamedTensorInfoMap = {};
        for (const [k, t] of Object.entries(inputs)) {
          if (!t) continue;
          check(t);
          const id = cpu.write(backend.readSync(t.dataId) as tf.backend_util.BackendValues, t.shape, t.dtype);
          cpuIds.push(id);
          cpuInputs[k] = { dataId: id, shape: t.shape, dtype: t.dtype };
        }
        const out = cpuKernel.kernelFunc({ inputs: cpuInputs, backend: cpu, attrs });
        const outs = Array.isArray(out) ? out : [out];
        const results = outs.map((o) => {
          check(o);
          const values = cpu.readSync(o.dataId) as tf.backend_util.BackendValues;
          const dataId = backend.write(values, o.shape, o.dtype);
          return { dataId, shape: o.shape, dtype: o.dtype };
        });
        for (const id of new Set([...cpuIds, ...outs.map((o) => o.dataId)])) cpu.disposeData(id, true);
        return Array.isArray(out) ? results : results[0]!;
      },
    });
  }
  return added;
}
