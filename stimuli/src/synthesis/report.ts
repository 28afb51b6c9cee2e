/**
 * report.html of a synthesis run: self-contained (figures inline as SVG, images embedded), with
 * the image grid, the loss curve, the layer x layer RDM-similarity matrices (Pearson and Spearman)
 * before and after and for a natural set, one RDM heatmap per layer, and the per-layer spread.
 * Every figure is also written as a PNG file.
 */
import { join } from 'node:path';
import { escapeXml, heatmapGridSvg, imageGridSvg, linePlotSvg, matrixSvg, svgToPng } from '@orthostim/figures';
import { writeFileAtomic } from '@orthostim/protocol/node';
import { toSquare } from '@orthostim/rdm';
import type { SetEvaluation } from './evaluate-set';
import type { SynthesisSettings } from './settings';
import type { HistoryEntry } from './synthesize';

export interface ReportInput {
  settings: SynthesisSettings;
  imagePngs: readonly Uint8Array[];
  imageIds: readonly string[];
  history: readonly HistoryEntry[];
  before: SetEvaluation;
  after: SetEvaluation;
  natural?: { dir: string; evaluation: SetEvaluation };
  weightsSha256: string;
  backend: string;
  command: string;
  /** Target for mean |Pearson r| (shown as met or not). */
  target: number;
}

interface Figure {
  id: string;
  title: string;
  svg: string;
}

const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');

function similarityFigures(prefix: string, label: string, e: SetEvaluation): Figure[] {
  return (['pearson', 'spearman'] as const).map((kind) => ({
    id: `${prefix}-${kind}`,
    title: `${label}: ${kind === 'pearson' ? 'Pearson r' : 'Spearman rho'} between layers' RDMs (mean |${kind === 'pearson' ? 'r' : 'rho'}| ${f3(kind === 'pearson' ? e.meanAbsPearson : e.meanAbsSpearman)})`,
    svg: matrixSvg({
      title: `${label}, ${kind === 'pearson' ? 'Pearson' : 'Spearman'}`,
      values: e[kind],
      rowLabels: e.layers,
      colLabels: e.layers,
      range: [-1, 1],
      colorbarLabel: kind === 'pearson' ? 'r' : 'rho',
    }),
  }));
}

export function reportFigures(input: ReportInput): Figure[] {
  const n = input.imagePngs.length;
  const steps = input.history.map((h) => h.step + 1);
  const figures: Figure[] = [
    {
      id: 'images',
      title: 'The synthesized images',
      svg: imageGridSvg({
        images: input.imagePngs.map((bytes, i) => ({ bytes, caption: input.imageIds[i] })),
        cellSize: 160,
      }),
    },
  ];
  if (input.history.length > 0) {
    figures.push({
      id: 'loss',
      title: 'Optimization: loss and mean |r| over layer pairs (on the transformed images of each step)',
      svg: linePlotSvg({
        title: 'loss and mean |Pearson r| per step',
        xLabel: 'step',
        yLabel: 'value (log scale)',
        logY: true,
        series: [
          { name: 'loss', x: steps, y: input.history.map((h) => h.loss) },
          { name: 'mean |r|', x: steps, y: input.history.map((h) => h.meanAbsR) },
        ],
      }),
    });
  }
  figures.push(...similarityFigures('similarity-before', 'before (start images)', input.before));
  figures.push(...similarityFigures('similarity-after', 'after (the stimulus set)', input.after));
  if (input.natural)
    figures.push(
      ...similarityFigures('similarity-natural', `natural images (${input.natural.dir})`, input.natural.evaluation),
    );
  figures.push({
    id: 'rdms',
    title: "Each layer's RDM of the stimulus set (percentiles of dissimilarity)",
    svg: heatmapGridSvg({
      title: `RDMs of the ${n} synthesized images, correlation distance`,
      panels: input.after.layers.map((layer, l) => ({ title: layer, n, values: toSquare(input.after.rdms[l]!, n) })),
      rank: true,
      labels: input.imageIds,
    }),
  });
  return figures;
}

function spreadTable(input: ReportInput): string {
  const rows = input.after.layers
    .map((layer, l) => {
      const b = input.before.spread[l]!;
      const a = input.after.spread[l]!;
      return `<tr><td>${escapeXml(layer)}</td><td>${f3(b.mean)}</td><td>${f3(b.cv)}</td><td>${f3(a.mean)}</td><td>${f3(a.cv)}</td></tr>`;
    })
    .join('\n');
  return `<table><thead><tr><th>layer</th><th>mean before</th><th>CV before</th><th>mean after</th><th>CV after</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

export function reportHtml(input: ReportInput, figures: Figure[]): string {
  const { after, before, natural } = input;
  const met = after.meanAbsPearson <= input.target;
  const last = input.history[input.history.length - 1];
  const secs = input.history.map((h) => h.seconds).sort((a, b) => a - b);
  const median = secs.length ? secs[Math.floor(secs.length / 2)]! : Number.NaN;
  const summary = [
    `<li>${input.after.rdms[0] ? input.imagePngs.length : 0} images of ${input.settings.size} x ${input.settings.size} px, ${input.settings.layers.length} layers, ${input.settings.steps} steps (${input.settings.param} parameterization, ${input.settings.loss.loss} loss, seed ${input.settings.seed})</li>`,
    `<li>mean |Pearson r| over layer pairs: <b>${f3(before.meanAbsPearson)}</b> before, <b>${f3(after.meanAbsPearson)}</b> after (target &le; ${input.target}: ${met ? 'met' : '<b>not met</b>'}); mean |Spearman rho|: ${f3(before.meanAbsSpearman)} before, ${f3(after.meanAbsSpearman)} after</li>`,
    natural
      ? `<li>natural images (${escapeXml(natural.dir)}): mean |Pearson r| ${f3(natural.evaluation.meanAbsPearson)}, mean |Spearman rho| ${f3(natural.evaluation.meanAbsSpearman)}</li>`
      : '',
    `<li>smallest coefficient of variation of a layer's dissimilarities after: ${f3(Math.min(...after.spread.map((s) => s.cv)))} (no layer collapsed when well above 0)</li>`,
    last ? `<li>final loss ${last.loss.toExponential(3)}; median ${median.toFixed(2)} s per step</li>` : '',
    `<li>network bvlc-googlenet, weights SHA-256 ${input.weightsSha256.slice(0, 16)}...; backend ${escapeXml(input.backend)}</li>`,
    `<li>command: <code>${escapeXml(input.command)}</code></li>`,
  ].join('\n');
  const sections = figures
    .map(
      (f) =>
        `<section id="${f.id}"><h2>${escapeXml(f.title)}</h2>\n<div class="figure">${f.svg.replace(/^<\?xml[^>]*>\s*/, '')}</div>\n<p class="file">figures/${f.id}.png</p></section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>orthostim synthesis report</title>
<style>body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}h2{font-size:1.1em;margin-top:2em}
.figure svg{max-width:100%;height:auto}.file{color:#777;font-size:.85em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child{text-align:left}pre{background:#f6f6f6;padding:1em;overflow:auto}</style>
</head><body>
<h1>Stimuli with orthogonal layer RDMs</h1>
<ul>${summary}</ul>
${sections}
<section id="spread"><h2>Spread of each layer's dissimilarities (correlation distance)</h2>${spreadTable(input)}</section>
<section id="settings"><h2>Settings</h2><pre>${escapeXml(JSON.stringify(input.settings, null, 2))}</pre></section>
</body></html>
`;
}

/** Write report.html and figures/<id>.png into `dir`. Returns the PNG paths by figure id. */
export async function writeReport(dir: string, input: ReportInput): Promise<Record<string, string>> {
  const figures = reportFigures(input);
  const paths: Record<string, string> = {};
  for (const f of figures) {
    const p = join(dir, 'figures', `${f.id}.png`);
    writeFileAtomic(p, await svgToPng(f.svg));
    paths[f.id] = p;
  }
  writeFileAtomic(join(dir, 'report.html'), reportHtml(input, figures));
  return paths;
}
