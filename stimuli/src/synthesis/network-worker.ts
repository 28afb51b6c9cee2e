/**
 * A synthesis worker thread: one backend instance and one GoogLeNet, running the forward and
 * backward passes of its share of the images (protocol in worker-protocol.ts). Started by
 * tooling's startNodeWorker (a cached bundle), the same way under the bin, tsx and vitest.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { formatBackend, initBackend } from '../backend';
import { GoogLeNet } from '../models/googlenet';
import { GOOGLENET_LOADERS } from '../models/resolve-weights';
import { centredUnitRows } from './centred-unit-rows';
import { leanGrads } from './lean-gradients';
import { createParam } from './param-registry';
import { shareIdentityOnWasm } from './wasm-shared-identity';
import { applyTransform } from './transforms';
import type { FromWorker, GradMessage, ToWorker, WorkerInit } from './worker-protocol';

const init = workerData as WorkerInit;
const port = parentPort!;
const signal = new Int32Array(init.signal);

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

/** A typed array that owns its whole buffer, so the buffer can be transferred. */
function owned(a: Float32Array): Float32Array {
  return a.byteOffset === 0 && a.buffer.byteLength === a.byteLength ? a : a.slice();
}

/** Block until the main thread sends the gradient slice (see worker-protocol.ts). */
function awaitGrads(): Float32Array[] {
  for (;;) {
    const received = receiveMessageOnPort(init.gradPort);
    if (received) {
      Atomics.store(signal, 0, 0);
      const msg = received.message as GradMessage;
      if ('abort' in msg) throw new Error(`step aborted by the main thread: ${msg.abort}`);
      return msg.grads;
    }
    Atomics.wait(signal, 0, 0, 100);
  }
}

// initBackend announces the backend on stderr; the main thread already did, once.
const write = process.stderr.write;
process.stderr.write = () => true;
let backendInfo;
try {
  backendInfo = await initBackend(init.backend);
} finally {
  process.stderr.write = write;
}
if (backendInfo.name === 'wasm') shareIdentityOnWasm();
const weights = GOOGLENET_LOADERS[init.weights.kind as keyof typeof GOOGLENET_LOADERS](init.weights.path);
const model = GoogLeNet.fromWeights(weights);
const param = createParam(init.param, init.size);
const layers = init.layers;

function activationArrays(list: tf.Tensor[]): Float32Array[] {
  return list.map((a) => owned(a.dataSync() as Float32Array));
}

/**
 * Each image's activation pattern of each layer as the correlation distance's Gram matrix wants
 * it: centred and scaled to unit length (row-local, so it runs here, in parallel, and its backward
 * pass too); the main thread only multiplies rows.
 */
function layerRows(x: tf.Tensor4D, count: number): tf.Tensor[] {
  const a = model.forward(x, layers);
  return layers.map((l) => centredUnitRows(tf.reshape(a[l]!, [count, -1])));
}

function forward(msg: Extract<ToWorker, { type: 'forward' }>): void {
  const p = tf.tensor2d(msg.params, [msg.count, param.perImage]);
  const images = (pp: tf.Tensor) => applyTransform(param.toImages(pp as tf.Tensor2D), msg.transform);
  if (!msg.withGrad) {
    const acts = tf.tidy(() => layerRows(images(p), msg.count));
    const arrays = activationArrays(acts);
    tf.dispose([p, ...acts]);
    post(
      { type: 'acts', id: msg.id, acts: arrays },
      arrays.map((a) => a.buffer as ArrayBuffer),
    );
    return;
  }
  // The identity-like tap whose gradient is the loss gradient the main thread computes centrally.
  const tap = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const inputs = args.slice(0, -1) as tf.Tensor[];
    return {
      value: tf.zeros([]),
      gradFunc: () => awaitGrads().map((g, i) => tf.tensor(g, inputs[i]!.shape)),
    };
  });
  const [grad] = leanGrads(
    (pp: tf.Tensor) => {
      const list = layerRows(images(pp), msg.count);
      const arrays = activationArrays(list);
      post(
        { type: 'acts', id: msg.id, acts: arrays },
        arrays.map((x) => x.buffer as ArrayBuffer),
      );
      return tap(...list);
    },
    [p],
  );
  const g = owned(grad!.dataSync() as Float32Array);
  tf.dispose([p, grad!]);
  post({ type: 'grad', id: msg.id, grad: g }, [g.buffer as ArrayBuffer]);
}

function forwardImages(msg: Extract<ToWorker, { type: 'forward-images' }>): void {
  const acts = tf.tidy(() => layerRows(tf.tensor4d(msg.images, [msg.count, init.size, init.size, 3]), msg.count));
  const arrays = activationArrays(acts);
  tf.dispose(acts);
  post(
    { type: 'acts', id: msg.id, acts: arrays },
    arrays.map((a) => a.buffer as ArrayBuffer),
  );
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'close') {
    model.dispose();
    param.dispose();
    port.close();
    return;
  }
  try {
    if (msg.type === 'forward') forward(msg);
    else forwardImages(msg);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    post({ type: 'error', id: msg.id, name: e.name, message: e.message, stack: e.stack });
  }
});

post({
  type: 'ready',
  backend: formatBackend(backendInfo),
  weightsSha256: weights.sha256,
  weightsFormat: weights.format,
});
