/**
 * The drawing core of every matrix figure: a colour raster with a title, row and column labels
 * (when the cells are large enough to carry them) and optional per-cell text; and a colour bar.
 */
import { colorize, NAN_RGB, resolveColormap, type Colormap } from './colormaps';
import { formatNumber, rasterImage, svgText, textWidth, translate, type Block } from './svg';

/** Cells smaller than this carry no labels (they would overlap). */
const MIN_LABEL_CELL_PX = 7;
const TITLE_SIZE = 13;
const TITLE_HEIGHT = 22;

export interface MatrixPanelSpec {
  rows: number;
  cols: number;
  /** rows*cols RGB triples, row-major. */
  rgb: Uint8Array;
  /** Size of the matrix area in pixels. */
  width: number;
  height: number;
  title?: string;
  rowLabels?: readonly string[];
  colLabels?: readonly string[];
  /** Text printed in the cell, or undefined for none. */
  cellText?: (i: number, j: number) => string | undefined;
}

function labelSize(cellPx: number): number {
  return Math.min(11, Math.floor(cellPx * 0.85));
}

/** Text on a cell: black on light colours, white on dark ones (Rec. 709 luma). */
function textColorOn(rgb: Uint8Array, k: number): string {
  const luma =
    0.2126 * (rgb[3 * k] as number) + 0.7152 * (rgb[3 * k + 1] as number) + 0.0722 * (rgb[3 * k + 2] as number);
  return luma > 140 ? '#000' : '#fff';
}

export function matrixPanel(spec: MatrixPanelSpec): Block {
  const { rows, cols, width, height } = spec;
  const cellW = width / cols;
  const cellH = height / rows;
  const rowLabels = spec.rowLabels && cellH >= MIN_LABEL_CELL_PX ? spec.rowLabels : undefined;
  const colLabels = spec.colLabels && cellW >= MIN_LABEL_CELL_PX ? spec.colLabels : undefined;
  const rowSize = labelSize(cellH);
  const colSize = labelSize(cellW);
  const rowLabelW = rowLabels ? Math.max(...rowLabels.map((s) => textWidth(s, rowSize))) + 6 : 0;
  const colLabelW = colLabels ? Math.max(...colLabels.map((s) => textWidth(s, colSize))) : 0;
  // Column labels run at -45 degrees from the bottom edge: they reach down and to the left.
  const diag = colLabelW * Math.SQRT1_2;
  const left = Math.ceil(Math.max(rowLabelW, diag - cellW / 2 + 2));
  const top = spec.title ? TITLE_HEIGHT : 0;
  const bottom = colLabels ? Math.ceil(diag + colSize + 6) : 0;
  const titleW = spec.title ? textWidth(spec.title, TITLE_SIZE) * 1.08 : 0;
  // Whole-pixel positions keep the raster's cell edges crisp.
  const totalW = Math.ceil(Math.max(left + width, titleW) + 2);
  const x0 = left + Math.round(Math.max(0, (titleW - (left + width)) / 2));
  const parts: string[] = [];
  if (spec.title)
    parts.push(
      svgText(x0 + width / 2, TITLE_SIZE + 2, spec.title, { size: TITLE_SIZE, anchor: 'middle', weight: 'bold' }),
    );
  parts.push(rasterImage(spec.rgb, cols, rows, x0, top, width, height));
  // A 1 px frame just outside the raster, so it never blends into the edge cells.
  parts.push(
    `<rect x="${x0 - 0.5}" y="${top - 0.5}" width="${width + 1}" height="${height + 1}" fill="none" stroke="#444" stroke-width="1"/>`,
  );
  rowLabels?.forEach((s, i) =>
    parts.push(svgText(x0 - 4, top + (i + 0.5) * cellH, s, { size: rowSize, anchor: 'end', baseline: 'middle' })),
  );
  colLabels?.forEach((s, j) => {
    const x = x0 + (j + 0.5) * cellW + colSize * 0.35;
    parts.push(svgText(x, top + height + 5, s, { size: colSize, anchor: 'end', rotate: -45, baseline: 'hanging' }));
  });
  if (spec.cellText) {
    const size = Math.min(11, cellW / 3.2, cellH * 0.45);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const s = spec.cellText(i, j);
        if (s === undefined) continue;
        const fill = textColorOn(spec.rgb, i * cols + j);
        parts.push(
          svgText(x0 + (j + 0.5) * cellW, top + (i + 0.5) * cellH, s, {
            size,
            anchor: 'middle',
            baseline: 'middle',
            fill,
          }),
        );
      }
    }
  }
  return { width: totalW, height: Math.ceil(top + height + bottom), body: parts.join('') };
}

export interface ColorbarSpec {
  cmap: Colormap;
  min: number;
  max: number;
  height: number;
  label?: string;
  /** Add a grey "NaN" swatch below the bar. */
  showNaN?: boolean;
}

const BAR_WIDTH = 12;
const TICK_SIZE = 10;

/** A vertical colour bar (maximum at the top) with 5 ticks and an optional rotated label. */
export function colorbar(spec: ColorbarSpec): Block {
  const { min, max, height } = spec;
  const cmap = resolveColormap(spec.cmap);
  const ramp = new Float64Array(256);
  for (let k = 0; k < 256; k++) ramp[k] = 255 - k;
  const rgb = colorize(ramp, 0, 256, cmap);
  const parts = [rasterImage(rgb, 1, 256, 0, 0, BAR_WIDTH, height)];
  parts.push(
    `<rect x="-0.5" y="-0.5" width="${BAR_WIDTH + 1}" height="${height + 1}" fill="none" stroke="#444" stroke-width="1"/>`,
  );
  let labelW = 0;
  for (let t = 0; t <= 4; t++) {
    const v = min + ((max - min) * t) / 4;
    const y = height - (height * t) / 4;
    const s = formatNumber(v);
    labelW = Math.max(labelW, textWidth(s, TICK_SIZE));
    parts.push(`<line x1="${BAR_WIDTH}" y1="${y}" x2="${BAR_WIDTH + 3}" y2="${y}" stroke="#444" stroke-width="0.75"/>`);
    parts.push(svgText(BAR_WIDTH + 5, y, s, { size: TICK_SIZE, baseline: 'middle' }));
    if (max === min) break;
  }
  let width = BAR_WIDTH + 5 + labelW + 2;
  if (spec.label) {
    const x = width + 4 + TICK_SIZE / 2;
    parts.push(svgText(x, height / 2, spec.label, { size: TICK_SIZE + 1, anchor: 'middle', rotate: 90 }));
    width = x + TICK_SIZE;
  }
  let total = height;
  if (spec.showNaN) {
    const [r, g, b] = NAN_RGB;
    parts.push(`<rect x="0" y="${height + 8}" width="${BAR_WIDTH}" height="${BAR_WIDTH}" fill="rgb(${r},${g},${b})"/>`);
    parts.push(svgText(BAR_WIDTH + 5, height + 8 + BAR_WIDTH / 2, 'NaN', { size: TICK_SIZE, baseline: 'middle' }));
    total = height + 8 + BAR_WIDTH + 2;
  }
  return { width: Math.ceil(Math.max(width, BAR_WIDTH + 30)), height: Math.ceil(total), body: parts.join('') };
}

export function placeBlocks(blocks: { block: Block; x: number; y: number }[]): string {
  return blocks.map(({ block, x, y }) => translate(x, y, block.body)).join('');
}
