/**
 * Worker-thread side of `fitGlmParallel`: fits its voxel range of the shared series into the
 * shared output arrays, then reports done. Started by startAnalysisWorker (parallel/analysis-worker).
 */
import { parentPort } from 'node:worker_threads';
import { fitGlmRange, planGlm, type FitGlmOptions, type GlmFit, type DesignArrays } from './fit-glm';

export interface GlmWorkerJob {
  series: Float32Array;
  design: DesignArrays;
  v0: number;
  v1: number;
  out: GlmFit;
  options: FitGlmOptions;
}

parentPort?.on('message', (job: GlmWorkerJob) => {
  try {
    fitGlmRange(job.series, planGlm(job.design), job.v0, job.v1, job.out, job.options);
    parentPort!.postMessage({ ok: true });
  } catch (err) {
    parentPort!.postMessage({ ok: false, error: (err as Error).stack ?? String(err) });
  }
});
