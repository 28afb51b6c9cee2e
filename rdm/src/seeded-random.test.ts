import { describe, expect, it } from 'vitest';
import { createNormalRng, createRng, deriveSeed } from './seeded-random';

describe('seeded random numbers', () => {
  it('repeat for a seed, differ between seeds, stay in [0, 1)', () => {
    const a = createRng(123);
    const b = createRng(123);
    const c = createRng(124);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    // mean of U(0,1) is 1/2 with standard error 1/sqrt(12 * 1000) ~ 0.009
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / 1000 - 0.5)).toBeLessThan(0.04);
  });

  it('normal deviates have mean 0 and variance 1', () => {
    const rnd = createNormalRng(1);
    const xs = Array.from({ length: 20000 }, () => rnd());
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03); // se 0.007
    expect(Math.abs(variance - 1)).toBeLessThan(0.05); // se 0.01
  });
});

describe('deriveSeed', () => {
  it('gives every path its own 32-bit seed (order matters) and the same seed for the same path', () => {
    const seeds = new Set<number>();
    for (let a = 0; a < 20; a++) for (let b = 0; b < 20; b++) seeds.add(deriveSeed(7, a, b));
    expect(seeds.size).toBe(400);
    expect(deriveSeed(7, 1, 2)).toBe(deriveSeed(7, 1, 2));
    expect(deriveSeed(7, 1, 2)).not.toBe(deriveSeed(7, 2, 1));
    expect(deriveSeed(7, 1)).not.toBe(deriveSeed(8, 1));
    for (const s of seeds) expect(Number.isInteger(s) && s >= 0 && s <= 0xffffffff).toBe(true);
  });
});
