/**
 * The design matrix of one run, in nilearn's column order (`make_first_level_design_matrix`):
 * event regressors, then confounds, then the cosine drifts, then the constant. Event regressors are
 * one per image of the stimulus set shown in the run (all of its trials together), in set order,
 * then one per other trial type (regressors of no interest, sorted by name). Baseline trial types
 * (`null`) are not modelled: they are the implicit baseline.
 */
import { computeFrameTimes, computeRegressor, cosineDrift, type ConditionEvent } from './regressors';
import type { GammaDifferenceHrf, HrfModelName } from './hrf';

export type DesignColumnKind = 'image' | 'nuisance' | 'confound' | 'drift' | 'constant';

export interface DesignColumn {
  name: string;
  kind: DesignColumnKind;
}

export interface DesignMatrix {
  nRows: number;
  nCols: number;
  /** Row-major nRows x nCols. */
  values: Float64Array;
  columns: DesignColumn[];
  frameTimesS: Float64Array;
  /** Images of the set with no trial in this run (no column; their betas are missing for the run). */
  imagesAbsent: string[];
}

export interface RunEvent {
  onsetS: number;
  durationS: number;
  /** The image shown, or null for a row that is not an image trial. */
  imageId: string | null;
  /** BIDS trial_type (names the nuisance regressor of non-image rows). */
  trialType: string;
  amplitude?: number;
}

export interface DesignOptions {
  nScans: number;
  repetitionTimeS: number;
  /** Time of each frame within its volume (s): 0 = start of the volume (nilearn slice_time_ref 0). */
  frameReferenceS?: number;
  /** The stimulus set's image ids, in set order. */
  images: readonly string[];
  events: readonly RunEvent[];
  /** Extra regressors (e.g. the 6 motion parameters), one array of nScans values each. */
  confounds?: { names: readonly string[]; values: readonly ArrayLike<number>[] };
  /** Cosine drift cut-off (Hz), default 1/128. 0 or less: no drift terms. */
  highPassHz?: number;
  hrf?: HrfModelName | GammaDifferenceHrf;
  oversampling?: number;
  /** trial_type values that are the implicit baseline (default ['null']). */
  baselineTrialTypes?: readonly string[];
}

export const DEFAULT_HIGH_PASS_HZ = 1 / 128;

export function buildRunDesign(o: DesignOptions): DesignMatrix {
  const T = o.nScans;
  const frameTimes = computeFrameTimes(T, o.repetitionTimeS, o.frameReferenceS ?? 0);
  const baseline = new Set(o.baselineTrialTypes ?? ['null']);
  const byImage = new Map<string, ConditionEvent[]>();
  const byNuisance = new Map<string, ConditionEvent[]>();
  for (const e of o.events) {
    const ev = { onsetS: e.onsetS, durationS: e.durationS, amplitude: e.amplitude ?? 1 };
    if (e.imageId !== null) {
      const list = byImage.get(e.imageId) ?? [];
      list.push(ev);
      byImage.set(e.imageId, list);
    } else if (!baseline.has(e.trialType)) {
      const list = byNuisance.get(e.trialType) ?? [];
      list.push(ev);
      byNuisance.set(e.trialType, list);
    }
  }
  const cols: { column: DesignColumn; values: ArrayLike<number> }[] = [];
  const regOpts = { hrf: o.hrf ?? 'spm', oversampling: o.oversampling ?? 50 } as const;
  const imagesAbsent: string[] = [];
  for (const id of o.images) {
    const evs = byImage.get(id);
    if (!evs) {
      imagesAbsent.push(id);
      continue;
    }
    cols.push({ column: { name: id, kind: 'image' }, values: computeRegressor(evs, frameTimes, regOpts) });
  }
  for (const name of [...byNuisance.keys()].sort()) {
    cols.push({
      column: { name, kind: 'nuisance' },
      values: computeRegressor(byNuisance.get(name)!, frameTimes, regOpts),
    });
  }
  o.confounds?.names.forEach((name, i) => {
    const v = o.confounds!.values[i]!;
    if (v.length !== T) throw new RangeError(`buildRunDesign: confound ${name} has ${v.length} values for ${T} scans`);
    cols.push({ column: { name, kind: 'confound' }, values: v });
  });
  const hp = o.highPassHz ?? DEFAULT_HIGH_PASS_HZ;
  if (hp > 0) {
    cosineDrift(frameTimes, hp).forEach((c, k) =>
      cols.push({ column: { name: `cosine${String(k).padStart(2, '0')}`, kind: 'drift' }, values: c }),
    );
  }
  cols.push({ column: { name: 'constant', kind: 'constant' }, values: new Float64Array(T).fill(1) });
  const K = cols.length;
  const values = new Float64Array(T * K);
  cols.forEach((c, k) => {
    for (let t = 0; t < T; t++) values[t * K + k] = c.values[t]!;
  });
  return { nRows: T, nCols: K, values, columns: cols.map((c) => c.column), frameTimesS: frameTimes, imagesAbsent };
}

/** The design as TSV (one row per volume, one column per regressor), nilearn's layout. */
export function formatDesignTsv(d: DesignMatrix): string {
  const lines = [d.columns.map((c) => c.name).join('\t')];
  for (let t = 0; t < d.nRows; t++) {
    const row: string[] = [];
    for (let k = 0; k < d.nCols; k++) row.push(String(+d.values[t * d.nCols + k]!.toPrecision(8)));
    lines.push(row.join('\t'));
  }
  return `${lines.join('\n')}\n`;
}
