/**
 * Adam (Kingma & Ba 2015) on typed arrays. Owning it (rather than tf.train.adam) makes its state
 * plain arrays that a checkpoint stores bit for bit, and the update one deterministic JavaScript
 * loop (float64 arithmetic, float32 storage), so a resumed run continues exactly.
 */
export interface AdamSettings {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export const DEFAULT_ADAM: Omit<AdamSettings, 'lr'> = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

export interface AdamState {
  /** Steps taken so far. */
  t: number;
  /** First and second moment estimates, one per parameter. */
  m: Float32Array;
  v: Float32Array;
}

export function createAdamState(size: number): AdamState {
  return { t: 0, m: new Float32Array(size), v: new Float32Array(size) };
}

/** One Adam step: update `params` in place from `grad` (gradient of the loss to minimize). */
export function adamStep(params: Float32Array, grad: Float32Array, state: AdamState, s: AdamSettings): void {
  if (grad.length !== params.length || state.m.length !== params.length) {
    throw new RangeError(
      `adamStep: params (${params.length}), grad (${grad.length}) and state (${state.m.length}) must have the same length`,
    );
  }
  state.t += 1;
  const { m, v } = state;
  const c1 = 1 - s.beta1 ** state.t;
  const c2 = 1 - s.beta2 ** state.t;
  const stepSize = (s.lr * Math.sqrt(c2)) / c1;
  const epsHat = s.epsilon * Math.sqrt(c2);
  for (let i = 0; i < params.length; i++) {
    const g = grad[i]!;
    const mi = s.beta1 * m[i]! + (1 - s.beta1) * g;
    const vi = s.beta2 * v[i]! + (1 - s.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    // lr * mhat / (sqrt(vhat) + eps), written with the bias corrections folded in.
    params[i] = params[i]! - (stepSize * mi) / (Math.sqrt(vi) + epsHat);
  }
}
