/**
 * Report figures that cannot mislead (issue #15): categorical winner-take-all colours, winner-take-
 * all only over the top 10%, the simulated background, thresholded and effect maps apart and named
 * by their statistic, and mosaics of the real Haxby run without empty tiles.
 */
import { describe, expect, it } from 'vitest';
import { requireShared } from '@orthostim/test';
import { readNifti } from '../io/nifti';
import { recoverySelection } from '../pipeline/group';
import { spaceWarningOf } from '../pipeline/group-inputs';
import type { GroupSummary, GroupTest } from './group-report';
import { displayBackground } from './display-background';
import { groupReportHtml } from './group-report';
import { layerColors, topKWinner } from './layer-figures';
import { displayAxes, mosaicSlices } from './mosaic';

const rgb = (hex: string) => [1, 3, 5].map((o) => Number.parseInt(hex.slice(o, o + 2), 16));
const distance = (a: string, b: string) => Math.hypot(...rgb(a).map((v, k) => v - rgb(b)[k]!));

describe('layer colours', () => {
  it('give neighbouring layers clearly different colours, also beyond 10 layers', () => {
    for (const n of [3, 10, 13, 20]) {
      const c = layerColors(n);
      expect(new Set(c).size).toBe(n);
      for (let k = 1; k < n; k++)
        expect(distance(c[k - 1]!, c[k]!), `${n} layers, ${k - 1} vs ${k}`).toBeGreaterThan(90);
    }
  });
});

describe('topKWinner', () => {
  it('keeps a winner only where its own value is positive and in its map top (hand case)', () => {
    const winner = [1, 2, 1, 2, 0];
    const a = [0.9, 0.1, 0.2, 0.0, 0.5];
    const b = [0.1, 0.7, 0.1, -0.9, 0.6];
    // thresholds: a >= 0.5, b >= 0.6; voxel 3 wins for b with a negative value.
    const { winner: w, counts } = topKWinner(winner, [a, b], [0.5, 0.6]);
    expect(Array.from(w)).toEqual([1, 2, 0, 0, 0]);
    expect(counts).toEqual([1, 1]);
  });
});

describe('displayBackground', () => {
  const grid = { dims: [6, 5, 4] as const, affine: [3, 0, 0, 0, 0, 3, 0, 0, 0, 0, 3, 0] };
  const n = 120;
  const noisy = Float32Array.from({ length: n }, (_, g) =>
    g % 6 === 0 ? 0 : 10000 * (0.8 + (0.4 * ((g * 7919) % 13)) / 12),
  );
  it("shows a simulated dataset's brain as a flat mask", () => {
    const flat = displayBackground(grid, noisy, { simulated: true });
    expect(Array.from(flat)).toEqual(Array.from(noisy, (v) => (v !== 0 ? 1 : 0)));
  });
  it('smooths a mean EPI within its nonzero voxels: less voxel-to-voxel variation, zeros kept', () => {
    const smooth = displayBackground(grid, noisy);
    const roughness = (v: ArrayLike<number>) => {
      let s = 0;
      for (let g = 1; g < n; g++) if (v[g] !== 0 && v[g - 1] !== 0) s += Math.abs(v[g]! - v[g - 1]!);
      return s;
    };
    expect(roughness(smooth)).toBeLessThan(roughness(noisy) * 0.7);
    for (let g = 0; g < n; g++) expect(smooth[g] === 0).toBe(noisy[g] === 0);
  });
});

describe('mosaic slices on the real Haxby run', () => {
  it('shows brain in every tile', () => {
    const bold = readNifti(requireShared('data/bids/haxby2001/sub-1/func/sub-1_task-objects_run-1_bold.nii.gz'));
    const mask = readNifti(requireShared('data/bids/haxby2001/derivatives/masks/sub-1/sub-1_desc-brain_mask.nii.gz'));
    const [nx, ny, nz] = bold.dims;
    const V = nx * ny * nz;
    const T = bold.dims[3] ?? 1;
    const mean = new Float32Array(V);
    for (let t = 0; t < T; t++) for (let g = 0; g < V; g++) mean[g] = mean[g]! + bold.data[t * V + g]! / T;
    const within = Float32Array.from(mask.data, (v) => (v > 0 ? 1 : Number.NaN));
    const slices = mosaicSlices({ dims: [nx, ny, nz], affine: bold.affine, background: mean, within, slices: 10 });
    // The slices are voxel indices along the axis that runs inferior to superior.
    const axis = displayAxes([nx, ny, nz], bold.affine)[2].voxelAxis;
    const along = (g: number) => [g % nx, Math.floor(g / nx) % ny, Math.floor(g / (nx * ny))][axis]!;
    const brainIn = (slice: number) => {
      let brain = 0;
      for (let g = 0; g < V; g++) if (mask.data[g]! > 0 && along(g) === slice) brain++;
      return brain;
    };
    expect(slices.length).toBeGreaterThan(2);
    for (const s of slices) expect(brainIn(s), `slice ${s}`).toBeGreaterThan(0);
    // Counting the mean EPI itself (nonzero outside the head) picked tiles without brain.
    const before = mosaicSlices({ dims: [nx, ny, nz], affine: bold.affine, background: mean, slices: 10 });
    expect(before.filter((s) => brainIn(s) === 0).length).toBeGreaterThan(0);
  });
});

describe('group report', () => {
  const dims = [4, 4, 2] as const;
  const n = 32;
  const grid = { dims, affine: [2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0] };
  const test = (layer: string, significant: boolean, kind?: 'model'): GroupTest => ({
    layer,
    ...(kind ? { kind } : {}),
    method: 'standard',
    nVoxels: n,
    nSignificant: significant ? 2 : 0,
    maxAbsT: 5,
    minFweP: significant ? 0.01 : 0.4,
    clusters: significant
      ? [{ cluster: 1, sizeVoxels: 2, volumeMm3: 16, peakValue: 5, peakVoxel: [1, 1, 0], peakMm: [2, 2, 0] }]
      : [],
    nClusters: significant ? 1 : 0,
    meanZ: Float32Array.from({ length: n }, (_, g) => Math.sin(g + layer.length)),
    thresholdedT: Float32Array.from({ length: n }, (_, g) => (significant && (g === 5 || g === 6) ? 5 : 0)),
  });
  const summary: GroupSummary = {
    dir: '/x',
    participants: ['01', '02', '03', '04', '05', '06'],
    tests: [test('early', true), test('late', false), test('faces', false, 'model')],
    nPatterns: 64,
    exhaustive: true,
    minAttainableP: 1 / 64,
    alpha: 0.05,
    statistic: 'pseudo-t',
    varianceSmoothingMm: 6,
    spaceWarning: "the participants' maps are in native space",
    seconds: 0,
  };
  const html = groupReportHtml({
    summary,
    grid,
    background: new Float32Array(n).fill(1),
    backgroundName: 'the brain mask',
    layers: ['early', 'late'],
    methods: ['standard'],
    wta: [
      {
        method: 'standard',
        winner: Int16Array.from({ length: n }, (_, g) => (g === 5 || g === 6 ? 1 : 0)),
        counts: [2, 0],
        effectWinner: Int16Array.from({ length: n }, (_, g) => 1 + (g % 2)),
        effectCounts: [16, 16],
      },
    ],
    dice: [
      {
        method: 'standard',
        layers: ['early', 'late'],
        matrix: Float64Array.from([1, Number.NaN, Number.NaN, Number.NaN]),
      },
    ],
    connectivity: 26,
    atlas: false,
  });
  const box = html.indexOf('<div class="unthresholded">');

  it('shows a layer without a significant voxel only inside the labelled, differently coloured effect box', () => {
    expect(box).toBeGreaterThan(0);
    expect(html.indexOf('early (standard): pseudo-t, FWE p &lt; 0.05')).toBeLessThan(box);
    expect(html.indexOf('late (standard): effect map')).toBeGreaterThan(box);
    expect(html.slice(0, box)).not.toContain('late (standard): effect map');
    expect(html.slice(0, box)).toMatch(/No voxel with FWE p &lt; 0.05: late, faces \(model RDM\)/);
    expect(html.slice(box)).toContain('Not thresholded');
    // Effect maps use PuOr (its purple end), thresholded maps RdBu_r (its dark blue end).
    expect(html.slice(box)).toContain('#2d004b');
    expect(html.slice(0, box)).not.toContain('#2d004b');
  });

  it('names the pseudo-t as such and warns about maps not in one space', () => {
    expect(html).toContain('peak pseudo-t');
    expect(html).not.toMatch(/peak t</);
    expect(html).toContain('Participants not in one space');
    expect(html).toContain('faces (model RDM)');
  });
});

describe('group-level rules the report states', () => {
  it('warns for native-space maps only', () => {
    expect(spaceWarningOf('MNI152NLin2009cAsym')).toBeUndefined();
    expect(spaceWarningOf('native')).toMatch(/native space \(space-native/);
    expect(spaceWarningOf(undefined)).toMatch(/no space entity/);
  });
  it('scores recovery on FWE maps from 6 participants on, top-k below (docs/simulate.md)', () => {
    expect([2, 5, 6, 8].map(recoverySelection)).toEqual(['top-k', 'top-k', 'fwe', 'fwe']);
  });
});
