/**
 * The participant report (`sub-<label>/report.html`): the runs and their GLM (design matrix,
 * regressors of no interest, skipped voxels), tSNR, the stimulus set's layer similarity, every
 * layer map as a slice mosaic over the mean EPI (or --template), the winner-take-all maps, the
 * regions of interest, and every skip or NaN count. Also used by `orthostim searchlight` (no GLM).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { heatmapGridSvg, imageGridSvg, linePlotSvg } from '@orthostim/figures';
import { toSquare } from '@orthostim/rdm';
import type { StimulusSet } from '@orthostim/protocol';
import { writeFileAtomic } from '@orthostim/protocol/node';
import type { RunGlmResult } from '../io/run-glm';
import { gridSize, type GridRef } from '../pipeline/map-writer';
import { describeRadius, type GlmSettings, type SearchlightSettings } from '../pipeline/settings';
import { measureName, type SearchlightStageResult } from '../pipeline/searchlight-stage';
import { designMatrixSvg, DESIGN_KIND_LEGEND } from './design-matrix-figure';
import { esc, fmt, keyValues, legendHtml, notesHtml, page, svgFigure, table } from './html';
import { layerSimilarityFigure, mapMosaic, ofMethod, topKWinner, wtaMosaic } from './layer-figures';
import { SEARCHLIGHT_MAX_IMAGES } from '../pipeline/roi-stage';
import { mosaicSlices } from './mosaic';
import { quantiles } from '../stats/order-statistics';

export interface ParticipantReportData {
  /** Participant label, or null for `orthostim searchlight` outputs. */
  participant: string | null;
  set: StimulusSet;
  /** Folder of the stimulus set (to show its images when small enough). */
  setDir?: string;
  settings: SearchlightSettings;
  glm?: GlmSettings;
  runs?: RunGlmResult[];
  grid: GridRef;
  background: ArrayLike<number>;
  backgroundName?: string;
  tsnr?: ArrayLike<number>;
  searchlight: SearchlightStageResult;
  notes: string[];
  nMaskVoxels: number;
  droppedVoxels: number;
  runsUsed: string[];
}

const MAX_IMAGE_BYTES = 3 * 2 ** 20;

function stimulusImages(set: StimulusSet, dir: string | undefined): string {
  if (!dir) return '';
  const paths = set.images.map((i) => join(dir, i.file));
  if (!paths.every((p) => existsSync(p))) return '';
  const total = paths.reduce((s, p) => s + statSync(p).size, 0);
  if (total > MAX_IMAGE_BYTES)
    return `<p class="muted">The ${set.images.length} images (${(total / 2 ** 20).toFixed(1)} MB) are not embedded; see ${esc(dir)}.</p>`;
  return svgFigure(
    imageGridSvg({
      images: set.images.map((img, i) => ({ bytes: readFileSync(paths[i]!), caption: img.id })),
      cellSize: 72,
      columns: Math.min(8, set.images.length),
    }),
  );
}

function glmSections(d: ParticipantReportData): { id: string; title: string; body: string }[] {
  const runs = d.runs;
  if (!runs || runs.length === 0 || !d.glm) return [];
  const rows = runs.map((r) => [
    esc(r.run.run ?? '-'),
    r.design.nRows,
    r.repetitionTimeS,
    r.design.columns.filter((c) => c.kind === 'image').length,
    r.design.nCols,
    r.meanRho,
    r.nVoxels,
    `${r.skipped.nonFinite} / ${r.skipped.zeroMean} / ${r.skipped.constant}`,
    esc(r.design.imagesAbsent.join(', ') || '-'),
  ]);
  const nuisance = [...new Set(runs.flatMap((r) => r.nuisanceRegressors))].sort();
  const confounds = [
    ...new Set(runs.flatMap((r) => r.design.columns.filter((c) => c.kind === 'confound').map((c) => c.name))),
  ];
  const first = runs[0]!;
  const body = `${keyValues([
    ['noise model', esc(d.glm.noiseModel === 'ar1' ? `ar1 (${d.glm.ar1Estimator})` : d.glm.noiseModel)],
    ['smoothing', d.glm.smoothingFwhmMm > 0 ? `${fmt(d.glm.smoothingFwhmMm, 1)} mm FWHM` : 'none'],
    ['HRF', esc(d.glm.hrf)],
    ['high-pass', `${fmt(d.glm.highPassHz, 5)} Hz (${fmt(1 / d.glm.highPassHz, 1)} s)`],
    ['scaling', 'percent signal change per voxel'],
    ['confounds', esc(confounds.join(', ') || 'none (raw BOLD, no confounds file)')],
  ])}
${table(['run', 'volumes', 'TR (s)', 'images', 'columns', 'mean AR(1)', 'voxels', 'skipped: non-finite / zero mean / constant', 'images without trials'], rows)}
<h3>Regressors of no interest</h3>
<p>${nuisance.length ? nuisance.map((n) => `<code>${esc(n)}</code>`).join(', ') : '<span class="muted">none</span>'}. Null trials are the implicit baseline; <code>missed</code> trials (planned, never shown) are a regressor of no interest, never the image; the session server's fault markers (display disconnects, aborts) are not modelled.</p>
${svgFigure(designMatrixSvg(first.design, `Design matrix, run ${first.run.run ?? '-'}`), `Columns scaled to their largest absolute value. ${runs.length > 1 ? `The other ${runs.length - 1} run(s) have theirs in glm/*_design.svg (figure) and glm/*_design.tsv.` : ''}`)}
${legendHtml(DESIGN_KIND_LEGEND)}`;
  return [{ id: 'glm', title: 'GLM', body }];
}

type Section = { id: string; title: string; body: string };

/** The label of a layer, or of a user-given model RDM. */
const nameOf = (m: { layer: string; kind?: 'model' }) => (m.kind ? `${m.layer} (model RDM)` : m.layer);

export function participantReportHtml(d: ParticipantReportData): string {
  const who = d.participant !== null ? `sub-${d.participant}` : 'searchlight';
  const sections: Section[] = [
    summarySection(d),
    ...glmSections(d),
    ...tsnrSection(d),
    { id: 'layers', title: 'Layer similarity', body: layerSimilarityFigure(d.set) },
    profileSection(d),
    ...layerMapSections(d),
    ...roiSection(d),
  ];
  const subtitle = `orthostim ${esc(who)} &middot; ${esc(new Date().toISOString().slice(0, 19))}Z &middot; maps listed in index.json`;
  return page(`Layer maps: ${who}`, subtitle, sections);
}

/** Settings, counts, notes and the stimulus images. */
function summarySection(d: ParticipantReportData): Section {
  const sl = d.searchlight;
  const { set, settings } = d;

  return {
    id: 'summary',
    title: 'Summary',
    body: `${keyValues([
      [
        'stimulus set',
        `${esc(set.model.name)}, ${set.images.length} images, ${set.layers.length} layers (sha256 ${esc(set.sha256.slice(0, 12))}...)`,
      ],
      [
        'searchlight',
        `radius ${esc(describeRadius(settings.radius))} (full sphere ${sl.fullSphereSize} voxels), centres need ${fmt(settings.minFraction * 100, 1)}% of it in the mask`,
      ],
      [
        'sphere RDM',
        esc(
          settings.distance === 'crossnobis'
            ? `crossnobis, ${settings.noiseNormalization} noise normalisation`
            : settings.distance,
        ),
      ],
      ['comparison', esc(sl.methods.map((m) => measureName(settings.compare, m)).join('; '))],
      ['runs used', esc(d.runsUsed.join(', '))],
      ['mask voxels', `${d.nMaskVoxels}; ${d.droppedVoxels} left out (NaN betas); ${sl.nAnalysisVoxels} analysed`],
      ['centres', `${sl.nCenters}; ${sl.invalidSpheres} with a NaN or constant sphere RDM (NaN for every layer)`],
      ['threads', String(settings.threads)],
    ])}
<h3>Skips and warnings</h3>${notesHtml(d.notes)}
${stimulusImages(set, d.setDir)}`,
  };
}

/** The tSNR of the GLM residuals (participants from BIDS only). */
function tsnrSection(d: ParticipantReportData): Section[] {
  const { grid } = d;
  if (!d.tsnr) return [];
  const [hi] = quantiles(d.tsnr, [0.98]);
  return [
    {
      id: 'tsnr',
      title: 'tSNR',
      body: mapMosaic({
        grid,
        background: d.background,
        values: d.tsnr,
        threshold: 1e-6,
        vmax: hi ?? 1,
        range: [0, Number.isFinite(hi!) && hi! > 0 ? hi! : 1],
        cmap: 'viridis',
        title: 'Temporal SNR of the GLM residuals',
        caption: `100 / sqrt(residual variance of the percent-signal-change model), mean over runs; median ${fmt(quantiles(d.tsnr, [0.5])[0]!, 1)}.`,
        unit: 'tSNR',
      }),
    },
  ];
}

/** r over centres per layer: the profile plot and the table. */
function profileSection(d: ParticipantReportData): Section {
  const sl = d.searchlight;
  const L = sl.layers.length;
  const profile = linePlotSvg({
    title: 'Layer profile',
    xLabel: 'layer',
    yLabel: 'r over centres',
    xTicks: sl.layers.map((l, i) => ({ value: i + 1, label: l })),
    series: sl.methods.flatMap((m, k) => {
      const ms = sl.models.filter((x) => x.method === m && !x.kind);
      const x = ms.map((_, i) => i + 1);
      return [
        { name: `${m}: 95th percentile`, x, y: ms.map((s) => s.p95), dashed: k > 0 },
        { name: `${m}: mean`, x, y: ms.map((s) => s.mean), dashed: k > 0 },
      ];
    }),
    width: Math.max(560, 60 * L + 260),
  });
  const statRows = sl.models.map((s) => [esc(nameOf(s)), esc(s.method), s.nValid, s.mean, s.p95, s.max]);
  return {
    id: 'profile',
    title: 'Layer profile',
    body: `${svgFigure(profile)}${table(['layer', 'method', 'centres with a value', 'mean r', '95th percentile', 'max r'], statRows)}`,
  };
}

/** Per comparison method: winner-take-all and every layer map on the same slices. */
function layerMapSections(d: ParticipantReportData): Section[] {
  const sl = d.searchlight;
  const { settings, grid } = d;
  const sections: Section[] = [];
  // Every layer map on the same slices: those holding brain or searchlight centres.
  const sliceIndices = mosaicSlices({
    dims: grid.dims,
    affine: grid.affine,
    background: d.background,
    within: sl.sphereSizeGrid,
  });
  const rGrid = new Float32Array(gridSize(grid)).fill(Number.NaN);
  // A set above the searchlight's limit has ROI results only: no maps to show.
  for (const method of sl.models.length > 0 ? sl.methods : []) {
    const ms = ofMethod(sl.models, method, sl.methods);
    // One pass per map: its display threshold (90th percentile of |r|) and near-maximum.
    const qs = ms.map((m) => quantiles(m.r, [0.9, 0.995], { abs: true })); // the centres' values: the grid adds only NaN
    const [vmax] = quantiles(
      qs.map((q) => q[1]!),
      [1],
    );
    const parts = ms.map((m, i) => {
      const thr = qs[i]![0];
      // Every map has a value at the same centres: one grid, NaN elsewhere, overwritten per map.
      for (let c = 0; c < m.r.length; c++) rGrid[sl.centerGrid[c]!] = m.r[c]!;
      return mapMosaic({
        grid,
        background: d.background,
        values: rGrid,
        threshold: thr ?? 0,
        vmax: vmax ?? 1,
        title: `${esc(nameOf(m))}: ${esc(measureName(settings.compare, m.method))}`,
        caption: `Top 10% of |r| shown (|r| >= ${fmt(thr ?? Number.NaN)}); a descriptive display, not a test. Over ${esc(d.backgroundName ?? 'the mean EPI')}.`,
        unit: 'r',
        sliceIndices,
      });
    });
    const w = sl.wta.find((x) => x.method === method)!;
    // Winner-take-all only where the winner's r is in its map's top 10% (the voxels its map shows).
    const layerIdx = ms.flatMap((m, i) => (m.kind ? [] : [i]));
    const rOnGrid = layerIdx.map((i) => {
      const g = new Float32Array(gridSize(grid)).fill(Number.NaN);
      ms[i]!.r.forEach((v, c) => (g[sl.centerGrid[c]!] = v));
      return g;
    });
    const top = topKWinner(
      w.winner,
      rOnGrid,
      layerIdx.map((i) => qs[i]![0] ?? Number.POSITIVE_INFINITY),
    );
    sections.push({
      id: `maps-${method}`,
      title: `Layer maps (${method})`,
      body: `${wtaMosaic(grid, d.background, top.winner, sl.layers, top.counts, `Winner-take-all over the top 10% (${esc(method)})`, "The layer with the highest r, only at centres where the winner's r is positive and among the top 10% of its map's |r| (the voxels its map shows); not a test.", sliceIndices)}${parts.join('\n')}`,
    });
  }
  return sections;
}

/** Regions of interest: RDM heatmaps and the r of every region and model. */
function roiSection(d: ParticipantReportData): Section[] {
  const { set, settings } = d;
  const roi = d.searchlight.roi;
  if (!roi) return [];
  const n = set.images.length;
  const rows = roi.regions.flatMap((r) =>
    roi.models.map((m, k) => [esc(r.region.name), r.region.id, r.nVoxels, esc(m.layer), esc(m.method), r.values[k]!]),
  );
  // Heatmaps up to the searchlight's image limit; larger RDMs are in the ROI JSON only.
  const panels = roi.regions
    .filter((r) => n <= SEARCHLIGHT_MAX_IMAGES && r.rdm.some((v) => !Number.isNaN(v)))
    .map((r) => ({ title: `${r.region.name} (${r.nVoxels} voxels)`, n, values: toSquare(r.rdm, n) }));
  return [
    {
      id: 'rois',
      title: 'Regions of interest',
      body: `${panels.length ? svgFigure(heatmapGridSvg({ panels, labels: set.images.map((i) => i.id), rank: true, title: `Region RDMs (${settings.distance})` }), "Percentiles of each RDM's dissimilarities.") : ''}${table(['region', 'label', 'voxels', 'layer', 'method', 'r'], rows)}`,
    },
  ];
}

export async function writeParticipantReport(dir: string, d: ParticipantReportData): Promise<void> {
  writeFileAtomic(join(dir, 'report.html'), participantReportHtml(d));
}
