/**
 * Gradients like `tf.grads`, but with memory released during the backward pass. tfjs-core keeps
 * every intermediate gradient and every tensor saved for the backward pass until the whole
 * backward pass ends, so a backward pass through GoogLeNet peaks at about twice the forward
 * tape. Here each tape node's output gradients and saved tensors are disposed as soon as that
 * node has been processed (nothing later reads them: a tensor's gradient is complete once its
 * producer is reached, and saved tensors belong to one node). Results equal `tf.grads`.
 *
 * This drives tfjs-core's engine through members its typings mark private (state.activeTape,
 * startTape/endTape, scopedRun); lean-gradients.test.ts checks it against tf.grads.
 */
import * as tf from '@tensorflow/tfjs';

interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(name: string | (() => T), f?: () => T): T;
}

/** Nodes on a path from any of xs to y, with inputs not depending on xs pruned. */
function pathNodes(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      nodesFromX.add(node.id);
      for (const o of node.outputs) fromX.add(o.id);
    }
  }
  const toY = new Set([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (node.outputs.some((o) => toY.has(o.id))) {
      nodesToY.add(node.id);
      for (const t of Object.values(node.inputs)) toY.add(t.id);
    }
  }
  return tape
    .filter((n) => nodesFromX.has(n.id) && nodesToY.has(n.id))
    .map((n) => ({ ...n, inputs: Object.fromEntries(Object.entries(n.inputs).filter(([, t]) => fromX.has(t.id))) }));
}

/** d(sum(f(xs) * dy))/dxs (dy defaults to ones), releasing memory as the backward pass goes. */
export function leanGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor): tf.Tensor[] {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.state.gradientDepth !== 0) throw new Error('leanGrads: higher-order gradients are not supported');
  // Like tf.grads: the value of f is released unless f kept it (tf.keep).
  return engine.tidy(() => backward(engine, f, xs, dy));
}

function backward(
  engine: EngineInternals,
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  xs: tf.Tensor[],
  dy?: tf.Tensor,
): tf.Tensor[] {
  const y = engine.scopedRun(
    () => engine.startTape(),
    () => engine.endTape(),
    () => engine.tidy('forward', () => f(...xs)),
  );
  const tape = engine.state.activeTape ?? [];
  const nodes = pathNodes(tape, xs, y);
  const keep = new Set(xs.map((x) => x.id));
  try {
    return engine.tidy('backward', () => {
      const acc = new Map<number, tf.Tensor>([[y.id, dy ?? tf.onesLike(y)]]);
      for (let i = nodes.length - 1; i >= 0; i--) {
        const node = nodes[i]!;
        if (!node.gradient) throw new Error(`leanGrads: no gradient for ${node.kernelName}`);
        const grads = node.gradient(node.outputs.map((o) => acc.get(o.id) ?? null));
        const produced = new Set<tf.Tensor>();
        for (const [name, x] of Object.entries(node.inputs)) {
          const g = grads[name];
          if (!g) throw new Error(`leanGrads: ${node.kernelName} has no gradient for input ${name}`);
          const dx = engine.tidy(() => g());
          const prev = acc.get(x.id);
          if (prev) {
            acc.set(x.id, tf.add(prev, dx));
            if (!produced.has(prev)) prev.dispose();
            dx.dispose();
          } else acc.set(x.id, dx);
          produced.add(acc.get(x.id)!);
        }
        // This node's output gradients and saved tensors are needed by nothing else.
        for (const o of node.outputs) {
          const g = acc.get(o.id);
          if (g && !keep.has(o.id) && !produced.has(g) && g !== dy) {
            acc.delete(o.id);
            g.dispose();
          }
        }
        for (const t of node.saved ?? []) t.dispose();
      }
      return xs.map((x) => acc.get(x.id) ?? tf.zerosLike(x));
    });
  } finally {
    for (const node of tape) for (const t of node.saved ?? []) t.dispose();
    engine.state.activeTape = null;
  }
}
