/**
 * The kinds of work a TaskPool worker can do: name -> pure function of a structured-cloneable
 * input, returning its result and the buffers to transfer back (not copy). One registry, so one
 * worker bundle serves every kind.
 */
import { encodeGrid, type EncodeGridTask } from '../io/encode-grid';
import { signFlipTest, type SignFlipOptions } from '../stats/sign-flip';

interface TaskOutput<R> {
  result: R;
  transfer: ArrayBuffer[];
}

export const TASKS = {
  /** One NIfTI map built from values at voxels, gzipped. */
  'encode-grid': (task: EncodeGridTask): TaskOutput<Uint8Array> => {
    const bytes = encodeGrid(task);
    return { result: bytes, transfer: [bytes.buffer as ArrayBuffer] };
  },
  /** The group test of one layer and method. */
  'sign-flip': ({ maps, options }: { maps: Float32Array[]; options: SignFlipOptions }) => {
    const r = signFlipTest(maps, options);
    return {
      result: r,
      transfer: [r.mean.buffer, r.t.buffer, r.p.buffer, r.fweP.buffer, r.maxNull.buffer] as ArrayBuffer[],
    };
  },
} as const;

export type TaskName = keyof typeof TASKS;
export type TaskInput<K extends TaskName> = Parameters<(typeof TASKS)[K]>[0];
export type TaskResult<K extends TaskName> = ReturnType<(typeof TASKS)[K]>['result'];
