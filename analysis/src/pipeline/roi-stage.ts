/**
 * Region-of-interest RSA as a pipeline step: each region of a label image (on the betas' grid),
 * its RDM and its comparison with every layer, written as a TSV table and a JSON file of RDMs.
 * It runs after the searchlight, or alone for sets too large for a searchlight (above
 * SEARCHLIGHT_MAX_IMAGES images: one region RDM is cheap, a sphere RDM at every voxel is not).
 */
import { modelEntry } from './searchlight-stage';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '@orthostim/protocol';
import { writeFileAtomic } from '@orthostim/protocol/node';
import { assertSameGrid, readVolume3d } from '../io/nifti';
import type { ModelMethod, ModelSet } from '../rsa/compare-models';
import { computeRoiRsa, formatRoiTable, type Region, type RoiResult } from '../rsa/roi-rsa';
import { prepareSphereData, type SphereData } from '../searchlight/sphere-rdms';
import { parseAtlasLabels } from '../stats/atlas-labels';
import { gridSize, type GridRef } from './map-writer';
import { bidsFileName } from './output-index';
import { modelMethodsOf } from './settings';
import {
  measureName,
  resolveModelMethods,
  type SearchlightStageOptions,
  type SearchlightStageResult,
} from './searchlight-stage';

/** The searchlight runs on sets up to this many images (docs/analysis.md; BENCHMARKS.md has the time at 200). */
export const SEARCHLIGHT_MAX_IMAGES = 200;

export interface RoiSummary {
  regions: RoiResult[];
  models: readonly { layer: string; method: ModelMethod }[];
}

function readRegions(
  path: string,
  labelsPath: string | undefined,
  grid: GridRef & { path?: string },
  voxels: Int32Array,
): { labelOfVoxel: Float64Array; regions: Region[] } {
  const img = readVolume3d(path, '--rois');
  assertSameGrid({ path: grid.path ?? '(the betas)', dims: grid.dims, affine: grid.affine }, img, '--rois');
  const labelOfVoxel = Float64Array.from(voxels, (g) => img.data[g]!);
  let names: Map<number, string>;
  if (labelsPath) {
    names = parseAtlasLabels(readFileSync(labelsPath, 'utf8'), labelsPath);
  } else {
    names = new Map();
    for (let g = 0; g < img.data.length; g++) {
      const v = img.data[g]!;
      if (v !== 0 && Number.isFinite(v) && !names.has(v)) names.set(v, `region${v}`);
    }
  }
  const regions = [...names.entries()]
    .filter(([id]) => id !== 0)
    .sort((a, b) => a[0] - b[0])
    .map(([id, name]) => ({ id, name }));
  if (regions.length === 0)
    throw new InputError(`--rois: ${path} has no nonzero label${labelsPath ? ` listed in ${labelsPath}` : ''}`);
  return { labelOfVoxel, regions };
}

/** ROI RSA of the stage's betas: computed, written beside the maps, summarised for the report. */
export function writeRoiRsa(
  o: SearchlightStageOptions,
  rois: NonNullable<SearchlightStageOptions['rois']>,
  data: SphereData,
  models: ModelSet,
): RoiSummary {
  const { set, settings, betas, grid, writer } = o;
  const methods = modelMethodsOf(settings);
  const sub = (name: string) => (o.subdir ? `${o.subdir}/${name}` : name);
  const { labelOfVoxel, regions } = readRegions(rois.path, rois.labelsPath, grid, betas.voxels);
  const res = computeRoiRsa(data, labelOfVoxel, regions, models);
  const base = [...o.entities, ['desc', 'rois']] as const;
  const tsv = bidsFileName(base, 'rsa', '.tsv');
  writeFileAtomic(join(writer.dir, sub(tsv)), formatRoiTable(res));
  writer.index.add({
    path: sub(tsv),
    stat: 'roi-r',
    description: `each region's ${settings.distance} RDM compared with every layer (${methods.map((m) => measureName(settings.compare, m)).join('; ')})`,
  });
  const json = bidsFileName(base, 'rsa', '.json');
  const num = (v: number) => (Number.isNaN(v) ? null : v);
  writeFileAtomic(
    join(writer.dir, sub(json)),
    `${JSON.stringify(
      {
        images: set.images.map((i) => i.id),
        distance: settings.distance,
        compare: settings.compare,
        rdmLayout: 'condensed upper triangle, row-major: (0,1), (0,2), ..., (n-2,n-1); null = NaN',
        regions: res.regions.map((r) => ({
          id: r.region.id,
          name: r.region.name,
          nVoxels: r.nVoxels,
          rdm: Array.from(r.rdm, num),
          models: res.models.map((m, k) => ({ ...modelEntry(m), r: num(r.values[k]!) })),
        })),
      },
      null,
      2,
    )}\n`,
  );
  writer.index.add({
    path: sub(json),
    stat: 'roi-rdm',
    description: 'each region: voxel count, RDM and its correlation with every layer',
  });
  return { regions: res.regions, models: res.models };
}

/**
 * A set above SEARCHLIGHT_MAX_IMAGES images without regions of interest is refused, with the
 * analyses that handle it. Called by the commands before any work, and by the stage.
 */
export function checkSearchlightSetSize(nImages: number, hasRois: boolean): void {
  const n = nImages;
  if (n > SEARCHLIGHT_MAX_IMAGES && !hasRois)
    throw new InputError(
      `the stimulus set has ${n} images; the searchlight handles up to ${SEARCHLIGHT_MAX_IMAGES} (a sphere RDM of ${(n * (n - 1)) / 2} pairs at every voxel). For larger sets use ROI RSA (--rois <label image>: the RDM of each region, no searchlight) or \`orthostim compare\` with brain RDMs you have`,
    );
}

/** The stage for a set above SEARCHLIGHT_MAX_IMAGES images: ROI RSA only (no maps). */
export function roiOnlyStage(o: SearchlightStageOptions, models: ModelSet, t0: number): SearchlightStageResult {
  checkSearchlightSetSize(o.set.images.length, o.rois !== undefined);
  const rois = o.rois!; // checked just above: a set this large comes with regions
  const data = prepareSphereData(o.settings.distance, o.betas.betas, o.betas.residualVariance);
  const roi = writeRoiRsa(o, rois, data, models);
  const t1 = performance.now();
  const { methods, notes } = resolveModelMethods(o.settings, o.set);
  return {
    layers: [...o.set.layers],
    methods,
    notes,
    nAnalysisVoxels: o.betas.voxels.length,
    nCenters: 0,
    invalidSpheres: 0,
    fullSphereSize: 0,
    degenerateModels: models.degenerate,
    models: [],
    wta: [],
    roi,
    sphereSizeGrid: new Float32Array(gridSize(o.grid)),
    centerGrid: new Int32Array(0),
    seconds: { searchlight: 0, total: (t1 - t0) / 1000 },
  };
}
