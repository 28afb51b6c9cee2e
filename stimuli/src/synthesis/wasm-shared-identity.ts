/**
 * Memory fix for gradients on the wasm backend. tfjs-core keeps a copy (`clone`, the Identity
 * kernel) of every tensor an op saves for its backward pass; the cpu backend's Identity shares the
 * data (reference count), but wasm's copies it, so on wasm the tape holds every saved activation
 * twice. Tensors are immutable, so sharing is safe; this registers a sharing Identity for wasm
 * (the same as the cpu backend's kernel and as wasm's own Reshape). Idempotent.
 */
import * as tf from '@tensorflow/tfjs';

let installed = false;

interface RefCountingBackend {
  incRef(dataId: tf.DataId): void;
}

export function shareIdentityOnWasm(): void {
  if (installed || !tf.getKernelsForBackend('wasm').some((k) => k.kernelName === 'Identity')) return;
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs.x as tf.TensorInfo;
      if (x.dtype === 'string') throw new Error('shared Identity: string tensors are not supported on wasm');
      (backend as unknown as RefCountingBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
  installed = true;
}
