/**
 * Worker-thread entry of the searchlight: receives a `SearchlightJob` whose big arrays live on
 * SharedArrayBuffers (shared, not copied), works until the chunk counter runs out, then says so.
 * Started from a cached esbuild bundle (parallel/analysis-worker), so it must not rely on a TypeScript loader.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { workOnSearchlightJob, type SearchlightJob } from './searchlight-job';

const job = workerData as SearchlightJob;
workOnSearchlightJob(job);
parentPort?.postMessage('done');
