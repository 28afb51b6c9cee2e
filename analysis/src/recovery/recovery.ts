/**
 * How well an analysis of a simulated study found the planted layer regions: per layer, the Dice
 * overlap of its map with its true region and the fraction of its map inside that region, and the
 * mean Dice overlap between different layers' maps (how circumscribed and separate the maps are).
 *
 * A layer's map is either its thresholded group map (voxels with FWE p < 0.05, `fwe`), or, where
 * no threshold is meaningful (one participant, or fewer than 6 at the group level), its `top-k`
 * map: the k voxels with the highest value, k = the size of the layer's true region, so Dice and
 * the fraction inside are then the same number (the precision at the region's size).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '@orthostim/protocol';
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
}

export interface RecoveryTable {
  selection: MapSelection;
  rows: RecoveryRow[];
  /** Mean Dice between the maps of different layers (pairs where both maps are empty are left out). */
  meanOverlap: number;
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

/** Score layer maps (nonzero, non-NaN = in the map) against the true regions (same order, same grid). */
export function scoreRecovery(
  layers: readonly string[],
  maps: readonly ArrayLike<number>[],
  regions: readonly ArrayLike<number>[],
  selection: MapSelection,
): RecoveryTable {
  const rows = layers.map((layer, l) => {
    const map = maps[l]!;
    const region = regions[l]!;
    let inMap = 0;
    let inRegion = 0;
    let both = 0;
    for (let v = 0; v < map.length; v++) {
      const m = map[v]! !== 0 && !Number.isNaN(map[v]!);
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
  return { selection, rows, meanOverlap: count ? sum / count : Number.NaN };
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

/** The recovery table of an analysis of a simulated study, from the files both commands wrote. */
export function readRecovery(o: ReadRecoveryOptions): RecoveryTable {
  const truthDir = join(o.bidsDir, 'derivatives', 'truth');
  let truth: { layers: { layer: string; mask: string }[] };
  try {
    truth = JSON.parse(readFileSync(join(truthDir, 'index.json'), 'utf8')) as typeof truth;
  } catch (err) {
    throw new InputError(
      `${truthDir}/index.json: cannot read the ground truth of the simulation (${(err as Error).message})`,
    );
  }
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
  );
}

/** The table as Markdown rows (for BENCHMARKS.md and the demo's output). */
export function formatRecoveryMarkdown(label: string, t: RecoveryTable): string {
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');
  const lines = [
    `**${label}** (${t.selection === 'fwe' ? 'thresholded group maps, FWE p < 0.05' : 'top-k maps, k = region size'}; mean Dice between layers' maps ${f(t.meanOverlap)})`,
    '',
    '| layer | map voxels | region voxels | Dice with its region | fraction inside |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const r of t.rows)
    lines.push(`| ${r.layer} | ${r.mapVoxels} | ${r.regionVoxels} | ${f(r.dice)} | ${f(r.fractionInside)} |`);
  return `${lines.join('\n')}\n`;
}
