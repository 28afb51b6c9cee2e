/**
 * What the group level says across its layer maps, per method: winner-take-all over significant
 * voxels (and, descriptively, over the effect maps), the Dice overlap of the thresholded maps, and
 * one cluster table of every test; plus the report's background image.
 */
import { join } from 'node:path';
import { formatTsv } from '@orthostim/protocol';
import { writeFileAtomic } from '@orthostim/protocol/node';
import { assertSameGrid, readNifti, readVolume3d } from '../io/nifti';
import { winnerTakeAll } from '../maps/layer-maps';
import type { ModelMethod } from '../rsa/compare-models';
import type { GroupDice, GroupTest, GroupWinners } from '../report/group-report';
import type { Connectivity } from '../stats/clusters';
import { diceMatrix } from '../stats/threshold';
import type { GroupInputs } from './group-inputs';
import type { GroupMapTarget, GroupStatistic } from './group-tests';
import { gridSize } from './map-writer';
import { bidsFileName, type OutputIndexBuilder } from './output-index';
import { METHOD_LABELS } from './searchlight-stage';

/** Where the group's tables go besides its maps. */
export interface GroupTableTarget extends GroupMapTarget {
  staging: string;
  index: OutputIndexBuilder;
}

function testsOf(tests: GroupTest[], layers: string[], method: ModelMethod): GroupTest[] {
  return layers.map((l) => tests.find((r) => !r.kind && r.layer === l && r.method === method)!);
}

function winnerCounts(winner: Int16Array, nLayers: number): number[] {
  const counts = Array.from({ length: nLayers }, () => 0);
  for (const x of winner) if (x > 0) counts[x - 1]!++;
  return counts;
}

function writeWinners(
  target: GroupTableTarget,
  method: ModelMethod,
  tests: GroupTest[],
  layers: string[],
  alpha: number,
) {
  // Eligible: voxels where the layer's positive effect is significant.
  const positive = tests.map((r) => Uint8Array.from(r.thresholdedT, (v) => (v > 0 ? 1 : 0)));
  const meanZ = tests.map((r) => r.meanZ);
  const { winner } = winnerTakeAll(meanZ, positive);
  const effectWinner = winnerTakeAll(meanZ).winner;
  const base = [...target.entities, ['desc', 'wta'], ['rsa', METHOD_LABELS[method]]] as const;
  const labelMap = { datatype: 'int16', intent: 'label' } as const;
  target.writer.write(
    bidsFileName([...base, ['thresh', 'fwe']], 'dseg', '.nii.gz'),
    winner,
    {
      method,
      stat: 'wta',
      description: `winner-take-all over voxels where a layer's positive effect has FWE p < ${alpha}: 1-based layer index of the highest mean z (0: none)`,
    },
    labelMap,
  );
  target.writer.write(
    bidsFileName(base, 'dseg', '.nii.gz'),
    effectWinner,
    {
      method,
      stat: 'wta-effect',
      description: 'winner-take-all over the effect maps (mean z), no threshold: descriptive',
    },
    labelMap,
  );
  const counts = winnerCounts(winner, layers.length);
  const effectCounts = winnerCounts(effectWinner, layers.length);
  const tsv = bidsFileName(base, 'dseg', '.tsv');
  const rows = layers.map((l, i) => [i + 1, l, counts[i], effectCounts[i]]);
  writeFileAtomic(join(target.staging, tsv), formatTsv(['index', 'name', 'voxels_significant', 'voxels_effect'], rows));
  target.index.add({
    path: tsv,
    method,
    stat: 'wta-labels',
    description: 'layer of each winner-take-all index and its voxel counts',
  });
  return { method, winner, counts, effectWinner, effectCounts };
}

function writeDice(target: GroupTableTarget, method: ModelMethod, tests: GroupTest[], layers: string[], alpha: number) {
  const matrix = diceMatrix(tests.map((r) => r.thresholdedT));
  const path = bidsFileName([...target.entities, ['desc', 'overlap'], ['rsa', METHOD_LABELS[method]]], 'dice', '.tsv');
  const L = layers.length;
  const cell = (v: number) => (Number.isNaN(v) ? null : v.toFixed(4));
  const rows = layers.map((l, a) => [l, ...Array.from({ length: L }, (_, b) => cell(matrix[a * L + b]!))]);
  writeFileAtomic(join(target.staging, path), formatTsv(['layer', ...layers], rows));
  target.index.add({
    path,
    method,
    stat: 'dice',
    description: `Dice overlap of the thresholded (FWE p < ${alpha}) layer maps; n/a when both are empty`,
  });
  return { method, layers, matrix };
}

/** Winner-take-all maps and Dice tables of each method. */
export function writeLayerComparisons(
  target: GroupTableTarget,
  tests: GroupTest[],
  inputs: Pick<GroupInputs, 'layers' | 'methods'>,
  alpha: number,
): { wta: GroupWinners[]; dice: GroupDice[] } {
  const { layers } = inputs;
  const wta: GroupWinners[] = [];
  const dice: GroupDice[] = [];
  for (const method of inputs.methods) {
    const ofMethod = testsOf(tests, layers, method);
    wta.push(writeWinners(target, method, ofMethod, layers, alpha));
    dice.push(writeDice(target, method, ofMethod, layers, alpha));
  }
  return { wta, dice };
}

const CLUSTER_COLUMNS = [
  'layer',
  'method',
  'cluster',
  'size_voxels',
  'volume_mm3',
  'peak_statistic',
  'peak_x_mm',
  'peak_y_mm',
  'peak_z_mm',
  'peak_i',
  'peak_j',
  'peak_k',
];

/** One table of the clusters of every test, largest first, with their peaks (and atlas labels). */
export function writeClusterTable(
  target: GroupTableTarget,
  tests: GroupTest[],
  connectivity: Connectivity,
  withAtlas: boolean,
  statistic: GroupStatistic,
): void {
  const rows = tests.flatMap((r) =>
    r.clusters.map((c) => [
      r.layer,
      r.method,
      c.cluster,
      c.sizeVoxels,
      c.volumeMm3.toFixed(1),
      c.peakValue.toFixed(4),
      ...c.peakMm.map((x) => x.toFixed(1)),
      ...c.peakVoxel,
      ...(withAtlas ? [c.peakLabel ?? ''] : []),
    ]),
  );
  const path = bidsFileName([...target.entities, ['desc', 'clusters']], 'table', '.tsv');
  // The peak column names the statistic honestly: peak_pseudot for the variance-smoothed pseudo-t.
  const columns = [
    ...CLUSTER_COLUMNS.map((c) => (c === 'peak_statistic' ? `peak_${statistic.label}` : c)),
    ...(withAtlas ? ['peak_label'] : []),
  ];
  writeFileAtomic(join(target.staging, path), formatTsv(columns, rows));
  target.index.add({
    path,
    stat: 'clusters',
    description: `clusters of the thresholded ${statistic.name} maps (${connectivity}-connectivity), largest first, with peaks`,
  });
}

/** The report's background: the template when given, else the mean of the participants' mean EPIs. */
export function groupBackground(
  target: GroupTableTarget,
  inputs: Pick<GroupInputs, 'participants'>,
  template: string | undefined,
): { background: Float32Array; backgroundName: string } {
  if (template) {
    const tpl = readVolume3d(template, '--template');
    assertSameGrid(target.grid, tpl, '--template and the group maps');
    return { background: Float32Array.from(tpl.data), backgroundName: template };
  }
  const n = gridSize(target.grid);
  const background = new Float32Array(n);
  let count = 0;
  for (const p of inputs.participants) {
    const f = p.index.files.find((x) => x.stat === 'mean-epi');
    if (!f) continue;
    const v = readNifti(join(p.dir, f.path));
    assertSameGrid(target.grid, v, `mean EPI of sub-${p.label}`);
    for (let i = 0; i < n; i++) background[i] = background[i]! + v.data[i]!;
    count++;
  }
  const backgroundName = `the mean of ${count} participants' mean EPIs`;
  if (count === 0) return { background, backgroundName };
  for (let i = 0; i < n; i++) background[i] = background[i]! / count;
  const path = bidsFileName([...target.entities, ['desc', 'mean']], 'bold', '.nii.gz');
  target.writer.write(path, background, { stat: 'mean-epi', description: backgroundName });
  return { background, backgroundName };
}
