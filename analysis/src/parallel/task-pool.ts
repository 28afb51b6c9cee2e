/**
 * Worker threads for independent pieces of work (parallel/tasks.ts): building and gzipping maps
 * after a searchlight, the group test of each layer and method. A task goes to the worker with
 * the fewest in flight; inputs on SharedArrayBuffers are read in place, results come back
 * transferred. Workers start when the pool is created, so their start overlaps other work.
 */
import type { Worker } from 'node:worker_threads';
import { OrthostimError } from '@orthostim/protocol';
import type { TaskInput, TaskName, TaskResult } from './tasks';
import { startAnalysisWorker } from './analysis-worker';

interface Pending {
  resolve: (result: never) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

interface Reply {
  id: number;
  result?: unknown;
  error?: { message: string; code?: string; exitCode?: number };
}

export class TaskPool {
  private nextId = 0;
  private closed = false;

  private constructor(private readonly slots: Promise<Slot[]>) {
    slots.catch(() => undefined); // reported by run()
  }

  /** Start `threads` workers. */
  static start(threads: number): TaskPool {
    if (!(Number.isInteger(threads) && threads >= 1))
      throw new RangeError(`TaskPool: threads must be a positive integer; got ${threads}`);
    const entry = new URL('./task-worker.ts', import.meta.url);
    return new TaskPool(
      Promise.all(Array.from({ length: threads }, () => startAnalysisWorker('tasks', entry))).then((workers) =>
        workers.map((worker) => {
          const slot: Slot = { worker, pending: new Map() };
          slot.worker.on('message', (m: Reply) => {
            const p = slot.pending.get(m.id);
            slot.pending.delete(m.id);
            if (slot.pending.size === 0) slot.worker.unref();
            if (!p) return;
            if (m.error)
              p.reject(
                m.error.code
                  ? new OrthostimError(m.error.message, m.error.code, m.error.exitCode)
                  : new Error(`worker task: ${m.error.message}`),
              );
            else p.resolve(m.result as never);
          });
          const failAll = (err: Error) => {
            for (const p of slot.pending.values()) p.reject(err);
            slot.pending.clear();
            slot.worker.unref();
          };
          slot.worker.on('error', failAll);
          slot.worker.on('exit', (code) => failAll(new Error(`worker exited with code ${code}`)));
          // An idle worker does not keep the process alive, so a pool abandoned by a failure
          // never blocks the exit; one with tasks in flight does, so their results arrive.
          // (After the listeners: adding a 'message' listener refs the worker again.)
          slot.worker.unref();
          return slot;
        }),
      ),
    );
  }

  async run<K extends TaskName>(kind: K, input: TaskInput<K>): Promise<TaskResult<K>> {
    if (this.closed) throw new Error('TaskPool: run after close');
    const slots = await this.slots;
    const slot = slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise<TaskResult<K>>((resolve, reject) => {
      slot.pending.set(id, { resolve: resolve as (r: never) => void, reject });
      slot.worker.ref();
      slot.worker.postMessage({ id, kind, input });
    });
  }

  /** Stop the workers (tasks still in flight are rejected). */
  async close(): Promise<void> {
    this.closed = true;
    const slots = await this.slots.catch(() => [] as Slot[]);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
