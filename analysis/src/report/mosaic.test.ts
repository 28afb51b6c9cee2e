import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { colorize } from '@orthostim/figures';
import { createRng } from '@orthostim/rdm';
import { displayAxes, mosaicSlices, renderMosaic } from './mosaic';

async function decode(png: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(3);
  return { data, width: info.width, height: info.height };
}

describe('renderMosaic', () => {
  const dims = [5, 6, 7] as const;
  const n = 5 * 6 * 7;
  const rng = createRng(4);
  const background = Float32Array.from({ length: n }, () => 1 + rng());
  const at = (i: number, j: number, k: number) => i + 5 * (j + 6 * k);

  it("puts the subject's right on the right, anterior at the top, slices inferior to superior (LAS storage)", async () => {
    // LAS: voxel i grows toward the subject's left, so i = 0 is the rightmost voxel.
    const affine = [-1, 0, 0, 2, 0, 1, 0, -3, 0, 0, 1, -3, 0, 0, 0, 1];
    expect(displayAxes(dims, affine).map((a) => [a.voxelAxis, a.sign])).toEqual([
      [0, -1],
      [1, 1],
      [2, 1],
    ]);
    const overlay = new Float32Array(n).fill(Number.NaN);
    overlay[at(0, 5, 3)] = 1; // right, most anterior, 4th slice from the bottom
    const m = renderMosaic({
      dims,
      affine,
      background,
      overlay: { kind: 'continuous', values: overlay, threshold: 0.5, range: [-1, 1], cmap: 'RdBu_r' },
      slices: 7,
      columns: 7,
      slicePx: 6,
    });
    expect(m.sliceZMm).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    const img = await decode(m.png);
    expect([img.width, img.height]).toEqual([7 * 5 + 6 * 2, 6]);
    const red = colorize([1], -1, 1, 'RdBu_r');
    const coloured: [number, number][] = [];
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        const o = 3 * (y * img.width + x);
        const [r, g, b] = [img.data[o]!, img.data[o + 1]!, img.data[o + 2]!];
        if (r !== g || g !== b) {
          coloured.push([x, y]);
          expect([r, g, b]).toEqual([...red]);
        }
      }
    }
    // Tile 3 starts at x = 3 * (5 + 2) = 21; its last column (the subject's right) is x = 25; top row y = 0.
    expect(coloured).toEqual([[25, 0]]);
  });

  it('reads the orientation from the affine whatever the storage order (RAS, axes permuted)', async () => {
    // Storage axes (i, j, k) = (A, S, R): world x comes from k, y from i, z from j.
    const affine = [0, 0, 1, -3, 1, 0, 0, -2, 0, 1, 0, -2.5, 0, 0, 0, 1];
    const axes = displayAxes(dims, affine);
    expect(axes.map((a) => [a.voxelAxis, a.sign])).toEqual([
      [2, 1],
      [0, 1],
      [1, 1],
    ]);
    const labels = new Float32Array(n);
    labels[at(4, 0, 6)] = 2; // most anterior (i = 4), lowest slice (j = 0), most right (k = 6)
    const m = renderMosaic({
      dims,
      affine,
      background,
      overlay: { kind: 'labels', values: labels, colors: ['#ff0000', '#00ff00'] },
      slices: 6,
      columns: 6,
      slicePx: 7,
    });
    const img = await decode(m.png);
    // Tiles are 7 (R-L, from k) x 5 (A-P, from i) pixels; the voxel is in tile 0, right column, top row.
    expect([img.width, img.height]).toEqual([6 * 7 + 5 * 2, 5]);
    const o = 3 * (0 * img.width + 6);
    expect([img.data[o], img.data[o + 1], img.data[o + 2]]).toEqual([0, 255, 0]);
  });

  it('keeps the voxel aspect ratio with integer pixel factors', async () => {
    const affine = [2, 0, 0, 0, 0, 3, 0, 0, 0, 0, 4, 0, 0, 0, 0, 1];
    const m = renderMosaic({ dims, affine, background, slices: 1, slicePx: 36 });
    const img = await decode(m.png);
    // scale = 36 / max(5 * 2, 6 * 3) = 2 px per mm: 4 px per voxel along x, 6 along y.
    expect([img.width, img.height]).toEqual([5 * 4, 6 * 6]);
  });

  it('spreads the slices over those holding at least 15% of the fullest slice (no tiles for the tips)', () => {
    const d = [4, 4, 20] as const;
    const bg = new Float32Array(4 * 4 * 20);
    const counts = [0, 1, 2, 3, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 3, 2, 1, 0]; // 15% of 16 = 2.4
    counts.forEach((c, k) => {
      for (let v = 0; v < c; v++) bg[k * 16 + v] = 100 + v;
    });
    const affine = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0];
    expect(mosaicSlices({ dims: d, affine, background: bg, slices: 20 })).toEqual([
      3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
    ]);
    expect(mosaicSlices({ dims: d, affine, background: bg, slices: 3 })).toEqual([3, 10, 16]);
    // A support value counts like brain: a tip slice with 4 supported voxels is kept.
    const support = new Float32Array(bg.length).fill(Number.NaN);
    for (let v = 0; v < 4; v++) support[1 * 16 + v] = 0.5;
    expect(mosaicSlices({ dims: d, affine, background: bg, support, slices: 20 })[0]).toBe(1);
  });
});
