/**
 * Figures about layers shared by the participant and group reports: layer colours, the stimulus
 * set's layer x layer RDM-similarity matrix, a layer map as a slice mosaic, the winner-take-all map
 * with its legend.
 */
import {
  CATEGORICAL_COLORS,
  colormapFromAnchors,
  matrixSvg,
  type Colormap,
  type ColormapName,
} from '@orthostim/figures';
import type { StimulusSet } from '@orthostim/protocol';
import type { GridRef } from '../pipeline/map-writer';
import { colorbarHtml, legendHtml, mosaicFigure, svgFigure } from './html';
import { renderMosaic } from './mosaic';

/** '#rrggbb' of a colour given as hue (degrees), saturation and lightness (0..1). */
function hslHex(h: number, s: number, l: number): string {
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    const c = l - s * Math.min(l, 1 - l) * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(c * 255)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

/**
 * Categorical colours for n layers (winner-take-all maps): tab10 up to 10; beyond, hues a golden
 * angle (137.5 degrees) apart with alternating lightness, so neighbouring layers never get
 * neighbouring colours (viridis steps did: 13 GoogLeNet layers could not be told apart).
 */
export function layerColors(n: number): string[] {
  if (n <= CATEGORICAL_COLORS.length) return CATEGORICAL_COLORS.slice(0, n);
  return Array.from({ length: n }, (_, k) => hslHex((k * 137.508) % 360, 0.75, k % 2 === 0 ? 0.45 : 0.65));
}

/**
 * The colour map of unthresholded (descriptive) effect maps: ColorBrewer PuOr, purple for
 * negative, orange for positive, so they never look like the thresholded maps (RdBu_r).
 */
export const EFFECT_CMAP: Colormap = colormapFromAnchors('PuOr_r', 'diverging', [
  '#2d004b',
  '#542788',
  '#8073ac',
  '#b2abd2',
  '#d8daeb',
  '#f7f7f7',
  '#fee0b6',
  '#fdb863',
  '#e08214',
  '#b35806',
  '#7f3b08',
]);

export function layerSimilarityFigure(set: StimulusSet): string {
  const values = set.layerSimilarity.spearman.map((row) => row.map((v) => (v === null ? Number.NaN : v)));
  return svgFigure(
    matrixSvg({
      rowLabels: set.layers,
      colLabels: set.layers,
      values,
      range: [-1, 1],
      title: "Layer x layer similarity of the set's RDMs (Spearman)",
      colorbarLabel: 'Spearman r',
    }),
    `How alike the layers' RDMs are in this stimulus set (${set.model.name}, ${set.images.length} images, ${set.distance} distance). The residual method removes what each layer shares with the others.`,
  );
}

export interface MapMosaicSpec {
  grid: GridRef;
  background: ArrayLike<number>;
  values: ArrayLike<number>;
  threshold: number;
  /** Symmetric colour limit (RdBu_r from -vmax to vmax). */
  vmax: number;
  /** Colour range for one-signed maps (e.g. tSNR: [0, max]); overrides the symmetric range. */
  range?: readonly [number, number];
  title: string;
  caption: string;
  unit: string;
  cmap?: ColormapName | Colormap;
  /** The slices to show (mosaicSlices): the same for every map of a report. */
  sliceIndices?: readonly number[];
}

export function mapMosaic(s: MapMosaicSpec): string {
  const vmax = s.vmax > 0 && Number.isFinite(s.vmax) ? s.vmax : 1;
  const range = s.range ?? ([-vmax, vmax] as const);
  const m = renderMosaic({
    dims: s.grid.dims,
    affine: s.grid.affine,
    background: s.background,
    overlay: { kind: 'continuous', values: s.values, threshold: s.threshold, range, cmap: s.cmap ?? 'RdBu_r' },
    ...(s.sliceIndices ? { sliceIndices: s.sliceIndices } : {}),
  });
  return `<h3>${s.title}</h3>${mosaicFigure(m, s.title, s.caption, colorbarHtml(s.cmap ?? 'RdBu_r', range[0], range[1], s.unit))}`;
}

/**
 * Winner-take-all restricted to the top-k voxels: where the winning layer's value is
 * positive and within the top 10% of that layer's |value| (the voxels its map shows).
 */
export function topKWinner(
  winner: ArrayLike<number>,
  meanZ: readonly ArrayLike<number>[],
  thresholds: readonly number[],
) {
  const out = new Int16Array(winner.length);
  const counts = meanZ.map(() => 0);
  for (let g = 0; g < winner.length; g++) {
    const w = winner[g]!;
    if (w > 0 && meanZ[w - 1]![g]! >= thresholds[w - 1]! && meanZ[w - 1]![g]! > 0) {
      out[g] = w;
      counts[w - 1]!++;
    }
  }
  return { winner: out, counts };
}

/**
 * The maps shown under one method: that method's, and under the first method also the model RDMs'
 * (always compared with the standard method) when the standard method is not among `methods`
 * (`--method residual`).
 */
export function ofMethod<T extends { method: string; kind?: 'model' }>(
  maps: readonly T[],
  method: string,
  methods: readonly string[],
): T[] {
  return maps.filter(
    (m) => m.method === method || (m.kind === 'model' && method === methods[0] && !methods.includes(m.method)),
  );
}

export function wtaMosaic(
  grid: GridRef,
  background: ArrayLike<number>,
  winner: ArrayLike<number>,
  layers: readonly string[],
  counts: readonly number[],
  title: string,
  caption: string,
  sliceIndices?: readonly number[],
): string {
  const colors = layerColors(layers.length);
  const m = renderMosaic({
    dims: grid.dims,
    affine: grid.affine,
    background,
    overlay: { kind: 'labels', values: winner, colors },
    ...(sliceIndices ? { sliceIndices } : {}),
  });
  const legend = legendHtml(layers.map((l, i) => ({ color: colors[i]!, label: `${l} (${counts[i] ?? 0} voxels)` })));
  return `<h3>${title}</h3>${mosaicFigure(m, title, caption, legend)}`;
}
