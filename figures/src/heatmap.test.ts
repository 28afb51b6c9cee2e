import { describe, expect, it } from 'vitest';
import { computeRdm, createNormalRng, toSquare } from '@orthostim/rdm';
import { NAN_RGB, RdBu_r, viridis } from './colormaps';
import { heatmapGridSvg, matrixSvg, rankTransformSquare } from './heatmap';
import { svgToPng } from './render';
import { decodePng, hexRgb, pixel, regionsOfColor, type Decoded } from './testing/decoded-png';

const lutAt = (lut: Uint8Array, k: number) => [lut[3 * k]!, lut[3 * k + 1]!, lut[3 * k + 2]!];

/** The one region of exactly `rgb` that is `size` x `size` pixels: a planted cell. */
function findCell(img: Decoded, rgb: readonly number[], size: number) {
  const cells = regionsOfColor(img, rgb).filter(
    (b) => b.width === size && b.height === size && b.pixels === size * size,
  );
  expect(cells, `one ${size}x${size} cell of rgb(${rgb.join(',')})`).toHaveLength(1);
  return cells[0]!;
}

describe('heatmapGridSvg', () => {
  // 4 images: off-diagonal values 1..6 except a NaN at (0,3); planted min 0.5 at (1,2), max 9 at (2,0)
  // prettier-ignore
  const square = Float64Array.from([0, 1, 9, Number.NaN, 1, 0, 0.5, 5, 9, 0.5, 0, 6, Number.NaN, 5, 6, 0]);

  it('draws each cell crisp in its colour: planted min, max, NaN grey; diagonal clipped to the min colour', async () => {
    const svg = heatmapGridSvg({ panels: [{ title: 'layer A', n: 4, values: square }], panelSize: 200 });
    const img = await decodePng(await svgToPng(svg));
    // 200 px / 4 cells = 50 px per cell; the NaN cell (0,3) and its mirror (3,0) are both grey squares
    const nanCells = regionsOfColor(img, NAN_RGB).filter((b) => b.width === 50 && b.height === 50 && b.pixels === 2500);
    expect(nanCells).toHaveLength(2);
    const x0 = Math.min(...nanCells.map((b) => b.x)); // column 0
    const y0 = Math.min(...nanCells.map((b) => b.y)); // row 0
    const cell = (i: number, j: number, dx = 25, dy = 25) => pixel(img, x0 + 50 * j + dx, y0 + 50 * i + dy);
    // per-panel range = off-diagonal [0.5, 9]
    expect(cell(1, 2)).toEqual(lutAt(viridis.lut, 0));
    expect(cell(2, 0)).toEqual(lutAt(viridis.lut, 255));
    expect(cell(1, 1)).toEqual(lutAt(viridis.lut, 0)); // diagonal 0 < min clips
    // 5 -> floor((5 - 0.5) / 8.5 * 256) = floor(135.5) = 135; checked 2 px inside the cell edge: no smoothing
    expect(cell(1, 3, 2, 2)).toEqual(lutAt(viridis.lut, 135));
    expect(cell(1, 3, 47, 47)).toEqual(lutAt(viridis.lut, 135));
    expect(svg).toContain('layer A');
  });

  it('uses one shared colour range when asked', async () => {
    const svg = heatmapGridSvg({
      panels: [
        { title: 'A', n: 4, values: square },
        { title: 'B', n: 4, values: square.map((v) => v / 2) },
      ],
      range: [0, 9],
      panelSize: 120,
    });
    const img = await decodePng(await svgToPng(svg));
    // 9 -> top of the map in panel A; in panel B the largest value is 4.5 -> entry 128
    expect(regionsOfColor(img, lutAt(viridis.lut, 255)).some((b) => b.width === 30 && b.height === 30)).toBe(true);
    expect(regionsOfColor(img, lutAt(viridis.lut, 128)).some((b) => b.width === 30 && b.height === 30)).toBe(true);
    expect(svg).toContain('dissimilarity');
  });

  it('rank: true shows percentiles of the off-diagonal dissimilarities', async () => {
    // upper triangle 1, 2, 3, 1000, 4, 5: ranks 1, 2, 3, 6, 4, 5 -> percentiles (r - 1) / 5 * 100
    const vals = toSquare([1, 2, 3, 1000, 4, 5], 4);
    const pct = rankTransformSquare(vals, 4);
    expect([...pct]).toEqual([0, 0, 20, 40, 0, 0, 100, 60, 20, 100, 0, 80, 40, 60, 80, 0]);
    const img = await decodePng(
      await svgToPng(heatmapGridSvg({ panels: [{ title: 'ranked', n: 4, values: vals }], rank: true, panelSize: 200 })),
    );
    // the outlier is at the top of the map, and 3 (60th percentile) at floor(0.6 * 256) = 153, not near the bottom
    expect(regionsOfColor(img, lutAt(viridis.lut, 255)).filter((b) => b.width === 50 && b.height === 50)).toHaveLength(
      2,
    );
    expect(regionsOfColor(img, lutAt(viridis.lut, 153)).filter((b) => b.width === 50 && b.height === 50)).toHaveLength(
      2,
    );
  });

  it('ties share a percentile; NaN stays NaN', () => {
    const pct = rankTransformSquare(toSquare([2, 2, Number.NaN], 3), 3);
    // two finite values tied at rank 1.5 -> (1.5 - 1) / (2 - 1) * 100 = 50
    expect(pct[1]).toBe(50);
    expect(pct[2]).toBe(50);
    expect(pct[5]).toBeNaN();
  });

  it('labels the axes when cells are large enough, and leaves them off when not', () => {
    const labels = ['cat <1>', 'dog & co', 'car', 'house'];
    const svg = heatmapGridSvg({ panels: [{ title: 'conv1', n: 4, values: square }], labels });
    expect(svg).toContain('cat &lt;1&gt;');
    expect(svg).toContain('dog &amp; co');
    const rdm = computeRdm(Float64Array.from({ length: 60 * 3 }, createNormalRng(1)), 60, 3, 'euclidean');
    const many = Array.from({ length: 60 }, (_, i) => `img${i}`);
    expect(
      heatmapGridSvg({ panels: [{ title: 'x', n: 60, values: toSquare(rdm, 60) }], labels: many, panelSize: 200 }),
    ).not.toContain('img7<');
  });

  it('refuses panels that are not n x n and label lists of the wrong length', () => {
    expect(() => heatmapGridSvg({ panels: [{ title: 'bad', n: 3, values: new Float64Array(8) }] })).toThrow(
      'heatmapGridSvg: panel 0 ("bad") must hold n*n = 3*3 values; got 8',
    );
    expect(() => heatmapGridSvg({ panels: [{ title: 'p', n: 4, values: square }], labels: ['a'] })).toThrow(
      /1 labels for panel 0 \("p"\) of 4 images/,
    );
    expect(() => heatmapGridSvg({ panels: [] })).toThrow(/no panels/);
  });

  it('renders a 1000 x 1000 RDM as one raster, to a PNG of the declared size', async () => {
    const n = 1000;
    const rdm = computeRdm(Float64Array.from({ length: n * 4 }, createNormalRng(2)), n, 4, 'euclidean');
    const svg = heatmapGridSvg({
      panels: [{ title: 'inception_5b (1000 images)', n, values: toSquare(rdm, n) }],
      panelSize: 400,
    });
    expect(svg.match(/<image /g)).toHaveLength(2); // the matrix and the colour bar
    expect(svg.length).toBeLessThan(8e6);
    const png = await svgToPng(svg);
    const img = await decodePng(png);
    const [, w, h] = /width="(\d+)" height="(\d+)"/.exec(svg)!;
    expect([img.width, img.height]).toEqual([Number(w), Number(h)]);
    expect(png.length).toBeLessThan(2e6);
  });
});

describe('matrixSvg', () => {
  const layers = ['conv1', 'inception_3a', 'inception_4c/3x3'];
  const m = [
    [1, 0.8, -1],
    [0.8, 1, Number.NaN],
    [-1, Number.NaN, 1],
  ];

  it('colours cells over the given range, NaN grey, with labels and 2-decimal annotations', async () => {
    const svg = matrixSvg({
      rowLabels: layers,
      colLabels: layers,
      values: m,
      title: 'Layer similarity',
      range: [-1, 1],
      cellSize: 40,
      annotate: false,
    });
    const img = await decodePng(await svgToPng(svg));
    // RdBu_r ends: -1 -> #053061 (two mirrored cells), 1 -> #67001f (the diagonal, 3 cells)
    expect(regionsOfColor(img, hexRgb('#053061')).filter((b) => b.width === 40 && b.height === 40)).toHaveLength(2);
    expect(regionsOfColor(img, hexRgb('#67001f')).filter((b) => b.width === 40 && b.height === 40)).toHaveLength(3);
    const nanCells = regionsOfColor(img, NAN_RGB).filter((b) => b.width === 40 && b.height === 40);
    expect(nanCells).toHaveLength(2); // (1,2) and (2,1)
    const nan = nanCells.reduce((a, b) => (b.x > a.x ? b : a)); // (1,2)
    // cell (0,1), up and left of (1,2), holds 0.8 -> floor((0.8 + 1) / 2 * 256) = floor(230.4) = 230
    expect(pixel(img, nan.x - 40 + 20, nan.y - 40 + 20)).toEqual(lutAt(RdBu_r.lut, 230));
    for (const l of layers) expect(svg).toContain(`>${l}</text>`);
    expect(svg).toContain('Layer similarity');
  });

  it('annotates small matrices with two decimals, never "-0.00"', () => {
    const svg = matrixSvg({
      rowLabels: ['a', 'b'],
      colLabels: ['x', 'y'],
      values: [
        [-0.001, 0.8],
        [0.126, Number.NaN],
      ],
      range: [-1, 1],
    });
    expect(svg).toContain('>0.00</text>');
    expect(svg).not.toContain('-0.00');
    expect(svg).toContain('>0.80</text>');
    expect(svg).toContain('>0.13</text>');
    expect(svg).toContain('>NaN</text>');
  });

  it('accepts rectangular matrices and refuses ragged ones', async () => {
    const svg = matrixSvg({
      rowLabels: ['r1', 'r2'],
      colLabels: ['c1', 'c2', 'c3'],
      values: [
        [0, 1, 2],
        [3, 4, 5],
      ],
      range: [0, 5],
      cmap: 'viridis',
      cellSize: 30,
      annotate: false,
    });
    const img = await decodePng(await svgToPng(svg));
    // value 5 -> top entry, 0 -> bottom entry, each one 30 x 30 cell
    findCell(img, lutAt(viridis.lut, 255), 30);
    findCell(img, lutAt(viridis.lut, 0), 30);
    expect(() =>
      matrixSvg({ rowLabels: ['a', 'b'], colLabels: ['x', 'y'], values: [[1, 2], [3]], range: [0, 1] }),
    ).toThrow('matrixSvg: row 1 has 1 values, row 0 has 2');
    expect(() =>
      matrixSvg({
        rowLabels: ['a'],
        colLabels: ['x', 'y'],
        values: [
          [1, 2],
          [3, 4],
        ],
        range: [0, 1],
      }),
    ).toThrow(/1 row and 2 column labels for a 2 x 2 matrix/);
  });
});
