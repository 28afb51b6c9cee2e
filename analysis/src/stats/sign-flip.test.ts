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

  it('varianceSmoothing with fwhmMm 0 gives exactly the plain t test', () => {
    const rng = createNormalRng(5);
    const maps = Array.from({ length: 9 }, () => Array.from({ length: 60 }, () => rng() + 0.3));
    const plain = signFlipTest(maps, { nPermutations: 300, seed: 2 });
    const zero = signFlipTest(maps, {
      nPermutations: 300,
      seed: 2,
      varianceSmoothing: {
        fwhmMm: 0,
        grid: { dims: [60, 1, 1], voxelSizeMm: [2, 2, 2], voxels: Array.from({ length: 60 }, (_, v) => v) },
      },
    });
    expect(zero.statistic).toBe('t');
    expect(plain.statistic).toBe('t');
    for (const k of ['mean', 't', 'p', 'fweP', 'maxNull'] as const)
      expect(Array.from(zero[k])).toEqual(Array.from(plain[k]));
  });

  it('pseudo-t on a 5-voxel line: p and FWE p equal enumeration with the smoothed variance by hand', () => {
    // FWHM 4 mm on 2 mm voxels: weights 0.5^(d^2) for |d| <= 3 (see masked-smoothing.test).
    const n = 6;
    const V = 5;
    const rng = createNormalRng(11);
    const maps = Array.from({ length: n }, () => Array.from({ length: V }, (_, v) => rng() + (v === 2 ? 1 : 0)));
    const w = (d: number) => (Math.abs(d) <= 3 ? 0.5 ** (d * d) : 0);
    const pseudo = (signs: number[]) => {
      const x = (v: number) => maps.map((m, i) => signs[i]! * m[v]!);
      const mean = (a: number[]) => a.reduce((s, y) => s + y, 0) / a.length;
      const variance = Array.from(
        { length: V },
        (_, v) => x(v).reduce((s, y) => s + (y - mean(x(v))) ** 2, 0) / (n - 1),
      );
      return Array.from({ length: V }, (_, v) => {
        let num = 0;
        let den = 0;
        for (let u = 0; u < V; u++) {
          num += w(u - v) * variance[u]!;
          den += w(u - v);
        }
        return Math.abs(mean(x(v)) / Math.sqrt(num / den / n));
      });
    };
    const obs = pseudo(Array(n).fill(1));
    const all = Array.from({ length: 2 ** n }, (_, bits) =>
      pseudo(Array.from({ length: n }, (_, i) => ((bits >> i) & 1 ? -1 : 1))),
    );
    const r = signFlipTest(maps, {
      varianceSmoothing: { fwhmMm: 4, grid: { dims: [V, 1, 1], voxelSizeMm: [2, 2, 2], voxels: [0, 1, 2, 3, 4] } },
    });
    expect(r.statistic).toBe('pseudo-t');
    expect(r.varianceSmoothingMm).toBe(4);
    expect(r.nPatterns).toBe(64);
    for (let v = 0; v < V; v++) {
      expect(Math.abs(r.t[v]!)).toBeCloseTo(obs[v]!, 4);
      expect(r.p[v]).toBeCloseTo(all.filter((a) => a[v]! >= obs[v]! - 1e-9).length / 64, 6);
      expect(r.fweP[v]).toBeCloseTo(all.filter((a) => Math.max(...a) >= obs[v]! - 1e-9).length / 64, 6);
    }
  });

  it('planted group of 8: the pseudo-t finds a consistent region that the plain t misses because of near-equal noise voxels', () => {
    // 9 x 10 x 11 grid of 2 mm voxels; a 3 x 3 x 3 region with a consistent effect (0.5 +- 0.15);
    // elsewhere noise (0 +- 0.15), except 20 scattered voxels whose 8 values are +-0.15 with
    // near-equal magnitudes: the sign pattern that aligns them gives a huge t, so the plain t's
    // maximum distribution is wide; with the variance smoothed over neighbours they are ordinary.
    const dims = [9, 10, 11] as const;
    const G = 9 * 10 * 11;
    const n = 8;
    const rng = createNormalRng(2024);
    const inRegion = (g: number) => {
      const [x, y, z] = [g % 9, Math.floor(g / 9) % 10, Math.floor(g / 90)];
      return x >= 3 && x <= 5 && y >= 3 && y <= 5 && z >= 4 && z <= 6;
    };
    const maps = Array.from({ length: n }, () => new Float64Array(G));
    for (let g = 0; g < G; g++) for (let i = 0; i < n; i++) maps[i]![g] = (inRegion(g) ? 0.5 : 0) + 0.15 * rng();
    const odd: number[] = [];
    for (let g = 7; odd.length < 20; g += 47) {
      if (inRegion(g)) continue;
      odd.push(g);
      for (let i = 0; i < n; i++) maps[i]![g] = (rng() > 0 ? 1 : -1) * 0.15 * (1 + 0.001 * rng());
    }
    const grid = { dims, voxelSizeMm: [2, 2, 2] as const, voxels: Array.from({ length: G }, (_, g) => g) };
    const region = Array.from({ length: G }, (_, g) => g).filter(inRegion);
    const plain = signFlipTest(maps, { nPermutations: 256 });
    const smoothed = signFlipTest(maps, { nPermutations: 256, varianceSmoothing: { fwhmMm: 6, grid } });
    expect(plain.exhaustive && smoothed.exhaustive).toBe(true);
    // Plain t: the region's t is large, yet no region voxel survives FWE p < .05.
    expect(Math.min(...region.map((g) => plain.fweP[g]!))).toBeGreaterThanOrEqual(0.05);
    expect(Math.min(...region.map((g) => plain.t[g]!))).toBeGreaterThan(4);
    // Patterns that align a near-equal voxel (other than the identity and its mirror) reach huge |t|.
    expect(Array.from(plain.maxNull).filter((m) => m > 30).length).toBeGreaterThan(0.05 * 256);
    // Pseudo-t: every region voxel survives, and no voxel outside it does.
    for (const g of region) expect(smoothed.fweP[g], `voxel ${g}`).toBeLessThan(0.05);
    let outside = 0;
    for (let g = 0; g < G; g++) if (!inRegion(g) && smoothed.fweP[g]! < 0.05) outside++;
    expect(outside).toBe(0);
  });
});
