/**
 * `fitGlm` across worker threads: the voxel-major series and the outputs live in
 * SharedArrayBuffers, each worker fits a contiguous voxel range in place, so nothing is copied.
 * Same numbers as `fitGlm` (each voxel's arithmetic is identical).
 */
import { startAnalysisWorker } from '../parallel/analysis-worker';
import { allocateGlmFit, fitGlmRange, planGlm, type DesignArrays, type FitGlmOptions, type GlmFit } from './fit-glm';

/** A Float32Array whose memory workers can share (copied once if it is not already shared). */
export function toSharedFloat32(a: Float32Array): Float32Array {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const s = new Float32Array(new SharedArrayBuffer(a.byteLength));
  s.set(a);
  return s;
}

export async function fitGlmParallel(
  series: Float32Array,
  design: DesignArrays,
  options: FitGlmOptions & { threads?: number; residuals?: boolean } = {},
): Promise<GlmFit> {
  const T = design.nRows;
  const V = series.length / T;
  const threads = Math.max(1, Math.min(options.threads ?? 1, Math.ceil(V / 2048)));
  const plan = planGlm(design);
  const { threads: _t, residuals = false, ...fitOptions } = options;
  if (threads === 1) {
    const out = allocateGlmFit(V, plan, false, residuals);
    fitGlmRange(series, plan, 0, V, out, fitOptions);
    return out;
  }
  const shared = toSharedFloat32(series);
  const valid = fitOptions.valid;
  const sharedValid = valid ? new Uint8Array(new SharedArrayBuffer(valid.length)) : undefined;
  if (valid && sharedValid) sharedValid.set(valid);
  const out = allocateGlmFit(V, plan, true, residuals);
  const per = Math.ceil(V / threads);
  // The main thread takes the last range itself while the workers run.
  const entry = new URL('./fit-glm-worker.ts', import.meta.url);
  const workers = await Promise.all(Array.from({ length: threads - 1 }, () => startAnalysisWorker('glm', entry)));
  try {
    const done = workers.map(
      (w, i) =>
        new Promise<void>((resolveDone, reject) => {
          w.once('message', (m: { ok: boolean; error?: string }) =>
            m.ok ? resolveDone() : reject(new Error(`GLM worker failed: ${m.error}`)),
          );
          w.once('error', reject);
          w.once('exit', (code) => code !== 0 && reject(new Error(`GLM worker exited with code ${code}`)));
          w.postMessage({
            series: shared,
            design,
            v0: i * per,
            v1: Math.min(V, (i + 1) * per),
            out,
            options: { ...fitOptions, valid: sharedValid },
          });
        }),
    );
    fitGlmRange(shared, plan, (threads - 1) * per, V, out, { ...fitOptions, valid: sharedValid });
    await Promise.all(done);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return out;
}
