/** Line plots (loss curves, per-layer profiles) as SVG. */
import { CATEGORICAL_COLORS } from './colormaps';
import { FigureError } from './errors';
import { escapeXml, formatNumber, round, svgDocument, svgText, textWidth } from './svg';

export interface LineSeries {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** CSS colour; default from the tab10 palette in series order. */
  color?: string;
  /** Draw the line dashed. */
  dashed?: boolean;
  /** A shaded band from low to high at each x (e.g. a confidence interval), in the series colour. */
  band?: { low: ArrayLike<number>; high: ArrayLike<number> };
  /** List the series in the legend (default true). */
  legend?: boolean;
}

export interface LinePlotOptions {
  series: readonly LineSeries[];
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Logarithmic y axis; points with y <= 0 are left out (the line breaks there). */
  logY?: boolean;
  width?: number;
  height?: number;
  /** Named x ticks (e.g. layer names at x = 0, 1, ...) instead of numeric ones, written at 35 degrees. */
  xTicks?: readonly { value: number; label: string }[];
}

/** About `target` round tick values (1, 2 or 5 times a power of ten) covering [min, max]. */
export function niceTicks(min: number, max: number, target = 6): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step)
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : Number.parseFloat(v.toPrecision(12)));
  return ticks;
}

/** Powers of ten within [min, max] (both > 0), with 2 and 5 multiples when fewer than three decades. */
function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const mults = hi - lo < 3 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++)
    for (const m of mults) {
      const v = Number.parseFloat((m * 10 ** e).toPrecision(6));
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) ticks.push(v);
    }
  return ticks;
}

interface Range {
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
}

type Usable = (x: number, y: number) => boolean;

/** The extent of every usable point and band edge, widened where it is empty or flat. */
function dataRange(series: readonly LineSeries[], usable: Usable, logY: boolean): Range {
  const r: Range = { xMin: Infinity, xMax: -Infinity, yMin: Infinity, yMax: -Infinity };
  const include = (x: number, y: number) => {
    if (!usable(x, y)) return;
    r.xMin = Math.min(r.xMin, x);
    r.xMax = Math.max(r.xMax, x);
    r.yMin = Math.min(r.yMin, y);
    r.yMax = Math.max(r.yMax, y);
  };
  for (const s of series) {
    for (let i = 0; i < s.x.length; i++) include(s.x[i] as number, s.y[i] as number);
    const band = s.band;
    if (band)
      for (let i = 0; i < s.x.length; i++)
        for (const y of [band.low[i] as number, band.high[i] as number]) include(s.x[i] as number, y);
  }
  if (!(r.xMin <= r.xMax)) Object.assign(r, { xMin: 0, xMax: 1, yMin: logY ? 1 : 0, yMax: logY ? 10 : 1 });
  if (r.xMin === r.xMax) Object.assign(r, { xMin: r.xMin - 0.5, xMax: r.xMax + 0.5 });
  if (r.yMin === r.yMax)
    Object.assign(r, logY ? { yMin: r.yMin / 2, yMax: r.yMax * 2 } : { yMin: r.yMin - 0.5, yMax: r.yMax + 0.5 });
  return r;
}

/** Where the plot area lies, its ticks, and the data -> pixel maps. */
interface Frame {
  left: number;
  top: number;
  plotW: number;
  plotH: number;
  xTicks: number[];
  yTicks: number[];
  xTickRoom: number;
  sx: (x: number) => number;
  sy: (y: number) => number;
}

function plotFrame(options: LinePlotOptions, range: Range, width: number, height: number): Frame {
  const { series, logY = false } = options;
  const named = options.xTicks;
  const xTicks = named ? named.map((t) => t.value) : niceTicks(range.xMin, range.xMax);
  const xTickRoom = named ? Math.min(120, Math.max(0, ...named.map((t) => textWidth(t.label, 10))) * 0.58) : 0;
  const yTicks = logY ? logTicks(range.yMin, range.yMax) : niceTicks(range.yMin, range.yMax);
  const { xMin, xMax } = range;
  let { yMin, yMax } = range;
  if (!logY) {
    yMin = Math.min(yMin, yTicks[0] ?? yMin);
    yMax = Math.max(yMax, yTicks[yTicks.length - 1] ?? yMax);
  }
  const yLabelW = Math.max(...yTicks.map((t) => textWidth(formatNumber(t), 10)));
  const inLegend = series.filter((s) => s.legend !== false);
  const legendW = inLegend.length ? Math.max(...inLegend.map((s) => textWidth(s.name, 11))) + 34 : 0;
  const left = 14 + (options.yLabel ? 16 : 0) + yLabelW;
  const top = options.title ? 34 : 14;
  const plotW = width - left - 16 - legendW;
  const plotH = height - top - 36 - (options.xLabel ? 16 : 0) - xTickRoom;
  if (plotW < 40 || plotH < 40)
    throw new FigureError(`linePlotSvg: ${width} x ${height} px leaves no room for the plot`);
  const ty = logY ? (v: number) => Math.log10(v) : (v: number) => v;
  const sx = (x: number) => left + ((x - xMin) / (xMax - xMin)) * plotW;
  const sy = (y: number) => top + plotH - ((ty(y) - ty(yMin)) / (ty(yMax) - ty(yMin))) * plotH;
  return { left, top, plotW, plotH, xTicks, yTicks, xTickRoom, sx, sy };
}

/** Title, grid lines, ticks, frame and axis labels. */
function axesSvg(options: LinePlotOptions, f: Frame): string[] {
  const { left, top, plotW, plotH } = f;
  const parts: string[] = [];
  if (options.title)
    parts.push(svgText(left + plotW / 2, 22, options.title, { size: 14, anchor: 'middle', weight: 'bold' }));
  for (const t of f.yTicks) {
    const y = round(f.sy(t));
    parts.push(`<line x1="${left}" y1="${y}" x2="${left + plotW}" y2="${y}" stroke="#e4e4e4"/>`);
    parts.push(svgText(left - 5, y, formatNumber(t), { size: 10, anchor: 'end', baseline: 'middle' }));
  }
  const named = options.xTicks;
  const xTickLabel = new Map(named?.map((t) => [t.value, t.label]));
  for (const t of f.xTicks) {
    const x = round(f.sx(t));
    parts.push(`<line x1="${x}" y1="${top + plotH}" x2="${x}" y2="${top + plotH + 4}" stroke="#444"/>`);
    if (named) {
      const style = { size: 10, anchor: 'end', baseline: 'middle', rotate: -35 } as const;
      parts.push(svgText(x, top + plotH + 12, xTickLabel.get(t) ?? '', style));
    } else parts.push(svgText(x, top + plotH + 16, formatNumber(t), { size: 10, anchor: 'middle' }));
  }
  parts.push(
    `<rect x="${left}" y="${top}" width="${round(plotW)}" height="${round(plotH)}" fill="none" stroke="#444"/>`,
  );
  if (options.xLabel)
    parts.push(
      svgText(left + plotW / 2, top + plotH + 34 + f.xTickRoom, options.xLabel, { size: 11, anchor: 'middle' }),
    );
  if (options.yLabel)
    parts.push(svgText(14, top + plotH / 2, options.yLabel, { size: 11, anchor: 'middle', rotate: -90 }));
  return parts;
}

/** A series' band: one polygon per run of usable points, the high edge forwards, the low edge back. */
function bandSvg(s: LineSeries, color: string, f: Frame, usable: Usable): string[] {
  const band = s.band;
  if (!band) return [];
  const parts: string[] = [];
  let run: [number, number, number][] = [];
  const flush = () => {
    if (run.length) {
      const pts = [
        ...run.map(([x, , hi]) => `${round(f.sx(x))},${round(f.sy(hi))}`),
        ...run.reverse().map(([x, lo]) => `${round(f.sx(x))},${round(f.sy(lo))}`),
      ];
      parts.push(`<polygon points="${pts.join(' ')}" fill="${escapeXml(color)}" fill-opacity="0.15" stroke="none"/>`);
    }
    run = [];
  };
  for (let i = 0; i < s.x.length; i++) {
    const x = s.x[i] as number;
    const lo = band.low[i] as number;
    const hi = band.high[i] as number;
    if (usable(x, lo) && usable(x, hi)) run.push([x, lo, hi]);
    else flush();
  }
  flush();
  return parts;
}

/** A series' line, broken where a point is not usable. */
function lineSvg(s: LineSeries, color: string, dash: string, f: Frame, usable: Usable): string[] {
  let d = '';
  let pen = false;
  for (let i = 0; i < s.x.length; i++) {
    const x = s.x[i] as number;
    const y = s.y[i] as number;
    if (!usable(x, y)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${round(f.sx(x))} ${round(f.sy(y))}`;
    pen = true;
  }
  if (!d) return [];
  return [
    `<path d="${d}" fill="none" stroke="${escapeXml(color)}" stroke-width="1.8" stroke-linejoin="round"${dash}/>`,
  ];
}

function legendEntrySvg(name: string, color: string, dash: string, row: number, f: Frame): string[] {
  const ly = f.top + 10 + row * 18;
  const lx = f.left + f.plotW + 12;
  return [
    `<line x1="${lx}" y1="${ly}" x2="${lx + 20}" y2="${ly}" stroke="${escapeXml(color)}" stroke-width="2.5"${dash}/>`,
    svgText(lx + 26, ly, name, { size: 11, baseline: 'middle' }),
  ];
}

export function linePlotSvg(options: LinePlotOptions): string {
  const { series, logY = false } = options;
  const width = options.width ?? 560;
  const height = options.height ?? 340;
  series.forEach((s) => {
    if (s.x.length !== s.y.length)
      throw new FigureError(`linePlotSvg: series "${s.name}" has ${s.x.length} x values and ${s.y.length} y values`);
  });
  const usable = (x: number, y: number) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0);
  const frame = plotFrame(options, dataRange(series, usable, logY), width, height);
  const parts = axesSvg(options, frame);
  let legendRow = 0;
  series.forEach((s, k) => {
    const color = s.color ?? CATEGORICAL_COLORS[k % CATEGORICAL_COLORS.length] ?? '#000';
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(...bandSvg(s, color, frame, usable), ...lineSvg(s, color, dash, frame, usable));
    if (s.legend !== false) parts.push(...legendEntrySvg(s.name, color, dash, legendRow++, frame));
  });
  return svgDocument(width, height, parts.join(''));
}
