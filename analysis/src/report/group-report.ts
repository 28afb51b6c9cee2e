/**
 * The group report (`group/report.html`): the test's settings and what it can detect (with fewer
 * than 6 participants no voxel can reach p < .05: said up front, and the effect maps are shown),
 * every layer map (thresholded t, or the effect map), winner-take-all over significant voxels, the
 * Dice overlap between layer maps, the cluster table.
 */
import { join } from 'node:path';
import { matrixSvg } from '@orthostim/figures';
import { writeFileAtomic } from '@orthostim/protocol/node';
import type { GroupSummary } from '../pipeline/group';
import type { GridRef } from '../pipeline/map-writer';
import type { ModelMethod } from '../rsa/compare-models';
import type { Connectivity } from '../stats/clusters';
import { RECOVERY_LAYER_COLUMNS, recoveryLayerCells, type RecoveryTable } from '../recovery/recovery';
import { esc, fmt, keyValues, page, svgFigure, table } from './html';
import { mapMosaic, wtaMosaic } from './layer-figures';
import { quantiles } from '../stats/order-statistics';
import { mosaicSlices } from './mosaic';

export interface GroupReportData {
  summary: GroupSummary;
  grid: GridRef;
  background: ArrayLike<number>;
  backgroundName: string;
  layers: string[];
  methods: ModelMethod[];
  wta: {
    method: ModelMethod;
    winner: Int16Array;
    counts: number[];
    effectWinner: Int16Array;
    effectCounts: number[];
  }[];
  dice: { method: ModelMethod; layers: string[]; matrix: Float64Array }[];
  connectivity: Connectivity;
  atlas: boolean;
  /** Present for a simulated dataset: the thresholded maps scored against the planted regions. */
  recovery?: { method: ModelMethod; table: RecoveryTable }[];
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
  sections.push({
    id: 'summary',
    title: 'Summary',
    body: `${warning}${keyValues([
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
  s.tests.map((t) => [esc(t.layer), esc(t.method), t.nVoxels, t.nSignificant, t.nClusters, t.maxAbsT, t.minFweP]),
)}`,
  });
  // Every map on the same slices: those holding brain or tested voxels.
  const sliceIndices = s.tests[0]
    ? mosaicSlices({ dims: d.grid.dims, affine: d.grid.affine, background: d.background, support: s.tests[0].meanZ })
    : undefined;
  for (const method of d.methods) {
    const tests = s.tests.filter((t) => t.method === method);
    const parts: string[] = [];
    const w = d.wta.find((x) => x.method === method)!;
    if (w.counts.some((c) => c > 0)) {
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
    } else {
      parts.push(
        `<p class="muted">Winner-take-all over significant voxels (${esc(method)}): no voxel is significant for any layer.</p>`,
      );
    }
    parts.push(
      wtaMosaic(
        d.grid,
        d.background,
        w.effectWinner,
        d.layers,
        w.effectCounts,
        `Winner-take-all over the effect maps (${esc(method)})`,
        'The layer with the highest mean z at each voxel, without a threshold: descriptive.',
        sliceIndices,
      ),
    );
    const qs = tests.map((t) => quantiles(t.meanZ, [0.9, 0.995], { abs: true }));
    const [vmaxZ] = quantiles(
      qs.map((q) => q[1]!),
      [1],
    );
    for (const [ti, t] of tests.entries()) {
      if (t.nSignificant > 0) {
        const [vmaxT] = quantiles(t.thresholdedT, [1], { abs: true, nonzero: true });
        parts.push(
          mapMosaic({
            grid: d.grid,
            background: d.background,
            values: t.thresholdedT,
            threshold: 1e-9,
            vmax: vmaxT ?? 1,
            title: `${esc(t.layer)} (${esc(method)}): ${s.statistic}, FWE p &lt; ${s.alpha}`,
            caption: `${t.nSignificant} significant voxel(s) in ${t.nClusters} cluster(s).`,
            unit: 't',
            ...(sliceIndices ? { sliceIndices } : {}),
          }),
        );
      } else {
        const thr = qs[ti]![0];
        parts.push(
          mapMosaic({
            grid: d.grid,
            background: d.background,
            values: t.meanZ,
            threshold: thr ?? 0,
            vmax: vmaxZ ?? 1,
            title: `${esc(t.layer)} (${esc(method)}): effect map (mean z)`,
            caption: `No voxel reached FWE p &lt; ${s.alpha}; the top 10% of |mean z| are shown (|z| >= ${fmt(thr ?? Number.NaN)}), for description only.`,
            unit: 'mean Fisher z',
            ...(sliceIndices ? { sliceIndices } : {}),
          }),
        );
      }
    }
    sections.push({ id: `maps-${method}`, title: `Layer maps (${method})`, body: parts.join('\n') });
  }
  const overlap = d.dice
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
  sections.push({ id: 'overlap', title: 'Overlap', body: overlap });
  const clusterRows = s.tests.flatMap((t) =>
    t.clusters.map((c) => [
      esc(t.layer),
      esc(t.method),
      c.cluster,
      c.sizeVoxels,
      c.volumeMm3,
      c.peakValue,
      esc(c.peakMm.map((x) => x.toFixed(1)).join(', ')),
      ...(d.atlas ? [esc(c.peakLabel ?? '')] : []),
    ]),
  );
  sections.push({
    id: 'clusters',
    title: 'Clusters',
    body: table(
      [
        'layer',
        'method',
        'cluster',
        'voxels',
        'mm³',
        'peak t',
        'peak (x, y, z) mm',
        ...(d.atlas ? ['atlas label at peak'] : []),
      ],
      clusterRows,
    ),
  });
  if (d.recovery) {
    sections.push({
      id: 'recovery',
      title: 'Recovery of the planted regions (simulated dataset)',
      body: `<p>The dataset carries the ground truth of <code>orthostim simulate</code> (derivatives/truth): each layer's FWE-thresholded map against the region planted for that layer. A layer is recovered when its map's peak lies in its own region (peak), or when its map's mean is highest in its own region of all planted regions (region mean); fraction inside = |map ∩ region| / |map|; Dice = 2|map ∩ region| / (|map| + |region|).</p>
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

export async function writeGroupReport(dir: string, d: GroupReportData): Promise<void> {
  writeFileAtomic(join(dir, 'report.html'), groupReportHtml(d));
}
