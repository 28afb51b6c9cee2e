/**
 * `orthostim simulate`: a BIDS dataset of a simulated study with a known answer. The runs' events
 * come from the session server's own scheduler (`buildRunSchedule`, `plannedEventsRows`) and are
 * written by the server's own writer (`writeRunEvents`, `copyStimulusSet`); the BOLD series come
 * from bold-series.ts on the phantom of brain-phantom.ts with the patterns of planted-patterns.ts;
 * the ground truth (brain mask, one region mask per layer, a label image, index.json) goes to
 * derivatives/truth/. Thin I/O around those pure parts. docs/simulate.md describes the model.
 */
import { join } from 'node:path';
import { createNormalRng, createRng, deriveSeed } from '@orthostim/rdm';
import {
  InputError,
  buildRunSchedule,
  defaultSessionConfig,
  eventsColumnDescriptions,
  parseSessionConfig,
  plannedEventsRows,
  type SessionConfig,
  type RunSchedule,
} from '@orthostim/protocol';
import {
  buildOutputDir,
  copyStimulusSet,
  ensureDatasetFiles,
  readStimulusSet,
  writeFileAtomic,
  writeRunEvents,
  type LoadedStimulusSet,
} from '@orthostim/protocol/node';
import { buildRunDesign, DEFAULT_HIGH_PASS_HZ } from '@orthostim/analysis';
import { computeFrameTimes, cosineDrift } from '@orthostim/analysis';
import { toRunEvents } from '@orthostim/analysis';
import { bidsLabels } from '@orthostim/analysis';
import { writeNiftiAsync } from '@orthostim/analysis';
import { buildBrainPhantom, PHANTOM_DEFAULTS, type BrainPhantom } from './brain-phantom';
import { embedRdm, plantPatterns, type PlantDistance, type PlantedGeometry } from './planted-patterns';
import {
  participantNoise,
  meanEvokedSd,
  regressorCovariance,
  synthesizeRun,
  type RegionSignal,
  type RunRegressors,
} from './bold-series';
import { jsonText, type TruthRegion, writeTruth } from './truth-files';

/** The simulation's settings: one table of defaults, documented in docs/simulate.md and --help. */
export const SIMULATION_DEFAULTS = {
  participants: 8,
  runs: 8,
  repetitionTimeS: 2,
  snr: 0.5,
  seed: 1,
  task: 'orthostim',
  voxelMm: PHANTOM_DEFAULTS.voxelMm,
  brainMm: PHANTOM_DEFAULTS.brainMm,
  regionRadiusMm: PHANTOM_DEFAULTS.regionRadiusMm,
  gapMm: PHANTOM_DEFAULTS.gapMm,
  /** Mean over a region's voxels of the SD over time of the evoked signal, % signal change. */
  evokedSdPsc: 0.5,
  /** SD over time of each brain voxel's slow drift, % signal change. */
  driftSdPsc: 1,
  ar1: 0.3,
  /** FWHM (mm) of the Gaussian that correlates neighbouring voxels' noise (0: independent voxels). */
  noiseFwhmMm: 0,
  /** SD of the log of the voxels' noise SDs (0: every voxel has the same noise level). */
  noiseHeteroscedasticity: 0,
  /** Mean baseline; each voxel's is uniform in [0.8, 1.2] x this. */
  baseline: 10000,
  /** Stored like a scanner's images (int16; the baseline of 10000 keeps rounding at 1e-4 of it); float32 stores the exact values. */
  datatype: 'int16' as 'float32' | 'int16',
};

export interface SimulateOptions {
  stimuli: string;
  outDir: string;
  participants?: number;
  runs?: number;
  repetitionTimeS?: number;
  /** SD of the evoked signal in a region voxel / SD of the noise; Infinity: no noise. */
  snr?: number;
  seed?: number;
  layers?: readonly string[];
  voxelMm?: number;
  task?: string;
  /** A session config (the run design: repetitions, null trials, SOA, ...); default: the session defaults. */
  sessionConfig?: SessionConfig;
  /** Condition-rich design: image trials per run (overrides the session config's `imageTrialsPerRun`). */
  imageTrialsPerRun?: number;
  brainMm?: readonly [number, number, number];
  regionRadiusMm?: number;
  gapMm?: number;
  evokedSdPsc?: number;
  driftSdPsc?: number;
  ar1?: number;
  noiseFwhmMm?: number;
  noiseHeteroscedasticity?: number;
  datatype?: 'float32' | 'int16';
  overwrite?: boolean;
  /** The command line, recorded in dataset_description.json. */
  command?: string;
  version?: string;
  log?: (message: string) => void;
}

export type { TruthRegion } from './truth-files';

export interface SimulateResult {
  outDir: string;
  participants: string[];
  runs: number;
  volumesPerRun: number[];
  dims: [number, number, number];
  brainVoxels: number;
  regions: TruthRegion[];
  seconds: number;
}

const STREAM = { schedule: 1, patterns: 2, baseline: 3, noise: 4, noiseScale: 5 } as const;

function participantLabels(count: number): string[] {
  const width = Math.max(2, String(count).length);
  return Array.from({ length: count }, (_, i) => String(i + 1).padStart(width, '0'));
}

function checkSettings(
  o: Required<
    Pick<
      SimulateOptions,
      | 'participants'
      | 'runs'
      | 'repetitionTimeS'
      | 'snr'
      | 'evokedSdPsc'
      | 'driftSdPsc'
      | 'ar1'
      | 'noiseFwhmMm'
      | 'noiseHeteroscedasticity'
    >
  >,
): void {
  const bad = (flag: string, v: unknown, want: string) =>
    new InputError(`simulate: ${flag} must be ${want}; got ${String(v)}`);
  if (!Number.isInteger(o.participants) || o.participants < 1 || o.participants > 999)
    throw bad('--participants', o.participants, 'a whole number from 1 to 999');
  if (!Number.isInteger(o.runs) || o.runs < 1 || o.runs > 99)
    throw bad('--runs', o.runs, 'a whole number from 1 to 99');
  if (!(o.snr > 0)) throw bad('--snr', o.snr, 'a number > 0 (or inf for no noise)');
  if (!(o.evokedSdPsc > 0)) throw bad('evokedSdPsc', o.evokedSdPsc, '> 0');
  if (!(o.driftSdPsc >= 0)) throw bad('driftSdPsc', o.driftSdPsc, '>= 0');
  if (!(o.ar1 >= 0 && o.ar1 < 1)) throw bad('ar1', o.ar1, 'in [0, 1)');
  if (!(o.noiseFwhmMm >= 0)) throw bad('--noise-fwhm-mm', o.noiseFwhmMm, 'a number >= 0');
  if (!(o.noiseHeteroscedasticity >= 0))
    throw bad('--noise-heteroscedasticity', o.noiseHeteroscedasticity, 'a number >= 0');
}

/** The run's image regressors (the analysis' own design code, so both see the same x_i(t)) and drift basis. */
function runRegressors(
  schedule: RunSchedule,
  loaded: LoadedStimulusSet,
  stimFiles: string[],
  tr: number,
  source: string,
): { regs: RunRegressors; rows: ReturnType<typeof plannedEventsRows> } {
  const rows = plannedEventsRows(schedule, (i) => stimFiles[i]!);
  const images = loaded.set.images.map((img, i) => ({ id: img.id, file: stimFiles[i]! }));
  const events = toRunEvents(rows, images, source);
  const T = schedule.totalVolumes;
  const design = buildRunDesign({
    nScans: T,
    repetitionTimeS: tr,
    images: images.map((i) => i.id),
    events,
    highPassHz: 0,
  });
  const n = images.length;
  const regressors = new Float64Array(n * T);
  design.columns.forEach((c, k) => {
    if (c.kind !== 'image') return;
    const i = images.findIndex((img) => img.id === c.name);
    for (let t = 0; t < T; t++) regressors[i * T + t] = design.values[t * design.nCols + k]!;
  });
  const driftBasis = cosineDrift(computeFrameTimes(T, tr), DEFAULT_HIGH_PASS_HZ);
  return { regs: { nScans: T, nImages: n, regressors, driftBasis }, rows };
}

export async function simulateStudy(options: SimulateOptions): Promise<SimulateResult> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const plan = planStudy(options);
  const { o, layers, config, phantom, labels } = plan;
  log(
    `simulate: ${o.participants} participants x ${o.runs} runs${config.imageTrialsPerRun !== undefined ? ` of ${config.imageTrialsPerRun} image trials` : ''}, ${plan.n} images, ${layers.length} layer regions, grid ${phantom.dims.join('x')} at ${o.voxelMm} mm (${phantom.brainVoxels.length} brain voxels), SNR ${plan.settings.snr}`,
  );
  const { volumesPerRun, truth } = await buildOutputDir(
    options.outDir,
    async (stage) => {
      const { stimFiles, setFile } = writeDatasetFiles(stage, options, plan);
      const truth = writeTruth(stage, phantom, plan.descs, plan.geometries, labels, plan.settings, plan.loaded);
      const pending: Promise<void>[] = [];
      let volumesPerRun: number[] = [];
      for (const [pi, label] of labels.entries()) {
        const t0 = performance.now();
        const runs = planParticipantRuns(plan, pi + 1, stimFiles);
        if (pi === 0) volumesPerRun = runs.map((r) => r.regs.nScans);
        await simulateParticipant(plan, stage, pi + 1, label, runs, setFile, pending);
        log(
          `  sub-${label}: ${o.runs} runs of ${runs.map((r) => r.regs.nScans).join('/')} volumes (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
        );
      }
      await Promise.all(pending);
      return { volumesPerRun, truth };
    },
    { overwrite: options.overwrite ?? false, inputs: [plan.loaded.path] },
  );
  return {
    outDir: options.outDir,
    participants: labels,
    runs: o.runs,
    volumesPerRun,
    dims: phantom.dims,
    brainVoxels: phantom.brainVoxels.length,
    regions: truth,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The options with their defaults filled in and checked. */
function resolveSettings(options: SimulateOptions) {
  const o = {
    participants: options.participants ?? SIMULATION_DEFAULTS.participants,
    runs: options.runs ?? SIMULATION_DEFAULTS.runs,
    repetitionTimeS: options.repetitionTimeS ?? SIMULATION_DEFAULTS.repetitionTimeS,
    snr: options.snr ?? SIMULATION_DEFAULTS.snr,
    seed: options.seed ?? SIMULATION_DEFAULTS.seed,
    task: options.task ?? SIMULATION_DEFAULTS.task,
    voxelMm: options.voxelMm ?? SIMULATION_DEFAULTS.voxelMm,
    brainMm: options.brainMm ?? SIMULATION_DEFAULTS.brainMm,
    regionRadiusMm: options.regionRadiusMm ?? SIMULATION_DEFAULTS.regionRadiusMm,
    gapMm: options.gapMm ?? SIMULATION_DEFAULTS.gapMm,
    evokedSdPsc: options.evokedSdPsc ?? SIMULATION_DEFAULTS.evokedSdPsc,
    driftSdPsc: options.driftSdPsc ?? SIMULATION_DEFAULTS.driftSdPsc,
    ar1: options.ar1 ?? SIMULATION_DEFAULTS.ar1,
    noiseFwhmMm: options.noiseFwhmMm ?? SIMULATION_DEFAULTS.noiseFwhmMm,
    noiseHeteroscedasticity: options.noiseHeteroscedasticity ?? SIMULATION_DEFAULTS.noiseHeteroscedasticity,
    datatype: options.datatype ?? SIMULATION_DEFAULTS.datatype,
  };
  checkSettings(o);
  if (!/^[A-Za-z0-9]+$/.test(o.task))
    throw new InputError(`simulate: --task must be a BIDS label (letters and digits); got ${JSON.stringify(o.task)}`);
  return o;
}

/** The layers to plant (default: all of the set's), each named once and a layer of the set. */
function resolveLayers(options: SimulateOptions, loaded: LoadedStimulusSet): string[] {
  const set = loaded.set;
  const layers = options.layers && options.layers.length > 0 ? [...options.layers] : [...set.layers];
  for (const l of layers) {
    if (!set.layers.includes(l))
      throw new InputError(
        `simulate: --layers: ${JSON.stringify(l)} is not a layer of ${loaded.path}; its layers are ${set.layers.join(', ')}`,
      );
  }
  if (new Set(layers).size !== layers.length)
    throw new InputError(`simulate: --layers names a layer twice (${layers.join(', ')})`);
  return layers;
}

/** Everything decided before a file is written: settings, layers, session config, geometries, phantom. */
function planStudy(options: SimulateOptions) {
  const o = resolveSettings(options);
  const loaded = readStimulusSet(options.stimuli);
  const set = loaded.set;
  const layers = resolveLayers(options, loaded);
  const config = parseSessionConfig(
    {
      ...(options.sessionConfig ?? defaultSessionConfig()),
      repetitionTimeS: o.repetitionTimeS,
      ...(options.imageTrialsPerRun !== undefined ? { imageTrialsPerRun: options.imageTrialsPerRun } : {}),
    },
    'session config with --tr and --image-trials-per-run',
  );
  const n = set.images.length;
  const distance: PlantDistance = set.distance;
  const geometries = new Map<string, PlantedGeometry>(
    layers.map((l) => [
      l,
      embedRdm(Array.from(loaded.rdms[set.layers.indexOf(l)]!), n, distance, `the RDM of layer "${l}"`),
    ]),
  );
  const phantom = buildPhantom(o, layers, geometries, n);
  const noiseSdPsc = Number.isFinite(o.snr) ? o.evokedSdPsc / o.snr : 0;
  const settings = {
    ...o,
    snr: Number.isFinite(o.snr) ? o.snr : 'inf',
    noiseSdPsc,
    brainMm: [...o.brainMm],
    layers,
    sessionConfig: config,
  };
  const labels = participantLabels(o.participants);
  const descs = bidsLabels(layers, 'layer');
  const version = options.version ?? '0.1.0';
  return { o, loaded, set, layers, config, n, geometries, phantom, noiseSdPsc, settings, labels, descs, version };
}

type StudyPlan = ReturnType<typeof planStudy>;

/** The phantom brain, each layer's region large enough to hold its planted geometry. */
function buildPhantom(
  o: ReturnType<typeof resolveSettings>,
  layers: string[],
  geometries: Map<string, PlantedGeometry>,
  n: number,
): BrainPhantom {
  const phantom = buildBrainPhantom({
    layers,
    voxelMm: o.voxelMm,
    brainMm: o.brainMm,
    regionRadiusMm: o.regionRadiusMm,
    gapMm: o.gapMm,
  });
  for (const r of phantom.regions) {
    const g = geometries.get(r.layer)!;
    if (r.voxels.length < g.rank + 1) {
      throw new InputError(
        `simulate: the region of layer "${r.layer}" has ${r.voxels.length} voxels; planting the geometry of ${n} images (rank ${g.rank}) needs at least ${g.rank + 1}; use a larger --region-mm or a smaller --voxel-mm`,
      );
    }
  }
  return phantom;
}

/** The dataset's own files (description, README, participants, task sidecar) and the stimulus set. */
function writeDatasetFiles(stage: string, options: SimulateOptions, plan: StudyPlan) {
  const { o, set, layers, labels } = plan;
  writeFileAtomic(
    join(stage, 'dataset_description.json'),
    jsonText({
      Name: `orthostim simulated study (${set.images.length} images, ${layers.length} layers)`,
      BIDSVersion: '1.9.0',
      DatasetType: 'raw',
      GeneratedBy: [
        { Name: 'orthostim simulate', Version: plan.version, Description: options.command ?? 'orthostim simulate' },
      ],
    }),
  );
  ensureDatasetFiles(stage, simulatedReadme(set.images.length, layers, options.command));
  writeFileAtomic(join(stage, 'participants.tsv'), `participant_id\n${labels.map((l) => `sub-${l}`).join('\n')}\n`);
  writeFileAtomic(
    join(stage, 'participants.json'),
    jsonText({
      participant_id: { Description: 'simulated participant (own voxel patterns, baseline, drift and noise)' },
    }),
  );
  writeFileAtomic(
    join(stage, `task-${o.task}_bold.json`),
    jsonText({ TaskName: o.task, RepetitionTime: o.repetitionTimeS }),
  );
  return copyStimulusSet(stage, plan.loaded);
}

/**
 * Every run's schedule first: the evoked amplitude is scaled over all of the participant's runs.
 * A condition-rich design cuts the runs from one image sequence per participant (its seed is
 * the schedule stream's "run 0", never a run's own seed).
 */
function planParticipantRuns(plan: StudyPlan, p: number, stimFiles: string[]) {
  const { o, set, config, loaded } = plan;
  const sequenceSeed = deriveSeed(o.seed, STREAM.schedule, p, 0);
  return Array.from({ length: o.runs }, (_, ri) => {
    const scheduleSeed = deriveSeed(o.seed, STREAM.schedule, p, ri + 1);
    const schedule = buildRunSchedule(
      set.images.map((i) => i.id),
      config,
      scheduleSeed,
      { sequenceSeed, runIndex: ri },
    );
    return {
      run: ri + 1,
      scheduleSeed,
      schedule,
      ...runRegressors(schedule, loaded, stimFiles, o.repetitionTimeS, `simulated run ${ri + 1}`),
    };
  });
}

type PlannedRun = ReturnType<typeof planParticipantRuns>[number];

/** A participant's own voxel patterns (scaled to the evoked SD over its runs), baseline and noise. */
function participantSignal(plan: StudyPlan, p: number, runs: readonly PlannedRun[]) {
  const { o, n, phantom, geometries } = plan;
  const cov = new Float64Array(n * n);
  for (const r of runs) regressorCovariance(r.regs).forEach((v, k) => (cov[k] = cov[k]! + v / runs.length));
  const patternRng = createNormalRng(deriveSeed(o.seed, STREAM.patterns, p));
  const brainPos = new Int32Array(phantom.dims[0] * phantom.dims[1] * phantom.dims[2]).fill(-1);
  phantom.brainVoxels.forEach((g, k) => (brainPos[g] = k));
  const regions: RegionSignal[] = phantom.regions.map((r) => {
    const betas = plantPatterns(geometries.get(r.layer)!, r.voxels.length, patternRng, `region of layer "${r.layer}"`);
    const scale = o.evokedSdPsc / meanEvokedSd(betas, n, cov);
    for (let k = 0; k < betas.length; k++) betas[k] = betas[k]! * scale;
    return { positions: Int32Array.from(r.voxels, (g) => brainPos[g]!), betas };
  });
  const uniform = createRng(deriveSeed(o.seed, STREAM.baseline, p));
  const baseline = Float32Array.from(phantom.brainVoxels, () => SIMULATION_DEFAULTS.baseline * (0.8 + 0.4 * uniform()));
  const noise = participantNoise(o, plan.noiseSdPsc, phantom, deriveSeed(o.seed, STREAM.noiseScale, p));
  return { regions, baseline, noise };
}

/** A participant's runs: events TSV and BOLD series, compressed while the next run is computed. */
async function simulateParticipant(
  plan: StudyPlan,
  stage: string,
  p: number,
  label: string,
  runs: readonly PlannedRun[],
  setFile: string,
  pending: Promise<void>[],
): Promise<void> {
  const { o, phantom } = plan;
  const { regions, baseline, noise } = participantSignal(plan, p, runs);
  const func = join(stage, `sub-${label}`, 'func');
  for (const r of runs) {
    writeSimulatedEvents(plan, stage, label, r, setFile);
    const T = r.regs.nScans;
    const nGrid = phantom.brain.length;
    const volume = new Float32Array(nGrid * T);
    synthesizeRun(
      r.regs,
      phantom.brainVoxels,
      baseline,
      regions,
      noise,
      createRng(deriveSeed(o.seed, STREAM.noise, p, r.run)),
      volume,
    );
    // Compress on libuv's pool while the next run is computed; at most two runs in memory.
    if (pending.length >= 2) await pending.shift();
    pending.push(
      writeNiftiAsync(
        join(func, `sub-${label}_task-${o.task}_run-${r.run}_bold.nii.gz`),
        { dims: [...phantom.dims, T], data: volume, affine: phantom.affine },
        {
          datatype: o.datatype,
          repetitionTimeS: o.repetitionTimeS,
          gzipLevel: 1,
          description: 'orthostim simulate',
        },
      ),
    );
  }
}

/** A run's events.tsv and its sidecar, by the session server's own writer. */
function writeSimulatedEvents(plan: StudyPlan, stage: string, label: string, r: PlannedRun, setFile: string): void {
  const { o, set, config } = plan;
  const runLabels = { participant: label, session: null, task: o.task, run: r.run };
  writeRunEvents(stage, runLabels, r.rows, {
    ...eventsColumnDescriptions(set.images.map((i) => i.id)),
    onset: {
      Description: 'Planned onset from time zero (a simulated run shows every trial exactly as planned)',
      Units: 's',
    },
    duration: { Description: 'Planned duration', Units: 's' },
    StimulusPresentation: { SoftwareName: 'orthostim simulate', SoftwareVersion: plan.version },
    Orthostim: {
      StimulusSetSha256: set.sha256,
      StimulusSetFile: setFile,
      simulated: true,
      seed: r.scheduleSeed,
      ...(r.schedule.imageSequence ? { imageSequence: r.schedule.imageSequence } : {}),
      repetitionTimeS: o.repetitionTimeS,
      config,
    },
  });
}

/** The dataset's README: what was simulated and where the answer is. */
function simulatedReadme(nImages: number, layers: readonly string[], command: string | undefined): string {
  return `orthostim simulated study

Simulated functional MRI data with a known answer, written by \`orthostim simulate\`
(docs/simulate.md). Participants "view" the ${nImages} images of the stimulus set in stimuli/ on the
session server's own schedule; in a phantom brain, each layer of the network (${layers.join(', ')})
owns one region whose voxel patterns have that layer's RDM, plus drift and AR(1) noise. The ground
truth (brain mask, one mask per layer region, label image, index.json) is in derivatives/truth/.
These are not recordings of any person.

Command: ${command ?? 'orthostim simulate'}
`;
}
