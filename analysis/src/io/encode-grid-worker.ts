/**
 * Worker-thread entry of the map encoders (encode-grid-pool.ts): encodes each task it is sent and
 * posts the bytes back (transferred, not copied). Bundled with esbuild, so no TypeScript loader.
 */
import { parentPort } from 'node:worker_threads';
import { encodeGrid, type EncodeGridTask } from './encode-grid';

parentPort?.on('message', ({ id, task }: { id: number; task: EncodeGridTask }) => {
  try {
    const bytes = encodeGrid(task);
    parentPort!.postMessage({ id, bytes }, [bytes.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort!.postMessage({ id, error: (err as Error).message });
  }
});
