/**
 * Worker threads that encode and gzip maps (encode-grid.ts) in parallel: after a searchlight the
 * 44 r and z maps of 3.6 MB each would otherwise be built one by one on the main thread. Tasks go
 * to the worker with the fewest in flight; values on SharedArrayBuffers are read in place.
 */
import { Worker } from 'node:worker_threads';
import { workerSource } from '../parallel/worker-source';
import type { EncodeGridTask } from './encode-grid';

interface Pending {
  resolve: (bytes: Uint8Array) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

export class EncodeGridPool {
  private nextId = 0;
  private closed = false;

  private constructor(private readonly slots: Promise<Slot[]>) {
    slots.catch(() => undefined); // reported by encode()
  }

  /** Start `threads` workers (their start overlaps whatever the caller does next). */
  static start(threads: number): EncodeGridPool {
    if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`EncodeGridPool: threads must be a positive integer; got ${threads}`);
    return new EncodeGridPool(
      workerSource('encode-grid', new URL('./encode-grid-worker.ts', import.meta.url)).then((source) =>
        Array.from({ length: threads }, () => {
          const slot: Slot = { worker: new Worker(source, { eval: true }), pending: new Map() };
          slot.worker.on('message', (m: { id: number; bytes?: Uint8Array; error?: string }) => {
            const p = slot.pending.get(m.id);
            slot.pending.delete(m.id);
            if (m.error !== undefined) p?.reject(new Error(`map encoder: ${m.error}`));
            else p?.resolve(m.bytes!);
          });
          const failAll = (err: Error) => {
            for (const p of slot.pending.values()) p.reject(err);
            slot.pending.clear();
          };
          slot.worker.on('error', failAll);
          slot.worker.on('exit', (code) => failAll(new Error(`map encoder exited with code ${code}`)));
          return slot;
        }),
      ),
    );
  }

  async encode(task: EncodeGridTask): Promise<Uint8Array> {
    if (this.closed) throw new Error('EncodeGridPool: encode after close');
    const slots = await this.slots;
    const slot = slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, task });
    });
  }

  /** Stop the workers (tasks still in flight are rejected). */
  async close(): Promise<void> {
    this.closed = true;
    const slots = await this.slots.catch(() => [] as Slot[]);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
