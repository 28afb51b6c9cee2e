/**
 * The group report (`group/report.html`): the test's settings and what it can detect (with fewer
 * than 6 participants no voxel can reach p < .05: said up front, and the effect maps are shown),
 * a warning when the maps are not in one space, every layer map (thresholded maps first; the effect
 * maps apart, labelled and in another colour map), winner-take-all over significant voxels (and over
 * the effect maps' top 10%), the Dice overlap between layer maps, the cluster table.
 */
import { join } from 'node:path';
import { matrixSvg } from '@orthostim/figures';
import { writeFileAtomic } from '@orthostim/protocol/node';
import type { GridRef } from '../pipeline/map-writer';
import type { ModelMethod } from '../rsa/compare-models';
import type { ClusterRow, Connectivity } from '../stats/clusters';
import { RECOVERY_LAYER_COLUMNS, recoveryLayerCells, type RecoveryTable } from '../recovery/recovery';
import { esc, fmt, keyValues, page, svgFigure, table } from './html';
import { EFFECT_CMAP, mapMosaic, ofMethod, topKWinner, wtaMosaic } from './layer-figures';
import { quantiles } from '../stats/order-statistics';
import { mosaicSlices } from './mosaic';

/** One group test (a layer and a method) as the report shows it. */
export interface GroupTest {
  /** The layer, or the model RDM's name when `kind` is 'model'. */
  layer: string;
  kind?: 'model';
  method: ModelMethod;
  nVoxels: number;
  nSignificant: number;
  maxAbsT: number;
  minFweP: number;
  clusters: ClusterRow[];
  nClusters: number;
  /** Whole-grid maps kept for the report. */
  meanZ: Float32Array;
  thresholdedT: Float32Array;
}

export interface GroupSummary {
  dir: string;
  participants: string[];
  tests: GroupTest[];
  nPatterns: number;
  exhaustive: boolean;
  minAttainableP: number;
  alpha: number;
  /** The statistic of the test: t, or pseudo-t with variance smoothing (FWHM in mm, 0: none). */
  statistic: 't' | 'pseudo-t';
  varianceSmoothingMm: number;
  note?: string;
  /** Set when the participants' maps are not in one standard space (native-space BOLD). */
  spaceWarning?: string;
  seconds: number;
}

/** Winner-take-all over one method's layer maps: over significant voxels, and over the effect maps. */
export interface GroupWinners {
  method: ModelMethod;
  winner: Int16Array;
  counts: number[];
  effectWinner: Int16Array;
  effectCounts: number[];
}

/** Dice overlap of one method's thresholded layer maps (layers x layers, row-major). */
export interface GroupDice {
  method: ModelMethod;
  layers: string[];
  matrix: Float64Array;
}

/** Everything the group report shows; the report owns this type, the pipeline fills it. */
export interface GroupReportData {
  summary: GroupSummary;
  grid: GridRef;
  background: ArrayLike<number>;
  backgroundName: string;
  layers: string[];
  methods: ModelMethod[];
  wta: GroupWinners[];
  dice: GroupDice[];
  connectivity: Connectivity;
  atlas: boolean;
  /** Present for a simulated dataset: the thresholded maps scored against the planted regions. */
  recovery?: { method: ModelMethod; table: RecoveryTable }[];
}

/** A test's name in tables and titles: the layer, or `name (model RDM)`. */
const testName = (t: Pick<GroupTest, 'layer' | 'kind'>) => (t.kind ? `${t.layer} (model RDM)` : t.layer);

/**
 * One method's maps. Thresholded maps (RdBu_r) and the winner-take-all over significant voxels
 * first; then, in a dashed box labelled as not thresholded and in another colour map (PuOr), every
 * layer's effect map and the winner-take-all over their top 10%: a layer without a significant voxel
 * never appears as a colourful map among the thresholded ones.
 */
function methodMapsHtml(d: GroupReportData, method: ModelMethod, sliceIndices: readonly number[] | undefined): string {
  const s = d.summary;
  const stat = s.statistic;
  const tests = ofMethod(s.tests, method, d.methods);
  const w = d.wta.find((x) => x.method === method)!;
  const slices = sliceIndices ? { sliceIndices } : {};
  const parts: string[] = [`<h3>Thresholded maps: ${esc(stat)}, FWE p &lt; ${s.alpha}</h3>`];
  if (w.counts.some((c) => c > 0))
    parts.push(
      wtaMosaic(
        d.grid,
        d.background,
        w.winner,
        d.layers,
        w.counts,
        `Winner-take-all over significant voxels (${esc(method)})`,
        `At each voxel where at least one layer's positive effect has FWE p &lt; ${s.alpha}, the layer with the highest mean z.`,
        sliceIndices,
      ),
    );
  const empty = tests.filter((t) => t.nSignificant === 0);
  for (const t of tests.filter((x) => x.nSignificant > 0)) {
    const [vmaxT] = quantiles(t.thresholdedT, [1], { abs: true, nonzero: true });
    parts.push(
      mapMosaic({
        grid: d.grid,
        background: d.background,
        values: t.thresholdedT,
        threshold: 1e-9,
        vmax: vmaxT ?? 1,
        title: `${esc(testName(t))} (${esc(t.method)}): ${esc(stat)}, FWE p &lt; ${s.alpha}`,
        caption: `Thresholded: ${t.nSignificant} significant voxel(s) in ${t.nClusters} cluster(s).`,
        unit: stat,
        ...slices,
      }),
    );
  }
  if (empty.length)
    parts.push(
      `<p class="muted">No voxel with FWE p &lt; ${s.alpha}: ${esc(empty.map(testName).join(', '))}${empty.length === tests.length ? ' (no map to show)' : ''}.</p>`,
    );
  parts.push(effectMapsHtml(d, method, tests, sliceIndices));
  return parts.join('\n');
}

/** The effect maps of one method and their top-10% winner-take-all, in the labelled box. */
function effectMapsHtml(
  d: GroupReportData,
  method: ModelMethod,
  tests: readonly GroupTest[],
  sliceIndices: readonly number[] | undefined,
): string {
  const s = d.summary;
  const w = d.wta.find((x) => x.method === method)!;
  const layerTests = tests.filter((t) => !t.kind);
  const slices = sliceIndices ? { sliceIndices } : {};
  const qs = tests.map((t) => quantiles(t.meanZ, [0.9, 0.995], { abs: true }));
  const [vmaxZ] = quantiles(
    qs.map((q) => q[1]!),
    [1],
  );
  const thresholds = qs.map((q) => q[0] ?? Number.POSITIVE_INFINITY);
  const top = topKWinner(
    w.effectWinner,
    layerTests.map((t) => t.meanZ),
    layerTests.map((t) => thresholds[tests.indexOf(t)]!),
  );
  const effect = [
    `<p class="label">Not thresholded: effect maps (mean Fisher z over participants), descriptive only, not a test. Another colour map (purple to orange) than the thresholded maps.</p>`,
    wtaMosaic(
      d.grid,
      d.background,
      top.winner,
      d.layers,
      top.counts,
      `Winner-take-all over the top 10% of the effect maps (${esc(method)})`,
      "Only voxels where the winning layer's mean z is positive and among its map's top 10% of |mean z|; not thresholded by a test.",
      sliceIndices,
    ),
    ...tests.map((t, ti) =>
      mapMosaic({
        grid: d.grid,
        background: d.background,
        values: t.meanZ,
        threshold: thresholds[ti]!,
        vmax: vmaxZ ?? 1,
        title: `${esc(testName(t))} (${esc(t.method)}): effect map (mean z), not thresholded`,
        caption: `The top 10% of |mean z| (|z| >= ${fmt(thresholds[ti]!)}); ${t.nSignificant} voxel(s) with FWE p &lt; ${s.alpha}.`,
        unit: 'mean Fisher z',
        cmap: EFFECT_CMAP,
        ...slices,
      }),
    ),
  ];
  return `<div class="unthresholded">${effect.join('\n')}</div>`;
}

export function groupReportHtml(d: GroupReportData): string {
  const s = d.summary;
  const sections: { id: string; title: string; body: string }[] = [];
  const anySignificant = s.tests.some((t) => t.nSignificant > 0);
  const warning = s.note
    ? `<p class="note"><strong>No voxel can reach p &lt; ${s.alpha} here:</strong> ${esc(s.note)}. The maps below are the effect maps (mean Fisher z over participants), for description only.</p>`
    : !anySignificant
      ? `<p class="note">No voxel of any layer map reached FWE p &lt; ${s.alpha}. The effect maps are shown.</p>`
      : '';
  const spaceNote = s.spaceWarning
    ? `<p class="note"><strong>Participants not in one space:</strong> ${esc(s.spaceWarning)}.</p>`
    : '';
  sections.push({
    id: 'summary',
    title: 'Summary',
    body: `${warning}${spaceNote}${keyValues([
      ['participants', `${s.participants.length}: ${esc(s.participants.map((p) => `sub-${p}`).join(', '))}`],
      [
        'test',
        `one-sample ${s.statistic === 'pseudo-t' ? `pseudo-t (variance smoothed, FWHM ${s.varianceSmoothingMm} mm)` : 't'} on Fisher-z maps, two-sided, sign-flip permutations, maximum-statistic FWE`,
      ],
      [
        'sign patterns',
        `${s.nPatterns}${s.exhaustive ? ' (all 2^n)' : ' (random, seeded)'}; smallest attainable p ${fmt(s.minAttainableP, 4)}`,
      ],
      ['threshold', `FWE p &lt; ${s.alpha}`],
      ['clusters', `${d.connectivity}-connectivity`],
      ['background', esc(d.backgroundName)],
    ])}
${table(
  ['layer', 'method', 'voxels tested', `voxels FWE p < ${s.alpha}`, 'clusters', `max |${s.statistic}|`, 'min FWE p'],
  s.tests.map((t) => [esc(testName(t)), esc(t.method), t.nVoxels, t.nSignificant, t.nClusters, t.maxAbsT, t.minFweP]),
)}`,
  });
  // Every map on the same slices: those holding brain or tested voxels.
  const sliceIndices = s.tests[0]
    ? mosaicSlices({ dims: d.grid.dims, affine: d.grid.affine, background: d.background, within: s.tests[0].meanZ })
    : undefined;
  for (const method of d.methods) {
    sections.push({
      id: `maps-${method}`,
      title: `Layer maps (${method})`,
      body: methodMapsHtml(d, method, sliceIndices),
    });
  }
  sections.push({ id: 'overlap', title: 'Overlap', body: overlapHtml(d) });
  sections.push({ id: 'clusters', title: 'Clusters', body: clustersHtml(d) });
  if (d.recovery) {
    sections.push({
      id: 'recovery',
      title: 'Recovery of the planted regions (simulated dataset)',
      body: `<p>The dataset carries the ground truth of <code>orthostim simulate</code> (derivatives/truth): each layer's ${
        d.recovery[0]?.table.selection === 'top-k'
          ? `top-k map (the k voxels of highest mean z, k = the region's size; with ${s.participants.length} participants, fewer than 6, no voxel can reach FWE p &lt; ${s.alpha}, docs/simulate.md)`
          : 'FWE-thresholded map'
      } against the region planted for that layer. A layer is recovered when its map's peak lies in its own region (peak), or when its map's mean is highest in its own region of all planted regions (region mean); fraction inside = |map ∩ region| / |map|; Dice = 2|map ∩ region| / (|map| + |region|).</p>
${d.recovery
  .map(
    ({ method, table: t }) =>
      `<h3>${esc(method)}: layers recovered ${t.recoveredByPeak} (peak), ${t.recoveredByMean} (region mean) of ${t.rows.length}; mean Dice between layers' maps ${fmt(t.meanOverlap, 2)}</h3>${table(
        [...RECOVERY_LAYER_COLUMNS],
        t.rows.map((r) => recoveryLayerCells(r).map((c) => (typeof c === 'string' ? esc(c) : c))),
      )}`,
  )
  .join('\n')}`,
    });
  }
  return page(
    'Layer maps: group',
    `orthostim group &middot; ${esc(new Date().toISOString().slice(0, 19))}Z &middot; maps listed in index.json`,
    sections,
  );
}

/** The Dice overlap matrices of the thresholded layer maps, one per method. */
function overlapHtml(d: GroupReportData): string {
  return d.dice
    .map((x) => {
      const L = x.layers.length;
      const values = Array.from({ length: L }, (_, a) => Array.from({ length: L }, (_, b) => x.matrix[a * L + b]!));
      return svgFigure(
        matrixSvg({
          rowLabels: x.layers,
          colLabels: x.layers,
          values,
          range: [0, 1],
          cmap: 'viridis',
          title: `Dice overlap of thresholded layer maps (${x.method})`,
          colorbarLabel: 'Dice',
        }),
        'NaN (grey) where both maps are empty.',
      );
    })
    .join('');
}

/** The cluster table; its peak column is named after the statistic (t or pseudo-t). */
function clustersHtml(d: GroupReportData): string {
  const s = d.summary;
  const clusterRows = s.tests.flatMap((t) =>
    t.clusters.map((c) => [
      esc(testName(t)),
      esc(t.method),
      c.cluster,
      c.sizeVoxels,
      c.volumeMm3,
      c.peakValue,
      esc(c.peakMm.map((x) => x.toFixed(1)).join(', ')),
      ...(d.atlas ? [esc(c.peakLabel ?? '')] : []),
    ]),
  );
  return table(
    [
      'layer',
      'method',
      'cluster',
      'voxels',
      'mm³',
      `peak ${s.statistic}`,
      'peak (x, y, z) mm',
      ...(d.atlas ? ['atlas label at peak'] : []),
    ],
    clusterRows,
  );
}

export async function writeGroupReport(dir: string, d: GroupReportData): Promise<void> {
  writeFileAtomic(join(dir, 'report.html'), groupReportHtml(d));
}
