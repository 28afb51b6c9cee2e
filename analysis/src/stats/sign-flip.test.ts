import { describe, expect, it } from 'vitest';
import { createNormalRng } from '@orthostim/rdm';
import { signFlipTest } from './sign-flip';

/** Textbook t with explicit sign vectors: the independent reference. */
function tStat(x: number[]): number {
  const n = x.length;
  const m = x.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
  return m / (sd / Math.sqrt(n));
}

function enumerate(maps: number[][]) {
  const n = maps.length;
  const V = maps[0]!.length;
  const obs = Array.from({ length: V }, (_, v) => Math.abs(tStat(maps.map((m) => m[v]!))));
  const all: number[][] = [];
  for (let bits = 0; bits < 2 ** n; bits++) {
    const signs = Array.from({ length: n }, (_, i) => ((bits >> i) & 1 ? -1 : 1));
    all.push(Array.from({ length: V }, (_, v) => Math.abs(tStat(maps.map((m, i) => signs[i]! * m[v]!)))));
  }
  const eps = 1e-9;
  const p = obs.map((o, v) => all.filter((ts) => ts[v]! >= o - eps).length / all.length);
  const fwe = obs.map((o) => all.filter((ts) => Math.max(...ts) >= o - eps).length / all.length);
  return { obs, p, fwe };
}

describe('signFlipTest', () => {
  it('n = 3 by hand: voxel [1, 2, 3] has t = 2 sqrt(3) and p = 2/8 (only all-plus and all-minus reach it)', () => {
    const maps = [[1], [2], [3]];
    const r = signFlipTest(maps);
    expect(r.exhaustive).toBe(true);
    expect(r.nPatterns).toBe(8);
    expect(r.t[0]).toBeCloseTo(2 * Math.sqrt(3), 5);
    expect(r.mean[0]).toBeCloseTo(2, 6);
    expect(r.p[0]).toBe(0.25);
    expect(r.fweP[0]).toBe(0.25);
    expect(r.minAttainableP).toBe(0.25);
    expect(r.note).toMatch(/no voxel can reach p < 0.05/);
  });

  for (const n of [3, 4]) {
    it(`n = ${n}: p and FWE p equal exact enumeration over all ${2 ** n} sign patterns`, () => {
      const rng = createNormalRng(n);
      const maps = Array.from({ length: n }, () => Array.from({ length: 9 }, (_, v) => rng() + (v < 3 ? 1.5 : 0)));
      const r = signFlipTest(maps);
      const ref = enumerate(maps);
      for (let v = 0; v < 9; v++) {
        expect(Math.abs(r.t[v]!)).toBeCloseTo(ref.obs[v]!, 4);
        expect(r.p[v]).toBeCloseTo(ref.p[v]!, 10);
        expect(r.fweP[v]).toBeCloseTo(ref.fwe[v]!, 10);
        expect(r.fweP[v]!).toBeGreaterThanOrEqual(r.p[v]!);
      }
    });
  }

  it('n = 17 (three blocks of participants): exact over all 131072 patterns, against a direct loop', () => {
    const n = 17;
    const rng = createNormalRng(17);
    const maps = Array.from({ length: n }, () => Array.from({ length: 3 }, (_, v) => rng() + 0.4 * v));
    const r = signFlipTest(maps, { nPermutations: 2 ** n });
    expect(r.exhaustive).toBe(true);
    const x = new Float64Array(n);
    const obs = [0, 1, 2].map((v) => Math.abs(tStat(maps.map((m) => m[v]!))));
    const exceed = [0, 0, 0];
    let fweExceed = [0, 0, 0];
    for (let bits = 0; bits < 2 ** n; bits++) {
      let max = 0;
      const ts = [0, 1, 2].map((v) => {
        for (let i = 0; i < n; i++) x[i] = (bits >> i) & 1 ? -maps[i]![v]! : maps[i]![v]!;
        let m = 0;
        for (let i = 0; i < n; i++) m += x[i]!;
        m /= n;
        let ss = 0;
        for (let i = 0; i < n; i++) ss += (x[i]! - m) ** 2;
        const t = Math.abs(m / Math.sqrt(ss / (n - 1) / n));
        max = Math.max(max, t);
        return t;
      });
      ts.forEach((t, v) => (exceed[v]! += t >= obs[v]! - 1e-9 ? 1 : 0));
      fweExceed = fweExceed.map((c, v) => c + (max >= obs[v]! - 1e-9 ? 1 : 0));
    }
    for (let v = 0; v < 3; v++) {
      expect(r.p[v]).toBeCloseTo(exceed[v]! / 2 ** n, 6);
      expect(r.fweP[v]).toBeCloseTo(fweExceed[v]! / 2 ** n, 6);
    }
  });

  it('skips voxels with a NaN or no variance, and says when p < 0.05 is out of reach', () => {
    const maps = [
      [1, NaN, 2, 0.3],
      [1, 1, 2, 0.1],
      [1, 2, 2, -0.2],
      [1, 3, 2, 0.4],
      [1, 4, 2, 0.2],
    ];
    const r = signFlipTest(maps);
    expect([r.t[0], r.t[1], r.t[2]].every(Number.isNaN)).toBe(true);
    expect(r.p[3]).toBeGreaterThan(0);
    expect(r.minAttainableP).toBeCloseTo(2 / 32);
    expect(r.note).toMatch(/5 participants.*at least 6 participants/);
    const six = signFlipTest([...maps, [1, 5, 2, 0.5]]);
    expect(six.minAttainableP).toBeCloseTo(2 / 64);
    expect(six.note).toBeUndefined();
  });

  it('random patterns: seeded, reproducible, identity included; strong effects get small FWE p', () => {
    const rng = createNormalRng(9);
    const n = 14; // 16384 patterns > 500: random
    const maps = Array.from({ length: n }, () => Array.from({ length: 2000 }, (_, v) => rng() + (v < 20 ? 3 : 0)));
    const a = signFlipTest(maps, { nPermutations: 500, seed: 3 });
    const b = signFlipTest(maps, { nPermutations: 500, seed: 3 });
    const c = signFlipTest(maps, { nPermutations: 500, seed: 4 });
    expect(a.exhaustive).toBe(false);
    expect(a.nPatterns).toBe(500);
    expect(Array.from(a.fweP)).toEqual(Array.from(b.fweP));
    expect(Array.from(a.maxNull)).not.toEqual(Array.from(c.maxNull));
    expect(a.maxNull[0]).toBeCloseTo(Math.max(...Array.from(a.t, Math.abs)), 4);
    for (let v = 0; v < 20; v++) expect(a.fweP[v]!).toBeLessThan(0.05);
    const nullFwe = Array.from(a.fweP.subarray(20));
    expect(nullFwe.filter((q) => q < 0.05).length).toBeLessThan(10); // ~5% family-wise, none expected
    expect(Math.min(...nullFwe)).toBeGreaterThanOrEqual(1 / 500);
  });
});
