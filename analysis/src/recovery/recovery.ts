/**
 * How well an analysis of a simulated study found the planted layer regions. The table leads with
 * what decides the question (issue 15 settles this order for every recovery table): layers
 * recovered, by the peak (the layer's map has its highest value inside its own region) and by the
 * region means (of all planted regions, its map's mean is highest in its own); the fraction of each
 * map inside its region; the mean Dice overlap between different layers' maps; then the Dice
 * overlap of each map with its region. A layer with an empty map is not recovered.
 *
 * A layer's map is either its thresholded group map (voxels with FWE p < 0.05 and a positive
 * statistic, `fwe`), or, where no threshold is meaningful (one participant, or fewer than 6 at the
 * group level), its `top-k` map: the k voxels with the highest value, k = the size of the layer's true region, so Dice and
 * the fraction inside are then the same number (the precision at the region's size).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeValue, InputError } from '@orthostim/protocol';
import { readNifti } from '../io/nifti';
import { methodOfFields, type ModelMethod } from '../rsa/compare-models';
import { diceMatrix } from '../stats/threshold';

export type MapSelection = 'fwe' | 'top-k';

export interface RecoveryRow {
  layer: string;
  mapVoxels: number;
  regionVoxels: number;
  /** 2 |map and region| / (|map| + |region|). */
  dice: number;
  /** |map and region| / |map| (NaN for an empty map). */
  fractionInside: number;
  /** The map is not empty and its highest value lies inside the layer's own region. */
  peakInRegion: boolean;
  /** The map is not empty and its mean over the layer's own region is the highest of all planted regions. */
  highestMeanInRegion: boolean;
}

export interface RecoveryTable {
  selection: MapSelection;
  rows: RecoveryRow[];
  /** Mean Dice between the maps of different layers (pairs where both maps are empty are left out). */
  meanOverlap: number;
  /** Layers recovered by the peak and by the region means (see RecoveryRow). */
  recoveredByPeak: number;
  recoveredByMean: number;
}

/** Summary of a table: what the recovery tables show first. */
export function summarizeRecovery(t: RecoveryTable): {
  layers: number;
  recoveredByPeak: number;
  recoveredByMean: number;
  meanFractionInside: number;
  meanOverlap: number;
  meanDice: number;
} {
  const mean = (xs: number[]) => {
    const ok = xs.filter(Number.isFinite);
    return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : Number.NaN;
  };
  return {
    layers: t.rows.length,
    recoveredByPeak: t.recoveredByPeak,
    recoveredByMean: t.recoveredByMean,
    meanFractionInside: mean(t.rows.map((r) => r.fractionInside)),
    meanOverlap: t.meanOverlap,
    meanDice: mean(t.rows.map((r) => r.dice)),
  };
}

/** Whether the peak of `values` within the map lies in the region, and whether the region's mean is the highest. */
function locate(
  map: ArrayLike<number>,
  values: ArrayLike<number>,
  regions: readonly ArrayLike<number>[],
  own: number,
): { peakInRegion: boolean; highestMeanInRegion: boolean } {
  let peak = -1;
  for (let v = 0; v < map.length; v++) {
    const inMap = map[v]! > 0;
    if (inMap && Number.isFinite(values[v]!) && (peak < 0 || values[v]! > values[peak]!)) peak = v;
  }
  if (peak < 0) return { peakInRegion: false, highestMeanInRegion: false };
  const means = regions.map((region) => {
    let sum = 0;
    let count = 0;
    for (let v = 0; v < region.length; v++) {
      if (!(region[v]! > 0)) continue;
      const inMap = map[v]! > 0;
      sum += inMap && Number.isFinite(values[v]!) ? values[v]! : 0;
      count++;
    }
    return count ? sum / count : Number.NaN;
  });
  const best = Math.max(...means.filter(Number.isFinite));
  return { peakInRegion: regions[own]![peak]! > 0, highestMeanInRegion: means[own] === best && best > 0 };
}

/** The k voxels with the highest finite values (ties broken by position), as a 0/1 map. */
export function topKMap(values: ArrayLike<number>, k: number): Uint8Array {
  const idx: number[] = [];
  for (let v = 0; v < values.length; v++) if (Number.isFinite(values[v]!)) idx.push(v);
  idx.sort((a, b) => values[b]! - values[a]! || a - b);
  const out = new Uint8Array(values.length);
  for (const v of idx.slice(0, k)) out[v] = 1;
  return out;
}

/**
 * Score layer maps (positive = in the map: the group test is two-sided, and a region whose RDM is
 * significantly *anti*-correlated with a layer is not that layer's region) against the true regions
 * (same order, same grid). `values` (default: the maps) are what the peak and the region means are
 * taken of, inside each map: for a top-k map, the statistic it was cut from.
 */
export function scoreRecovery(
  layers: readonly string[],
  maps: readonly ArrayLike<number>[],
  regions: readonly ArrayLike<number>[],
  selection: MapSelection,
  values: readonly ArrayLike<number>[] = maps,
): RecoveryTable {
  maps = maps.map((m) => Float64Array.from(m, (v) => (v > 0 ? v : 0)));
  const rows = layers.map((layer, l) => {
    const map = maps[l]!;
    const region = regions[l]!;
    let inMap = 0;
    let inRegion = 0;
    let both = 0;
    for (let v = 0; v < map.length; v++) {
      const m = map[v]! > 0;
      const r = region[v]! > 0;
      if (m) inMap++;
      if (r) inRegion++;
      if (m && r) both++;
    }
    return {
      layer,
      mapVoxels: inMap,
      regionVoxels: inRegion,
      dice: inMap + inRegion ? (2 * both) / (inMap + inRegion) : Number.NaN,
      fractionInside: inMap ? both / inMap : Number.NaN,
      ...locate(map, values[l]!, regions, l),
    };
  });
  const L = layers.length;
  const d = diceMatrix(maps);
  let sum = 0;
  let count = 0;
  for (let a = 0; a < L; a++) {
    for (let b = a + 1; b < L; b++) {
      const v = d[a * L + b]!;
      if (Number.isNaN(v)) continue;
      sum += v;
      count++;
    }
  }
  return {
    selection,
    rows,
    meanOverlap: count ? sum / count : Number.NaN,
    recoveredByPeak: rows.filter((r) => r.peakInRegion).length,
    recoveredByMean: rows.filter((r) => r.highestMeanInRegion).length,
  };
}

interface IndexFile {
  path: string;
  level?: string;
  participant?: string;
  layer?: string;
  method?: string;
  residual?: string;
  stat?: string;
}

function readIndex(dir: string): IndexFile[] {
  const p = join(dir, 'index.json');
  try {
    return (JSON.parse(readFileSync(p, 'utf8')) as { files: IndexFile[] }).files;
  } catch (err) {
    throw new InputError(`${p}: cannot read the outputs index (${(err as Error).message})`);
  }
}

export interface ReadRecoveryOptions {
  /** The output_dir of `orthostim analyze`. */
  analysisDir: string;
  /** The simulated BIDS dataset (its derivatives/truth/index.json). */
  bidsDir: string;
  /** standard or a residual variant (index.json's `method` and `residual`). */
  method: ModelMethod;
  /** A participant's maps (their r maps, top-k) or, without it, the group's. */
  participant?: string;
  selection?: MapSelection;
  /** Read the group maps from this folder instead of `<analysisDir>/group` (the group level's staging folder). */
  groupDir?: string;
}

export const TRUTH_SCHEMA = 'orthostim.simulation-truth/1';

interface TruthIndex {
  layers: { layer: string; mask: string }[];
}

/** derivatives/truth/index.json of `orthostim simulate`, checked: its schema and a layer list of names and masks. */
function readTruthIndex(truthDir: string): TruthIndex {
  const path = join(truthDir, 'index.json');
  let truth: { schema?: unknown; layers?: unknown };
  try {
    truth = JSON.parse(readFileSync(path, 'utf8')) as typeof truth;
  } catch (err) {
    throw new InputError(`${path}: cannot read the ground truth of the simulation (${(err as Error).message})`);
  }
  if (truth?.schema !== TRUTH_SCHEMA)
    throw new InputError(
      `${path}: not the ground truth of \`orthostim simulate\` (field schema: expected "${TRUTH_SCHEMA}", got ${describeValue(truth?.schema)})`,
    );
  const ok = (l: unknown) =>
    typeof (l as { layer?: unknown })?.layer === 'string' && typeof (l as { mask?: unknown })?.mask === 'string';
  if (!Array.isArray(truth.layers) || !truth.layers.every(ok))
    throw new InputError(`${path}: field layers: expected a list of {layer, mask}; got ${describeValue(truth.layers)}`);
  return truth as TruthIndex;
}

/**
 * Whether `bidsDir` carries orthostim's ground truth: true when derivatives/truth/index.json has
 * orthostim's schema, false when it is another program's, null when there is none.
 */
export function hasOrthostimTruth(bidsDir: string): boolean | null {
  const path = join(bidsDir, 'derivatives', 'truth', 'index.json');
  if (!existsSync(path)) return null;
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { schema?: unknown })?.schema === TRUTH_SCHEMA;
  } catch {
    return false;
  }
}

/** The recovery table of an analysis of a simulated study, from the files both commands wrote. */
export function readRecovery(o: ReadRecoveryOptions): RecoveryTable {
  const truthDir = join(o.bidsDir, 'derivatives', 'truth');
  const truth = readTruthIndex(truthDir);
  const selection: MapSelection = o.selection ?? (o.participant ? 'top-k' : 'fwe');
  const dir = o.participant
    ? join(o.analysisDir, `sub-${o.participant}`)
    : (o.groupDir ?? join(o.analysisDir, 'group'));
  const files = readIndex(dir);
  // The group's thresholded map is the t's or, with variance smoothing, the pseudo-t's.
  const stats = o.participant ? ['r'] : selection === 'fwe' ? ['thresholded-t', 'thresholded-pseudo-t'] : ['mean-z'];
  const stat = stats.join(' or ');
  const layers = truth.layers.map((l) => l.layer);
  const regions = truth.layers.map((l) => readNifti(join(truthDir, l.mask)));
  const values: ArrayLike<number>[] = [];
  const maps = layers.map((layer, l) => {
    const f = files.find(
      (x) => x.layer === layer && methodOfFields(x) === o.method && x.stat !== undefined && stats.includes(x.stat),
    );
    if (!f)
      throw new InputError(
        `${dir}/index.json: no ${stat} map of layer "${layer}" (${o.method}); was it analysed with this stimulus set and method?`,
      );
    const img = readNifti(join(dir, f.path));
    const region = regions[l]!;
    if (img.data.length !== region.data.length)
      throw new InputError(
        `${join(dir, f.path)}: grid ${img.dims.slice(0, 3).join('x')} differs from the truth's ${region.dims.slice(0, 3).join('x')}`,
      );
    values.push(img.data);
    if (selection === 'fwe') return img.data;
    let k = 0;
    for (const v of region.data) if (v > 0) k++;
    return topKMap(img.data, k);
  });
  return scoreRecovery(
    layers,
    maps,
    regions.map((r) => r.data),
    selection,
    values,
  );
}

/** Column heads of a per-layer recovery table, in the settled order (reports and Markdown). */
export const RECOVERY_LAYER_COLUMNS = [
  'layer',
  'recovered (peak)',
  'recovered (region mean)',
  'fraction inside',
  'Dice with its region',
  'map voxels',
  'region voxels',
] as const;

/** A per-layer row's cells in RECOVERY_LAYER_COLUMNS order. */
export function recoveryLayerCells(r: RecoveryRow): (string | number)[] {
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  return [
    r.layer,
    yes(r.peakInRegion),
    yes(r.highestMeanInRegion),
    f(r.fractionInside),
    f(r.dice),
    r.mapVoxels,
    r.regionVoxels,
  ];
}

/** The table as Markdown rows (for BENCHMARKS.md and the demo's output). */
export function formatRecoveryMarkdown(label: string, t: RecoveryTable): string {
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');
  const lines = [
    `**${label}** (${t.selection === 'fwe' ? 'thresholded group maps, FWE p < 0.05' : 'top-k maps, k = region size'}; layers recovered ${t.recoveredByPeak} (peak) and ${t.recoveredByMean} (region mean) of ${t.rows.length}; mean Dice between layers' maps ${f(t.meanOverlap)})`,
    '',
    `| ${RECOVERY_LAYER_COLUMNS.join(' | ')} |`,
    '| --- | :---: | :---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of t.rows) lines.push(`| ${recoveryLayerCells(r).join(' | ')} |`);
  return `${lines.join('\n')}\n`;
}
