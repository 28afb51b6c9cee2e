/**
 * Messages between the synthesis main thread and its network workers (see network-pool.ts).
 *
 * A gradient step is split in two halves around the central loss: the worker runs the forward
 * pass of its image share under tf.grad, posts the activations, and blocks (Atomics.wait) inside
 * the backward pass until the main thread has gathered every share, computed the loss gradient with
 * respect to all activations, and sent each worker its slice on a second port. The worker reads it
 * synchronously (receiveMessageOnPort) and finishes the backward pass: no forward pass is repeated.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ResolvedWeights } from '../models/resolve-weights';
import type { ParamName } from './param';
import type { DrawnTransform } from './transforms';

export interface WorkerInit {
  backend?: string;
  weights: Pick<ResolvedWeights, 'kind' | 'path'>;
  layers: string[];
  size: number;
  param: ParamName;
  /** Port on which the gradient slices arrive during the backward pass. */
  gradPort: MessagePort;
  /** Int32 flag the main thread sets (and notifies) after posting on gradPort. */
  signal: SharedArrayBuffer;
}

export type ToWorker =
  /** Images of `count` parameter blocks, transformed, through the network; with or without gradient. */
  | { type: 'forward'; id: number; params: Float32Array; count: number; transform: DrawnTransform; withGrad: boolean }
  /** Activations of given images (NHWC float32 in [0, 1]). */
  | { type: 'forward-images'; id: number; images: Float32Array; count: number }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; backend: string; weightsSha256: string; weightsFormat: string }
  /** Activations of the share, one array per layer (count x features). */
  | { type: 'acts'; id: number; acts: Float32Array[] }
  /** Gradient with respect to the share's parameters (count x perImage). */
  | { type: 'grad'; id: number; grad: Float32Array }
  | { type: 'error'; id: number; name: string; message: string; stack?: string };

/** On gradPort: the loss gradient for the share's activations, one array per layer, or an abort. */
export type GradMessage = { grads: Float32Array[] } | { abort: string };
