/**
 * Matrix figures: a grid of RDM heatmaps (one per layer) and a labelled matrix such as the
 * layer x layer RDM-similarity matrix. Cells are one colour raster per matrix (embedded PNG), not
 * one SVG element per cell, so a 1000 x 1000 RDM is as cheap to draw as a 10 x 10 one.
 */
import { rankAverage } from '@orthostim/rdm';
import { colorize, resolveColormap, type Colormap, type ColormapName } from './colormaps';
import { FigureError } from './errors';
import { colorbar, matrixPanel, placeBlocks } from './matrix-panel';
import { svgDocument, svgText, textWidth, type Block } from './svg';

const MARGIN = 10;
const GAP = 18;
const FIGURE_TITLE_SIZE = 15;

export interface HeatmapPanel {
  title: string;
  /** Number of rows (= columns) of the square matrix. */
  n: number;
  /** n*n values, row-major (e.g. `toSquare(rdm, n)`). */
  values: ArrayLike<number>;
}

export interface HeatmapGridOptions {
  panels: readonly HeatmapPanel[];
  /** Panels per row (default: up to 4). */
  columns?: number;
  /** Default viridis (dissimilarities). */
  cmap?: ColormapName | Colormap;
  /** 'per-panel' (default): each panel scaled to its own off-diagonal range, with its own colour bar; or one shared [min, max]. */
  range?: 'per-panel' | readonly [number, number];
  /** Show each panel as percentiles of its off-diagonal dissimilarities (0-100), as is usual in RSA; overrides `range`. */
  rank?: boolean;
  /** Image labels, drawn on the axes when the cells are large enough. */
  labels?: readonly string[];
  /** Side of each matrix in pixels (default 200). */
  panelSize?: number;
  title?: string;
  /** Colour bar label (default "dissimilarity", or "percentile of dissimilarity" with `rank`). */
  colorbarLabel?: string;
}

/** Min and max over the finite off-diagonal entries; [0, 1] when there are none. */
function offDiagonalRange(values: ArrayLike<number>, n: number): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const v = values[i * n + j] as number;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return min <= max ? [min, max] : [0, 1];
}

/**
 * Percentile (0-100) of each off-diagonal entry among the upper triangle's entries (ties share
 * their average rank); the diagonal is 0 (an image is least dissimilar to itself), NaN stays NaN.
 */
export function rankTransformSquare(values: ArrayLike<number>, n: number): Float64Array {
  const upper = new Float64Array((n * (n - 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) upper[k++] = values[i * n + j] as number;
  const ranks = rankAverage(upper);
  let finite = 0;
  for (const r of ranks) if (!Number.isNaN(r)) finite++;
  const out = new Float64Array(n * n);
  k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const r = ranks[k++] as number;
      const pct = finite > 1 ? ((r - 1) / (finite - 1)) * 100 : Number.isNaN(r) ? r : 50;
      out[i * n + j] = pct;
      out[j * n + i] = pct;
    }
  }
  return out;
}

function hasNaN(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i] as number)) return true;
  return false;
}

/** Lay blocks out in a grid, each cell as large as the largest block; returns the SVG and size. */
function grid(blocks: Block[], columns: number, top: number): { body: string; width: number; height: number } {
  const cellW = Math.max(...blocks.map((b) => b.width));
  const cellH = Math.max(...blocks.map((b) => b.height));
  const rows = Math.ceil(blocks.length / columns);
  const body = placeBlocks(
    blocks.map((block, k) => ({
      block,
      x: MARGIN + (k % columns) * (cellW + GAP),
      y: top + Math.floor(k / columns) * (cellH + GAP),
    })),
  );
  return { body, width: columns * cellW + (columns - 1) * GAP, height: rows * cellH + (rows - 1) * GAP };
}

function figureTitle(title: string | undefined, width: number): { body: string; height: number; width: number } {
  if (!title) return { body: '', height: MARGIN, width: 0 };
  return {
    body: svgText(MARGIN + width / 2, MARGIN + FIGURE_TITLE_SIZE, title, {
      size: FIGURE_TITLE_SIZE,
      anchor: 'middle',
      weight: 'bold',
    }),
    height: MARGIN + FIGURE_TITLE_SIZE + 14,
    width: Math.ceil(textWidth(title, FIGURE_TITLE_SIZE) * 1.08),
  };
}

/** One heatmap per panel (e.g. the RDM of every layer: rdms.png), as an SVG string. */
export function heatmapGridSvg(options: HeatmapGridOptions): string {
  const { panels, labels } = options;
  if (panels.length === 0) throw new FigureError('heatmapGridSvg: no panels to draw');
  const cmap = resolveColormap(options.cmap ?? 'viridis');
  const size = options.panelSize ?? 200;
  const columns = Math.max(1, Math.min(options.columns ?? 4, panels.length));
  const range = options.rank ? ([0, 100] as const) : (options.range ?? 'per-panel');
  const perPanel = range === 'per-panel';
  const cbLabel = options.colorbarLabel ?? (options.rank ? 'percentile of dissimilarity' : 'dissimilarity');
  let anyNaN = false;
  const blocks = panels.map((panel, p): Block => {
    const { n, values } = panel;
    if (!Number.isInteger(n) || n < 1 || values.length !== n * n) {
      throw new FigureError(
        `heatmapGridSvg: panel ${p} ("${panel.title}") must hold n*n = ${n}*${n} values; got ${values.length}`,
      );
    }
    if (labels && labels.length !== n) {
      throw new FigureError(`heatmapGridSvg: ${labels.length} labels for panel ${p} ("${panel.title}") of ${n} images`);
    }
    const shown = options.rank ? rankTransformSquare(values, n) : values;
    const nan = hasNaN(shown);
    anyNaN ||= nan;
    const [min, max] = perPanel ? offDiagonalRange(shown, n) : range;
    const matrix = matrixPanel({
      rows: n,
      cols: n,
      rgb: colorize(shown, min, max, cmap),
      width: size,
      height: size,
      title: panel.title,
      rowLabels: labels,
      colLabels: labels,
    });
    if (!perPanel) return matrix;
    const bar = colorbar({ cmap, min, max, height: size, showNaN: nan });
    const top = panel.title ? 22 : 0;
    return {
      width: matrix.width + 8 + bar.width,
      height: Math.max(matrix.height, top + bar.height),
      body: placeBlocks([
        { block: matrix, x: 0, y: 0 },
        { block: bar, x: matrix.width + 8, y: top },
      ]),
    };
  });
  const title = figureTitle(options.title, 0);
  const g = grid(blocks, columns, title.height);
  let width = g.width;
  let body = g.body;
  if (!perPanel) {
    const bar = colorbar({ cmap, min: range[0], max: range[1], height: size, label: cbLabel, showNaN: anyNaN });
    body += placeBlocks([{ block: bar, x: MARGIN + width + GAP, y: title.height + (panels[0]?.title ? 22 : 0) }]);
    width += GAP + bar.width;
  } else {
    // Per-panel bars have no room for a label; say what they show once, under the grid.
    body += svgText(
      MARGIN,
      title.height + g.height + 14,
      `colour: ${cbLabel}, each panel scaled to its own off-diagonal range`,
      { size: 10, fill: '#444' },
    );
  }
  const bottom = perPanel ? 22 : MARGIN;
  width = Math.max(width, title.width);
  const head = figureTitle(options.title, width);
  return svgDocument(width + 2 * MARGIN, title.height + g.height + bottom, head.body + body);
}

export interface MatrixOptions {
  rowLabels: readonly string[];
  colLabels: readonly string[];
  /** rows x cols values. */
  values: readonly (readonly number[])[];
  title?: string;
  /** Colour scale limits, e.g. [-1, 1] for correlations. */
  range: readonly [number, number];
  /** Default RdBu_r (correlations). */
  cmap?: ColormapName | Colormap;
  /** Print each value with 2 decimals (default: when the matrix is at most 12 x 12). */
  annotate?: boolean;
  /** Cell side in pixels (default: fits the matrix into about 360 px, 14-48 px per cell). */
  cellSize?: number;
  colorbarLabel?: string;
}

/** Two decimals, without the "-0.00" that toFixed gives small negative numbers. */
function formatCell(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  const s = v.toFixed(2);
  return s === '-0.00' ? '0.00' : s;
}

/** A labelled matrix with a colour bar (e.g. layer x layer RDM similarity: layer-similarity.png). */
export function matrixSvg(options: MatrixOptions): string {
  const { values, rowLabels, colLabels, range } = options;
  const rows = values.length;
  const cols = values[0]?.length ?? 0;
  if (rows === 0 || cols === 0) throw new FigureError('matrixSvg: the matrix is empty');
  values.forEach((row, i) => {
    if (row.length !== cols) throw new FigureError(`matrixSvg: row ${i} has ${row.length} values, row 0 has ${cols}`);
  });
  if (rowLabels.length !== rows || colLabels.length !== cols) {
    throw new FigureError(
      `matrixSvg: ${rowLabels.length} row and ${colLabels.length} column labels for a ${rows} x ${cols} matrix`,
    );
  }
  const cmap = resolveColormap(options.cmap ?? 'RdBu_r');
  const cell = options.cellSize ?? Math.max(14, Math.min(48, Math.floor(360 / Math.max(rows, cols))));
  const flat = values.flat();
  const rgb = colorize(flat, range[0], range[1], cmap);
  const annotate = options.annotate ?? (rows <= 12 && cols <= 12);
  const panel = matrixPanel({
    rows,
    cols,
    rgb,
    width: cols * cell,
    height: rows * cell,
    rowLabels,
    colLabels,
    cellText: annotate ? (i, j) => formatCell(flat[i * cols + j] as number) : undefined,
  });
  const bar = colorbar({
    cmap,
    min: range[0],
    max: range[1],
    height: rows * cell,
    label: options.colorbarLabel,
    showNaN: flat.some(Number.isNaN),
  });
  const title = figureTitle(options.title, 0);
  let width = panel.width + GAP + bar.width;
  const body = placeBlocks([
    { block: panel, x: MARGIN, y: title.height },
    { block: bar, x: MARGIN + panel.width + GAP, y: title.height },
  ]);
  width = Math.max(width, title.width);
  const head = figureTitle(options.title, width);
  return svgDocument(width + 2 * MARGIN, title.height + Math.max(panel.height, bar.height) + MARGIN, head.body + body);
}
