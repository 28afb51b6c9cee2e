/**
 * Forward passes on onnxruntime-node, multi-threaded: the engine of `orthostim rdms` (forward only;
 * synthesis needs gradients and stays on TF.js). The model's graph outputs are re-targeted at the
 * requested layers, so only what they need runs. Inputs arrive as TF.js NHWC RGB [0, 1] images and
 * are normalized and transposed to NCHW with TF.js; outputs come back as TF.js tensors in the
 * graph's own layout (NCHW), which RDMs do not depend on.
 */
import * as tf from '@tensorflow/tfjs';
import { NORMALIZATIONS, type NormalizationName } from '../preprocess';
import { withOutputs } from './onnx-writer';

type Ort = typeof import('onnxruntime-node');
type Session = import('onnxruntime-node').InferenceSession;

export type ForwardFn = (x: tf.Tensor4D, layers: readonly string[]) => Promise<Record<string, tf.Tensor>>;

export interface OrtForwardSpec {
  /** The model with any outputs; `modelFor(tensors)` gives the bytes for a set of output tensors. */
  modelFor(tensors: readonly string[]): Uint8Array;
  /** The tensor of the graph that a layer name means. */
  tensorOf(layer: string): string;
  normalize: NormalizationName;
  /** Threads of the operators (default: every core). */
  threads: number;
}

/** A forward function on onnxruntime-node; sessions are made once per set of requested layers. */
export async function createOrtForward(
  spec: OrtForwardSpec,
): Promise<{ forward: ForwardFn; dispose(): Promise<void> }> {
  const ort: Ort = await import('onnxruntime-node');
  const sessions = new Map<string, Promise<Session>>();
  const prepare = NORMALIZATIONS[spec.normalize];
  const session = (tensors: string[]) => {
    const key = tensors.join('\u0000');
    let s = sessions.get(key);
    if (!s) {
      s = ort.InferenceSession.create(spec.modelFor(tensors), {
        intraOpNumThreads: spec.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
      sessions.set(key, s);
    }
    return s;
  };
  const forward: ForwardFn = async (x, layers) => {
    const tensors = [...new Set(layers.map((l) => spec.tensorOf(l)))];
    const s = await session(tensors);
    const nchw = tf.tidy(() => tf.transpose(prepare(x), [0, 3, 1, 2]));
    const input = new ort.Tensor('float32', nchw.dataSync() as Float32Array, nchw.shape);
    nchw.dispose();
    const out = await s.run({ [s.inputNames[0]!]: input });
    const result: Record<string, tf.Tensor> = {};
    for (const l of layers) {
      const t = out[spec.tensorOf(l)]!;
      result[l] = tf.tensor(t.data as Float32Array, t.dims as number[]);
    }
    for (const t of Object.values(out)) t.dispose?.();
    return result;
  };
  return {
    forward,
    dispose: async () => {
      for (const s of sessions.values()) await (await s).release();
    },
  };
}

/** `modelFor` of a model file's bytes. */
export function retargetedModel(bytes: Uint8Array): (tensors: readonly string[]) => Uint8Array {
  return (tensors) => withOutputs(bytes, tensors);
}
