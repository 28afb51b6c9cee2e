/**
 * The outputs of `orthostim compare`: a printed table, TSV and JSON of the layer profiles, the
 * per-subject values, the pairwise model comparisons, and a figure of the profiles (mean with its
 * bootstrap interval per region, model RDMs as bars after the layers, the noise-ceiling band between
 * its lower and upper bound). Formatting only; the numbers come from layer-profiles.ts.
 */
import { CATEGORICAL_COLORS, linePlotSvg } from '@orthostim/figures';
import type { ComparatorName } from '@orthostim/rdm';
import { RESIDUAL_VARIANTS, type ModelMethod } from '@orthostim/analysis';
import type { RegionProfile } from './layer-profiles';
import type { RegionPairwise } from './pairwise-models';

const cell = (v: number | null | undefined, digits = 4) =>
  v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits);

/** What each value is: Spearman's rho, Pearson's r or Kendall's tau-a, standard or a residual variant. */
export function valueName(comparator: ComparatorName, method: ModelMethod): string {
  const base = { spearman: "Spearman's rho", pearson: "Pearson's r", 'kendall-tau-a': "Kendall's tau-a" }[comparator];
  return method === 'standard' ? base : `${RESIDUAL_VARIANTS[method].measure(base)} (residual method, ${method})`;
}

export function formatProfileTable(
  profiles: readonly RegionProfile[],
  comparator: ComparatorName,
  method: ModelMethod,
  ciLevel: number,
): string {
  const lines: string[] = [
    `${valueName(comparator, method)}, mean over subjects [${Math.round(ciLevel * 100)}% subject-bootstrap interval]`,
  ];
  for (const p of profiles) {
    const ceiling = p.noiseCeiling
      ? `noise ceiling ${cell(p.noiseCeiling.lower, 3)} to ${cell(p.noiseCeiling.upper, 3)}`
      : 'no noise ceiling (one subject)';
    lines.push(
      '',
      `${p.region} (${p.nSubjects} subject${p.nSubjects === 1 ? '' : 's'}; ${ceiling}); best layer: ${p.best ? `${p.best.layer} (${cell(p.best.mean, 3)})` : 'n/a'}`,
    );
    const w = Math.max(...p.layers.map((l) => l.layer.length));
    for (const l of p.layers) {
      const ci = l.ciLow === null ? '' : ` [${cell(l.ciLow, 3)}, ${cell(l.ciHigh, 3)}]`;
      lines.push(
        `  ${l.layer.padEnd(w)}  ${cell(l.mean, 3).padStart(6)}${ci}${p.best?.layer === l.layer ? '  *' : ''}${l.kind ? '  (model RDM)' : ''}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

export function formatProfilesTsv(
  profiles: readonly RegionProfile[],
  comparator: ComparatorName,
  method: ModelMethod,
): string {
  const lines = [
    'region\tlayer\tmethod\tcomparator\tn_subjects\tmean\tci_low\tci_high\tnoise_ceiling_lower\tnoise_ceiling_upper\tbest\tkind',
  ];
  for (const p of profiles) {
    for (const l of p.layers) {
      lines.push(
        [
          p.region,
          l.layer,
          method,
          comparator,
          p.nSubjects,
          cell(l.mean, 6),
          cell(l.ciLow, 6),
          cell(l.ciHigh, 6),
          cell(p.noiseCeiling?.lower, 6),
          cell(p.noiseCeiling?.upper, 6),
          p.best?.layer === l.layer ? 'yes' : 'no',
          l.kind ?? 'layer',
        ].join('\t'),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The pairs whose difference is significant (p < 0.05), per region, for the printed table. */
export function formatPairwiseTable(pairwise: readonly RegionPairwise[], ciLevel: number, nBootstrap: number): string {
  const lines = [
    `Pairwise model comparisons (difference of means [${Math.round(ciLevel * 100)}% interval], two-sided p; ${nBootstrap} resamples of subjects and images); pairs with p < 0.05:`,
  ];
  for (const r of pairwise) {
    const sig = r.pairs.filter((q) => q.p < 0.05);
    lines.push(`  ${r.region}: ${sig.length} of ${r.pairs.length} pair(s)${sig.length ? '' : ' (none)'}`);
    for (const q of sig)
      lines.push(
        `    ${q.a} - ${q.b}  ${cell(q.difference, 3)} [${cell(q.ciLow, 3)}, ${cell(q.ciHigh, 3)}]  p = ${cell(q.p, 4)}`,
      );
  }
  return `${lines.join('\n')}\n`;
}

export function formatPairwiseTsv(pairwise: readonly RegionPairwise[]): string {
  const lines = ['region\tmodel_a\tmodel_b\tdifference\tci_low\tci_high\tp\tn_resamples'];
  for (const r of pairwise)
    for (const q of r.pairs)
      lines.push(
        [r.region, q.a, q.b, cell(q.difference, 6), cell(q.ciLow, 6), cell(q.ciHigh, 6), cell(q.p, 6), q.nValid].join(
          '\t',
        ),
      );
  return `${lines.join('\n')}\n`;
}

export function formatPerSubjectTsv(profiles: readonly RegionProfile[]): string {
  const lines = ['region\tsubject\tlayer\tvalue'];
  for (const p of profiles)
    for (const l of p.layers)
      l.perSubject.forEach((v, s) => lines.push(`${p.region}\t${s + 1}\t${l.layer}\t${cell(v, 6)}`));
  return `${lines.join('\n')}\n`;
}

export function layerProfilesSvg(
  profiles: readonly RegionProfile[],
  comparator: ComparatorName,
  method: ModelMethod,
): string {
  const first = profiles[0]?.layers ?? [];
  const nLayers = first.filter((l) => !l.kind).length;
  // Layers at 0..L-1 joined by a line; model RDMs after a gap, each a short bar of its own.
  const xOf = (i: number) => (i < nLayers ? i : i + 0.5);
  const series = profiles.flatMap((p, k) => {
    const color = CATEGORICAL_COLORS[k % CATEGORICAL_COLORS.length]!;
    const layers = p.layers.filter((l) => !l.kind);
    const interval = (ls: typeof p.layers) =>
      p.nSubjects > 1
        ? { band: { low: ls.map((l) => l.ciLow ?? Number.NaN), high: ls.map((l) => l.ciHigh ?? Number.NaN) } }
        : {};
    const line = {
      name: p.region,
      x: layers.map((_, i) => i),
      y: layers.map((l) => l.mean),
      color,
      ...interval(layers),
    };
    const models = p.layers.flatMap((l, i) => {
      if (!l.kind) return [];
      const x = xOf(i);
      return [
        {
          name: `${p.region} ${l.layer}`,
          x: [x - 0.25, x + 0.25],
          y: [l.mean, l.mean],
          color,
          legend: false,
          ...interval([l, l]),
        },
      ];
    });
    if (!p.noiseCeiling) return [line, ...models];
    // The noise ceiling: the band from its lower to its upper bound, both edges dashed.
    const { lower, upper } = p.noiseCeiling;
    const span = [-0.3, xOf(p.layers.length - 1) + 0.3];
    const edge = (y: number) => ({
      name: `${p.region} noise ceiling`,
      x: span,
      y: [y, y],
      color,
      dashed: true,
      legend: false,
    });
    return [
      line,
      ...models,
      {
        ...edge(lower),
        name: `${p.region}: noise ceiling`,
        legend: true,
        band: { low: [lower, lower], high: [upper, upper] },
      },
      edge(upper),
    ];
  });
  const ticks = first.map((l, i) => ({ value: xOf(i), label: l.kind ? `${l.layer} (model)` : l.layer }));
  return linePlotSvg({
    series,
    title: `Layer profiles: ${valueName(comparator, method)}`,
    yLabel: 'mean over subjects',
    xTicks: ticks,
    width: Math.max(560, 160 + 48 * first.length),
    height: 440,
  });
}
