/**
 * From per-centre searchlight values to whole-grid maps: r and Fisher z per layer and method, the
 * sphere-size map, and winner-take-all maps. Grids are x-fastest Float32Arrays with NaN where
 * there is no value (outside the mask, unused centres).
 */
import { fisherZ } from '@orthostim/rdm';
import type { ModelMethod } from '../rsa/compare-models';
import type { SearchlightNeighbors } from '../searchlight/neighbors';
import type { SearchlightResult } from '../searchlight/run-searchlight';

export type MapStat = 'r' | 'z';

export interface LayerMap {
  readonly layer: string;
  readonly method: ModelMethod;
  readonly stat: MapStat;
  /** Whole grid, NaN where there is no value. */
  readonly values: Float32Array;
}

/** Grid index of each used centre. */
export function centerGridIndices(neighbors: Pick<SearchlightNeighbors, 'centers' | 'maskVoxels'>): Int32Array {
  return Int32Array.from(neighbors.centers, (m) => neighbors.maskVoxels[m] as number);
}

/** Put values[k] at grid index at[k] of an `nGrid` grid filled with `fill`. */
export function scatterToGrid(
  values: ArrayLike<number>,
  at: Int32Array,
  nGrid: number,
  fill = Number.NaN,
): Float32Array {
  if (values.length !== at.length)
    throw new RangeError(`scatterToGrid: ${values.length} values for ${at.length} positions`);
  const out = new Float32Array(nGrid).fill(fill);
  for (let k = 0; k < at.length; k++) out[at[k] as number] = values[k] as number;
  return out;
}

/** Voxel count of each mask voxel's truncated sphere (0 outside the mask). */
export function sphereSizeMap(neighbors: SearchlightNeighbors): Float32Array {
  const [nx, ny, nz] = neighbors.dims;
  return scatterToGrid(neighbors.sphereSizes, neighbors.maskVoxels, nx * ny * nz, 0);
}

/** Fisher z of every value (NaN stays NaN; |r| = 1 is clamped by rdm's fisherZ). */
export function fisherZValues(r: ArrayLike<number>): Float32Array {
  const out = new Float32Array(r.length);
  for (let k = 0; k < r.length; k++) out[k] = fisherZ(r[k] as number);
  return out;
}

/** r and z grids of every model of a searchlight result. */
export function searchlightLayerMaps(result: SearchlightResult, neighbors: SearchlightNeighbors): LayerMap[] {
  const [nx, ny, nz] = neighbors.dims;
  const at = centerGridIndices(neighbors);
  const n = result.nCenters;
  return result.models.flatMap((model, m) => {
    const r = result.r.subarray(m * n, (m + 1) * n);
    return [
      { layer: model.layer, method: model.method, stat: 'r' as const, values: scatterToGrid(r, at, nx * ny * nz) },
      {
        layer: model.layer,
        method: model.method,
        stat: 'z' as const,
        values: scatterToGrid(fisherZValues(r), at, nx * ny * nz),
      },
    ];
  });
}

export interface WinnerTakeAll {
  /** 1-based index of the winning layer per voxel; 0 where no layer is eligible or all are NaN. */
  readonly winner: Int16Array;
  /** The winning value (NaN where winner is 0). */
  readonly value: Float32Array;
}

/**
 * The layer with the highest value at each voxel. `eligible[l]` (optional) restricts layer l to
 * voxels where it is nonzero (e.g. its significant voxels). NaN never wins; on an exact tie the
 * earlier layer wins.
 */
export function winnerTakeAll(
  maps: readonly ArrayLike<number>[],
  eligible?: readonly ArrayLike<number>[],
): WinnerTakeAll {
  if (maps.length === 0) throw new RangeError('winnerTakeAll: no maps');
  if (maps.length > 32767) throw new RangeError(`winnerTakeAll: at most 32767 layers; got ${maps.length}`);
  const n = maps[0]!.length;
  for (const m of [...maps, ...(eligible ?? [])]) {
    if (m.length !== n) throw new RangeError(`winnerTakeAll: maps must have equal sizes; got ${m.length} and ${n}`);
  }
  if (eligible && eligible.length !== maps.length)
    throw new RangeError(`winnerTakeAll: ${eligible.length} eligibility masks for ${maps.length} maps`);
  const winner = new Int16Array(n);
  const value = new Float32Array(n).fill(Number.NaN);
  for (let v = 0; v < n; v++) {
    let best = -Infinity;
    let who = 0;
    for (let l = 0; l < maps.length; l++) {
      const x = maps[l]![v] as number;
      if (!(x > best)) continue; // NaN and ties lose
      if (eligible && !((eligible[l]![v] as number) !== 0 && !Number.isNaN(eligible[l]![v] as number))) continue;
      best = x;
      who = l + 1;
    }
    winner[v] = who;
    if (who > 0) value[v] = best;
  }
  return { winner, value };
}
