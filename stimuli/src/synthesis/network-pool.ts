/**
 * The network workers of a synthesis run, seen from the main thread. The images are split into
 * contiguous shares, one per worker (one wasm backend per core); a gradient step gathers every
 * share's activations, lets the caller compute the loss gradient with respect to all of them
 * centrally, and sends each worker its slice to backpropagate (see worker-protocol.ts).
 */
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { startNodeWorker } from '@orthostim/tooling';
import { InputError, UsageError } from '@orthostim/protocol';
import type { ResolvedWeights } from '../models/resolve-weights';
import type { ParamName } from './param';
import type { DrawnTransform } from './transforms';
import type { FromWorker, GradMessage, ToWorker, WorkerInit } from './worker-protocol';

export interface PoolOptions {
  workers: number;
  backend?: string;
  weights: Pick<ResolvedWeights, 'kind' | 'path'>;
  layers: string[];
  size: number;
  param: ParamName;
  perImage: number;
}

/** Per layer, all images' activations (n x features, image-major). */
export type LayerArrays = Float32Array[];

/** Loss gradient with respect to the gathered activations, same layout as the activations. */
export type CentralGradient = (acts: LayerArrays) => LayerArrays | Promise<LayerArrays>;

/** Contiguous shares of n images over k workers, sizes differing by at most one. */
export function splitShares(n: number, k: number): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  for (let w = 0; w < k; w++) {
    const size = Math.floor(n / k) + (w < n % k ? 1 : 0);
    out.push([start, start + size]);
    start += size;
  }
  return out.filter(([a, b]) => b > a);
}

class WorkerHandle {
  private readonly inbox: FromWorker[] = [];
  private waiting: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  readonly gradPort: MessagePort;
  readonly signal: Int32Array;

  constructor(
    readonly worker: Worker,
    gradPort: MessagePort,
    signal: SharedArrayBuffer,
  ) {
    this.gradPort = gradPort;
    this.signal = new Int32Array(signal);
    worker.on('message', (m: FromWorker) => this.deliver(m));
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => this.fail(new Error(`synthesis worker exited (code ${code})`)));
  }

  private deliver(m: FromWorker): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w.resolve(m);
    } else this.inbox.push(m);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w.reject(e);
    }
  }

  /** The next message of the expected type; a worker error becomes a thrown error. */
  async next<T extends FromWorker['type']>(type: T): Promise<Extract<FromWorker, { type: T }>> {
    const m =
      this.inbox.shift() ??
      (await new Promise<FromWorker>((resolve, reject) => {
        if (this.failure) reject(this.failure);
        else this.waiting = { resolve, reject };
      }));
    if (m.type === 'error') {
      const Err = m.name === 'InputError' ? InputError : m.name === 'UsageError' ? UsageError : Error;
      const e = new Err(m.message);
      if (Err === Error) e.stack = m.stack;
      throw e;
    }
    if (m.type !== type) throw new Error(`synthesis worker sent "${m.type}" where "${type}" was expected`);
    return m as Extract<FromWorker, { type: T }>;
  }

  send(msg: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(msg, transfer);
  }

  sendGrads(msg: GradMessage, transfer: ArrayBuffer[] = []): void {
    this.gradPort.postMessage(msg, transfer);
    Atomics.store(this.signal, 0, 1);
    Atomics.notify(this.signal, 0);
  }
}

export class NetworkPool {
  private nextId = 1;
  private constructor(
    private readonly handles: WorkerHandle[],
    readonly options: PoolOptions,
    /** What the workers report: backend description and the weights they loaded. */
    readonly backend: string,
    readonly weightsSha256: string,
    readonly weightsFormat: string,
  ) {}

  static async start(options: PoolOptions): Promise<NetworkPool> {
    const entry = new URL('./network-worker.ts', import.meta.url);
    const handles: WorkerHandle[] = [];
    try {
      for (let w = 0; w < options.workers; w++) {
        const { port1, port2 } = new MessageChannel();
        const signal = new SharedArrayBuffer(4);
        const init: WorkerInit = {
          backend: options.backend,
          weights: { kind: options.weights.kind, path: options.weights.path },
          layers: options.layers,
          size: options.size,
          param: options.param,
          gradPort: port2,
          signal,
        };
        const worker = await startNodeWorker({ name: 'synthesis', entry }, { workerData: init, transferList: [port2] });
        handles.push(new WorkerHandle(worker, port1, signal));
      }
      const ready = await Promise.all(handles.map((h) => h.next('ready')));
      const r = ready[0]!;
      return new NetworkPool(handles, options, r.backend, r.weightsSha256, r.weightsFormat);
    } catch (err) {
      await Promise.all(handles.map((h) => h.worker.terminate()));
      throw err;
    }
  }

  get workers(): number {
    return this.handles.length;
  }

  /** Activations (per layer, n x features) of n parameter blocks under a transform, no gradient. */
  async forward(params: Float32Array, n: number, transform: DrawnTransform): Promise<LayerArrays> {
    const shares = this.dispatch(params, n, transform, false);
    const acts = await Promise.all(shares.map(({ h }) => h.next('acts')));
    return gather(acts.map((a) => a.acts));
  }

  /** Activations of given NHWC images in [0, 1] (n x size x size x 3). */
  async forwardImages(images: Float32Array, n: number): Promise<LayerArrays> {
    const per = this.options.size * this.options.size * 3;
    const shares = splitShares(n, this.handles.length).map(([a, b], w) => {
      const h = this.handles[w]!;
      const part = images.slice(a * per, b * per);
      h.send({ type: 'forward-images', id: this.nextId++, images: part, count: b - a }, [part.buffer]);
      return h;
    });
    const acts = await Promise.all(shares.map((h) => h.next('acts')));
    return gather(acts.map((a) => a.acts));
  }

  /**
   * The gradient of a loss of all n images' activations with respect to the parameters: forward
   * in the workers, `central` on the gathered activations, backward in the workers.
   */
  async gradient(
    params: Float32Array,
    n: number,
    transform: DrawnTransform,
    central: CentralGradient,
  ): Promise<Float32Array> {
    const shares = this.dispatch(params, n, transform, true);
    let actMsgs;
    try {
      actMsgs = await Promise.all(shares.map(({ h }) => h.next('acts')));
    } catch (err) {
      for (const { h } of shares) h.sendGrads({ abort: (err as Error).message });
      throw err;
    }
    let grads: LayerArrays;
    try {
      grads = await central(gather(actMsgs.map((m) => m.acts)));
    } catch (err) {
      for (const { h } of shares) h.sendGrads({ abort: (err as Error).message });
      throw err;
    }
    shares.forEach(({ h, a, b }) => {
      const slices = grads.map((g) => {
        const per = g.length / n;
        return g.slice(a * per, b * per);
      });
      h.sendGrads(
        { grads: slices },
        slices.map((s) => s.buffer as ArrayBuffer),
      );
    });
    const out = new Float32Array(params.length);
    const per = this.options.perImage;
    const gradMsgs = await Promise.all(shares.map(({ h }) => h.next('grad')));
    gradMsgs.forEach((m, k) => out.set(m.grad, shares[k]!.a * per));
    return out;
  }

  private dispatch(params: Float32Array, n: number, transform: DrawnTransform, withGrad: boolean) {
    const per = this.options.perImage;
    if (params.length !== n * per)
      throw new RangeError(`NetworkPool: expected ${n} x ${per} parameters; got ${params.length}`);
    return splitShares(n, this.handles.length).map(([a, b], w) => {
      const h = this.handles[w]!;
      const part = params.slice(a * per, b * per);
      h.send({ type: 'forward', id: this.nextId++, params: part, count: b - a, transform, withGrad }, [part.buffer]);
      return { h, a, b };
    });
  }

  async close(): Promise<void> {
    for (const h of this.handles) h.send({ type: 'close' });
    await Promise.all(this.handles.map((h) => h.worker.terminate()));
  }
}

/** Concatenate the shares' per-layer arrays into per-layer arrays over all images. */
function gather(shareActs: Float32Array[][]): LayerArrays {
  const layers = shareActs[0]!.length;
  return Array.from({ length: layers }, (_, l) => {
    const parts = shareActs.map((s) => s[l]!);
    const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  });
}
