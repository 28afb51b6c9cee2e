/**
 * The outputs of `orthostim compare`: a printed table, TSV and JSON of the layer profiles, the
 * per-subject values, and a figure of the profiles (mean with its bootstrap interval per region,
 * the lower noise ceiling dashed). Formatting only; the numbers come from layer-profiles.ts.
 */
import { CATEGORICAL_COLORS, linePlotSvg } from '@orthostim/figures';
import type { ComparatorName } from '@orthostim/rdm';
import { RESIDUAL_VARIANTS, type ModelMethod } from '@orthostim/analysis';
import type { RegionProfile } from './layer-profiles';

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
        `  ${l.layer.padEnd(w)}  ${cell(l.mean, 3).padStart(6)}${ci}${p.best?.layer === l.layer ? '  *' : ''}`,
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
    'region\tlayer\tmethod\tcomparator\tn_subjects\tmean\tci_low\tci_high\tnoise_ceiling_lower\tnoise_ceiling_upper\tbest',
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
        ].join('\t'),
      );
    }
  }
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
  const layers = profiles[0]?.layers.map((l) => l.layer) ?? [];
  const x = layers.map((_, i) => i);
  // Each region's profile (with its interval shaded) and its lower noise ceiling share one colour.
  const series = profiles.flatMap((p, k) => {
    const color = CATEGORICAL_COLORS[k % CATEGORICAL_COLORS.length]!;
    const band =
      p.nSubjects > 1
        ? {
            band: {
              low: p.layers.map((l) => l.ciLow ?? Number.NaN),
              high: p.layers.map((l) => l.ciHigh ?? Number.NaN),
            },
          }
        : {};
    const line = { name: p.region, x, y: p.layers.map((l) => l.mean), color, ...band };
    if (!p.noiseCeiling) return [line];
    const lower = p.noiseCeiling.lower;
    return [
      line,
      {
        name: `${p.region} lower noise ceiling`,
        x: [0, Math.max(1, layers.length - 1)],
        y: [lower, lower],
        color,
        dashed: true,
        legend: false,
      },
    ];
  });
  return linePlotSvg({
    series,
    title: `Layer profiles: ${valueName(comparator, method)}`,
    yLabel: 'mean over subjects (dashed: lower noise ceiling)',
    xTicks: layers.map((label, value) => ({ value, label })),
    width: Math.max(560, 160 + 48 * layers.length),
    height: 440,
  });
}
