/**
 * The searchlight step shared by `orthostim analyze ... participant` and `orthostim searchlight`:
 * from assembled betas to written maps. Neighbours (searchlight/neighbors) -> sphere RDMs and model
 * comparison on worker threads (searchlight/run-searchlight) -> r and Fisher z map per layer and
 * method, winner-take-all map per method, sphere-size map, and (with --rois) each region's RDM
 * and its correlation with every layer. Returns what the report needs.
 */
import { join } from 'node:path';
import { pairCount, type ComparatorName } from '@orthostim/rdm';
import { InputError, type StimulusSet } from '@orthostim/protocol';
import { writeFileAtomic, type RdmVector } from '@orthostim/protocol/node';
import { bidsLabels } from '../io/bids';
import { affineVoxelSizes } from '../io/affine';
import { winnerTakeAll } from '../maps/layer-maps';
import {
  buildModelSet,
  type ExtraModelRdm,
  type ModelMethod,
  type ModelSet,
  type ModelSpec,
} from '../rsa/compare-models';
import { RESIDUAL_VARIANTS, RESIDUAL_VARIANT_NAMES } from '../rsa/residual-variants';
import { computeSearchlightNeighbors } from '../searchlight/neighbors';
import { runSearchlight } from '../searchlight/run-searchlight';
import { prepareSphereData } from '../searchlight/sphere-rdms';
import { NOISE_NORMALIZATIONS } from '../searchlight/crossnobis-noise';
import { selectKth } from '../stats/order-statistics';
import type { AssembledBetas } from './beta-set';
import { roiOnlyStage, SEARCHLIGHT_MAX_IMAGES, writeRoiRsa, type RoiSummary } from './roi-stage';
import { gridSize, toGrid, type GridRef, type MapWriter } from './map-writer';
import { bidsFileName } from './output-index';
import { lazyProgress } from './progress';
import { describeRadius, modelMethodsOf, type SearchlightSettings } from './settings';

/** Words for what a map of a method holds (reports and index.json descriptions). */
export function measureName(compare: ComparatorName, method: ModelMethod): string {
  const c = compare === 'kendall-tau-a' ? 'Kendall tau-a' : compare === 'spearman' ? 'Spearman r' : 'Pearson r';
  return method === 'standard' ? c : `${RESIDUAL_VARIANTS[method].measure(c)} (residual method, ${method})`;
}

/** The file-name entity (`rsa-<label>`) of a method: the variant's name for residual maps. */
export const METHOD_LABELS = {
  standard: 'standard',
  ...Object.fromEntries(RESIDUAL_VARIANT_NAMES.map((v) => [v, v])),
} as Record<ModelMethod, string>;

/** Activation-residual RDMs of the set, in layer order (null in the file means NaN), or undefined. */
export function activationRdmsOf(set: StimulusSet): Float64Array[] | undefined {
  const rdms = set.activationResiduals?.rdms;
  return rdms ? set.layers.map((l) => Float64Array.from(rdms[l]!, (v) => (v === null ? Number.NaN : v))) : undefined;
}

/**
 * The model methods to compute for a set: a set without activation-residual RDMs (hand-built,
 * older) gets semipartial instead of activation, with a note for the outputs.
 */
export function resolveModelMethods(
  settings: Pick<SearchlightSettings, 'method' | 'residual'>,
  set: StimulusSet,
): { methods: ModelMethod[]; notes: string[] } {
  const wanted = modelMethodsOf(settings);
  if (!wanted.includes('activation') || set.activationResiduals) return { methods: wanted, notes: [] };
  const methods = wanted.map((m) => (m === 'activation' ? 'semipartial' : m));
  return {
    methods: methods.filter((m, i) => methods.indexOf(m) === i),
    notes: [
      'the stimulus set holds no activation-residual RDMs (make it with `orthostim rdms`): the activation residual variant fell back to semipartial',
    ],
  };
}

export interface ModelSummary {
  /** The layer, or the model RDM's name when `kind` is 'model'. */
  layer: string;
  method: ModelMethod;
  kind?: 'model';
  /** Centres with a value (not NaN). */
  nValid: number;
  mean: number;
  max: number;
  /** 95th percentile of the values. */
  p95: number;
  /** r at each centre (grid index in the stage result's `centerGrid`), for the report's mosaics. */
  r: Float32Array;
}

export interface WtaSummary {
  method: ModelMethod;
  /** 1-based layer index per voxel, 0 where no layer has a value. */
  winner: Int16Array;
  /** Voxels won by each layer, in layer order. */
  counts: number[];
}

export type { RoiSummary } from './roi-stage';

export interface SearchlightStageResult {
  layers: string[];
  methods: readonly ModelMethod[];
  nAnalysisVoxels: number;
  nCenters: number;
  /** Centres whose sphere RDM was NaN or constant (NaN for every model). */
  invalidSpheres: number;
  fullSphereSize: number;
  degenerateModels: readonly string[];
  /** What a reader of the maps must know (e.g. a residual variant that fell back to another). */
  notes: string[];
  models: ModelSummary[];
  wta: WtaSummary[];
  roi?: RoiSummary;
  sphereSizeGrid: Float32Array;
  /** Grid index of each centre (the order of `models[].r`). */
  centerGrid: Int32Array;
  seconds: { searchlight: number; total: number };
}

export interface SearchlightStageOptions {
  set: StimulusSet;
  /** The set's layer RDMs in `set.layers` order (`LoadedStimulusSet.rdms`, either file version). */
  rdms: readonly RdmVector[];
  settings: SearchlightSettings;
  betas: AssembledBetas;
  grid: GridRef;
  writer: MapWriter;
  /** Folder inside the writer's folder for the maps ('' for the folder itself). */
  subdir: string;
  /** Leading file-name entities, e.g. [['sub', '01'], ['task', 'x'], ['space', 'MNI...']]. */
  entities: readonly (readonly [string, string | null | undefined])[];
  rois?: { path: string; labelsPath?: string };
  /** User-given model RDMs (`--model-rdm`), compared like the layers (standard method only). */
  modelRdms?: readonly ExtraModelRdm[];
  /** Label of the progress bar over the centres (stderr). */
  progressLabel: string;
}

/** The index.json fields of a model: `layer` for a layer, `model` for a user-given model RDM. */
export function modelEntry(
  m: ModelSpec,
): { layer: string; method: ModelMethod } | { model: string; method: ModelMethod } {
  return m.kind === 'model' ? { model: m.layer, method: m.method } : { layer: m.layer, method: m.method };
}

function summarize(values: Float32Array): { nValid: number; mean: number; max: number; p95: number } {
  const finite = new Float32Array(values.length);
  let n = 0;
  let sum = 0;
  let max = -Infinity;
  for (let k = 0; k < values.length; k++) {
    const v = values[k]!;
    if (v === v) {
      finite[n++] = v;
      sum += v;
      if (v > max) max = v;
    }
  }
  if (n === 0) return { nValid: 0, mean: Number.NaN, max: Number.NaN, p95: Number.NaN };
  return { nValid: n, mean: sum / n, max, p95: selectKth(finite, Math.min(n - 1, Math.floor(0.95 * n)), 0, n - 1) };
}

/** Maps that are NaN everywhere are an error, never a result: say why they could be. */
function refuseAllNaN(r: Float32Array, nCenters: number, invalidSpheres: number): void {
  for (let k = 0; k < r.length; k++) if (r[k] === r[k]) return;
  throw new InputError(
    `every searchlight map would be NaN (${nCenters} centres, ${invalidSpheres} with a degenerate sphere RDM): the betas are constant within the spheres or every layer RDM is; check the betas and the stimulus set`,
  );
}

/** Whether the searchlight needs the GLM residual series (crossnobis with multivariate noise normalisation). */
export function needsResidualSeries(s: Pick<SearchlightSettings, 'distance' | 'noiseNormalization'>): boolean {
  return s.distance === 'crossnobis' && NOISE_NORMALIZATIONS[s.noiseNormalization].needs === 'series';
}

export async function runSearchlightStage(o: SearchlightStageOptions): Promise<SearchlightStageResult> {
  const t0 = performance.now();
  const { set, settings, betas, grid, writer } = o;
  const n = gridSize(grid);
  const layers = [...set.layers];
  const { methods, notes } = resolveModelMethods(settings, set);
  const P = pairCount(set.images.length);
  if (betas.betas.nImages !== set.images.length) {
    throw new InputError(`the betas hold ${betas.betas.nImages} images but the stimulus set has ${set.images.length}`);
  }
  const activationRdms = methods.includes('activation') ? activationRdmsOf(set) : undefined;
  const models: ModelSet = buildModelSet(
    layers,
    o.rdms.map((r) => Float64Array.from(r)),
    settings.compare,
    methods,
    {
      extra: o.modelRdms ?? [],
      ...(activationRdms ? { activationRdms } : {}),
    },
  );
  if (models.nPairs !== P)
    throw new InputError(`the stimulus set's RDMs have ${models.nPairs} pairs; ${set.images.length} images need ${P}`);
  if (set.images.length > SEARCHLIGHT_MAX_IMAGES) return roiOnlyStage(o, models, t0);

  const analysisMask = new Uint8Array(n);
  for (const g of betas.voxels) analysisMask[g] = 1;
  const neighbors = computeSearchlightNeighbors(analysisMask, grid.dims, {
    radius: settings.radius.value,
    unit: settings.radius.unit,
    voxelSizesMm: affineVoxelSizes(grid.affine),
    minFraction: settings.minFraction,
    table: needsResidualSeries(settings), // multivariate noise: per-sphere kernel
  });
  if (neighbors.centers.length === 0) {
    throw new InputError(
      `no searchlight centre: with radius ${describeRadius(settings.radius)} no mask voxel has ${settings.minFraction * 100}% of its sphere (${neighbors.fullSphereSize} voxels) in the mask; lower --min-fraction or the radius`,
    );
  }
  const data = prepareSphereData(settings.distance, betas.betas, betas.residualVariance, {
    normalization: settings.noiseNormalization,
    ...(betas.residualSeries ? { residualSeries: betas.residualSeries } : {}),
  });
  writer.useEncoders(settings.threads); // they start while the searchlight runs
  const t1 = performance.now();
  const progress = lazyProgress(o.progressLabel);
  let result: Awaited<ReturnType<typeof runSearchlight>>;
  try {
    result = await runSearchlight(data, neighbors, models, { threads: settings.threads, onProgress: progress.update });
  } finally {
    progress.stop();
  }
  const t2 = performance.now();
  refuseAllNaN(result.r, result.nCenters, result.invalidSpheres);

  const sub = (name: string) => (o.subdir ? `${o.subdir}/${name}` : name);
  const desc = bidsLabels([...layers, ...(o.modelRdms ?? []).map((m) => m.name)], 'model');
  const centerGrid = new Int32Array(new SharedArrayBuffer(neighbors.centers.length * 4)); // read in place by the encoders
  neighbors.centers.forEach((m, c) => (centerGrid[c] = neighbors.maskVoxels[m]!));
  const C = result.nCenters;
  const summaries: ModelSummary[] = [];
  // Per-centre r of each model, by method: winner-take-all runs on centres, then goes on the grid.
  const rByMethod = new Map<ModelMethod, Float32Array[]>();
  result.models.forEach((model, m) => {
    const r = result.r.subarray(m * C, (m + 1) * C);
    const measure = measureName(settings.compare, model.method);
    const name = (stat: string) =>
      sub(
        bidsFileName(
          [...o.entities, ['desc', desc.get(model.layer)], ['rsa', METHOD_LABELS[model.method]], ['stat', stat]],
          'statmap',
          '.nii.gz',
        ),
      );
    writer.writeAt(
      name('r'),
      r,
      centerGrid,
      { ...modelEntry(model), stat: 'r', description: measure },
      { intent: 'correlation', intentParams: [P - 2] },
    );
    writer.writeAt(
      name('z'),
      r,
      centerGrid,
      { ...modelEntry(model), stat: 'z', description: `Fisher z of ${measure}` },
      { intent: 'none' },
      'fisher-z',
    );
    summaries.push({
      layer: model.layer,
      method: model.method,
      ...(model.kind ? { kind: model.kind } : {}),
      ...summarize(r),
      r,
    });
    if (model.kind === 'model') return; // winner-take-all is over the layers
    const list = rByMethod.get(model.method) ?? [];
    list.push(r);
    rByMethod.set(model.method, list);
  });

  const wta: WtaSummary[] = [];
  for (const method of methods) {
    const atCenters = winnerTakeAll(rByMethod.get(method)!).winner;
    const counts = layers.map(() => 0);
    for (let c = 0; c < C; c++) if (atCenters[c]! > 0) counts[atCenters[c]! - 1]!++;
    const winner = new Int16Array(n);
    for (let c = 0; c < C; c++) winner[centerGrid[c]!] = atCenters[c]!;
    const base = [...o.entities, ['desc', 'wta'], ['rsa', METHOD_LABELS[method]]] as const;
    const name = bidsFileName(base, 'dseg', '.nii.gz');
    writer.write(
      sub(name),
      winner,
      {
        method,
        stat: 'wta',
        description: `winner-take-all: 1-based index of the layer with the highest ${measureName(settings.compare, method)} (0: none); names in the .tsv`,
      },
      { datatype: 'int16', intent: 'label' },
    );
    const tsv = bidsFileName(base, 'dseg', '.tsv');
    writeFileAtomic(
      join(writer.dir, sub(tsv)),
      `index\tname\tvoxels\n${layers.map((l, i) => `${i + 1}\t${l}\t${counts[i]}`).join('\n')}\n`,
    );
    writer.index.add({
      path: sub(tsv),
      method,
      stat: 'wta-labels',
      description: 'layer of each winner-take-all index, and its voxel count',
    });
    wta.push({ method, winner, counts });
  }

  const sphereSizeGrid = toGrid(neighbors.sphereSizes, neighbors.maskVoxels, n, 0);
  writer.write(sub(bidsFileName([...o.entities, ['desc', 'spheresize']], 'statmap', '.nii.gz')), sphereSizeGrid, {
    stat: 'sphere-size',
    description: `voxels of each mask voxel's sphere inside the mask (radius ${describeRadius(settings.radius)}; full sphere ${neighbors.fullSphereSize})`,
  });

  const roi = o.rois ? writeRoiRsa(o, o.rois, data, models) : undefined;
  return {
    layers,
    methods,
    nAnalysisVoxels: betas.voxels.length,
    nCenters: C,
    invalidSpheres: result.invalidSpheres,
    fullSphereSize: neighbors.fullSphereSize,
    degenerateModels: models.degenerate,
    notes,
    models: summaries,
    wta,
    ...(roi ? { roi } : {}),
    sphereSizeGrid,
    centerGrid,
    seconds: { searchlight: (t2 - t1) / 1000, total: (performance.now() - t0) / 1000 },
  };
}
