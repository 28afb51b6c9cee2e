/**
 * Worker-thread entry of a TaskPool: runs each task it is sent by its registry name and posts the
 * result back, its buffers transferred. Errors the user can fix keep their message, code and exit
 * code. Started by startAnalysisWorker (a cached bundle, no TypeScript loader).
 */
import { parentPort } from 'node:worker_threads';
import { OrthostimError } from '@orthostim/protocol';
import { TASKS, type TaskName } from './tasks';

parentPort?.on('message', ({ id, kind, input }: { id: number; kind: TaskName; input: never }) => {
  try {
    const run = TASKS[kind] as (input: never) => { result: unknown; transfer: ArrayBuffer[] };
    if (typeof run !== 'function') throw new Error(`unknown task kind ${JSON.stringify(kind)}`);
    const { result, transfer } = run(input);
    parentPort!.postMessage({ id, result }, transfer);
  } catch (err) {
    const e = err as Error;
    parentPort!.postMessage({
      id,
      error: {
        message: e.message,
        ...(err instanceof OrthostimError ? { code: err.code, exitCode: err.exitCode } : {}),
      },
    });
  }
});
