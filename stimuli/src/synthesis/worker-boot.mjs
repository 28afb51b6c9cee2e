// Entry of a synthesis worker thread: registers tsx (TypeScript) in this thread, then loads the
// worker module named in workerData.entry. Plain JavaScript, so it loads without a loader.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
