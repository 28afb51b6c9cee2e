import { describe, expect, it } from 'vitest';
import { adamStep, createAdamState, DEFAULT_ADAM } from './adam';

/** Textbook Adam (Kingma & Ba, Algorithm 1) in float64, for comparison. */
function referenceAdam(p0: number[], grads: number[][], lr: number): number[] {
  const { beta1, beta2, epsilon } = DEFAULT_ADAM;
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, k) => {
    const t = k + 1;
    for (let i = 0; i < p.length; i++) {
      m[i] = beta1 * m[i]! + (1 - beta1) * g[i]!;
      v[i] = beta2 * v[i]! + (1 - beta2) * g[i]! ** 2;
      const mh = m[i]! / (1 - beta1 ** t);
      const vh = v[i]! / (1 - beta2 ** t);
      p[i] = p[i]! - (lr * mh) / (Math.sqrt(vh) + epsilon);
    }
  });
  return p;
}

describe('adamStep', () => {
  it('moves each parameter by lr against the sign of its gradient on the first step', () => {
    const p = Float32Array.from([1, -2, 0.5]);
    adamStep(p, Float32Array.from([3, -0.01, 0]), createAdamState(3), { lr: 0.1, ...DEFAULT_ADAM });
    expect(p[0]).toBeCloseTo(0.9, 6);
    expect(p[1]).toBeCloseTo(-1.9, 5);
    expect(p[2]).toBe(0.5);
  });

  it('matches textbook Adam over several steps', () => {
    const grads = [
      [0.3, -1, 2],
      [0.1, -0.5, -2],
      [-0.2, 0.4, 1],
      [0.05, 0.05, 0.05],
    ];
    const p = Float32Array.from([0.2, 0.4, -0.6]);
    const state = createAdamState(3);
    for (const g of grads) adamStep(p, Float32Array.from(g), state, { lr: 0.05, ...DEFAULT_ADAM });
    const ref = referenceAdam([0.2, 0.4, -0.6], grads, 0.05);
    expect(state.t).toBe(4);
    ref.forEach((r, i) => expect(p[i]).toBeCloseTo(r, 5));
  });

  it('continues identically from a copied state (what a checkpoint stores)', () => {
    const grads = Array.from({ length: 6 }, (_, k) => Float32Array.from([Math.sin(k), Math.cos(3 * k), 0.1 * k]));
    const s = { lr: 0.01, ...DEFAULT_ADAM };
    const a = Float32Array.from([1, 2, 3]);
    const sa = createAdamState(3);
    for (const g of grads) adamStep(a, g, sa, s);
    const b = Float32Array.from([1, 2, 3]);
    let sb = createAdamState(3);
    for (const g of grads.slice(0, 3)) adamStep(b, g, sb, s);
    sb = { t: sb.t, m: Float32Array.from(sb.m), v: Float32Array.from(sb.v) };
    const b2 = Float32Array.from(b);
    for (const g of grads.slice(3)) adamStep(b2, g, sb, s);
    expect(Array.from(b2)).toEqual(Array.from(a));
  });
});
