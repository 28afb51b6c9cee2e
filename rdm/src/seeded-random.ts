/**
 * Seeded pseudo-random numbers (mulberry32) for reproducible permutations, synthesis seeds and
 * test fixtures. Not cryptographic.
 */
export type Rng = () => number;

/** Uniform numbers in [0, 1) from a 32-bit seed; the same seed gives the same sequence. */
export function createRng(seed: number): Rng {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal deviates from a uniform source (Box-Muller). */
export function createNormalRng(seed: number): Rng {
  const uniform = createRng(seed);
  let spare = Number.NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const v = spare;
      spare = Number.NaN;
      return v;
    }
    const u = 1 - uniform(); // (0, 1]: log stays finite
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/**
 * A 32-bit seed from a base seed and a path of integers (murmur3 finalizer mixing), so each random
 * stream (a synthesis step's transform, a simulated run's noise) has its own seed that does not
 * depend on how many numbers other streams used.
 */
export function deriveSeed(seed: number, ...path: number[]): number {
  let h = (seed >>> 0) ^ 0x9e3779b9;
  for (const p of path) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}
