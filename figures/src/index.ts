/**
 * @orthostim/figures: figures for command outputs and HTML reports, built as SVG strings (text
 * and axes as vectors, matrices as embedded PNG rasters) and rendered to PNG with `svgToPng`.
 */
export { FigureError } from './errors';
export {
  type Colormap,
  type ColormapName,
  viridis,
  RdBu_r,
  gray,
  COLORMAPS,
  COLORMAP_NAMES,
  NAN_RGB,
  CATEGORICAL_COLORS,
  resolveColormap,
  colorize,
  colormapHex,
  sampleColormap,
  colormapFromAnchors,
} from './colormaps';
export { encodePng, upscaleNearest } from './png-encode';
export { escapeXml, formatNumber } from './svg';
export {
  type HeatmapPanel,
  type HeatmapGridOptions,
  type MatrixOptions,
  heatmapGridSvg,
  matrixSvg,
  rankTransformSquare,
} from './heatmap';
export { type LineSeries, type LinePlotOptions, linePlotSvg, niceTicks } from './line-plot';
export { type GridImage, type ImageGridOptions, imageGridSvg } from './image-grid';
export { svgToPng } from './render';
