/**
 * `orthostim synthesize` as a library function: settings in, a stimulus set folder out
 * (images/, stimulus-set.json with a `synthesis` block, rdms.png, layer-similarity.png,
 * report.html, figures/). While it runs, `<out>/checkpoint/` holds the latest checkpoint; the
 * finished folder replaces it atomically. Cheap checks (weights, layers, folders) come before the
 * workers start.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InputError, UsageError } from '@orthostim/protocol';
import { buildOutputDir, checkOutputDir, writeFileAtomic } from '@orthostim/protocol/node';
import { GOOGLENET_VOCABULARY, loadActivationNetwork, resolveLayers } from '../activation-network';
import { formatBackend, initBackend, type BackendInfo } from '../backend';
import { readImageFolder } from '../images';
import { resolveWeights, type ResolvedWeights } from '../models/resolve-weights';
import { renderLayerSimilarityPng, renderRdmsPng } from '../rdm-figures';
import { stimulusIds, writeStimulusSet, type WrittenStimulusSet } from '../stimulus-set-writer';
import { CHECKPOINT_DIR, CHECKPOINT_FILE, checkpointWeights, readCheckpoint, writeCheckpoint } from './checkpoint';
import { evaluateImageSet, type SetEvaluation } from './evaluate-set';
import { NetworkPool } from './network-pool';
import type { ImageParameterization } from './param';
import { createParam } from './param-registry';
import { writeReport } from './report';
import type { SynthesisSettings } from './settings';
import { initialState, runSynthesis, type RunHooks, type StepReport, type SynthesisState } from './synthesize';
import { shareIdentityOnWasm } from './wasm-shared-identity';

/** The quality target of the default run: mean |Pearson r| over layer pairs. */
export const QUALITY_TARGET = 0.02;

export interface SynthesisJob {
  outDir: string;
  /** New run: its settings (layers may be aliases; resolved here). Resume: omit and set `resume`. */
  settings?: SynthesisSettings;
  /** Continue the interrupted run in this folder (settings from its checkpoint). */
  resume?: boolean;
  /** On resume: a new total step count (more steps than the run was started with). */
  steps?: number;
  weights?: string;
  backend?: string;
  overwrite?: boolean;
  /** Image folder whose layer similarity the report shows next to the synthesized set's. */
  natural?: string;
  checkpointEvery: number;
  command: string;
  onStep?: (report: StepReport, state: SynthesisState, settings: SynthesisSettings) => void;
  shouldStop?: () => boolean;
  /** Called once the workers are running and the start state is known (progress bars start here). */
  onStart?: (settings: SynthesisSettings, state: SynthesisState, backend: string) => void;
  onPhase?: (message: string) => void;
}

export type SynthesisOutcome =
  | {
      status: 'done';
      outDir: string;
      written: WrittenStimulusSet;
      before: SetEvaluation;
      after: SetEvaluation;
      natural?: SetEvaluation;
      settings: SynthesisSettings;
      state: SynthesisState;
    }
  | { status: 'interrupted'; outDir: string; step: number; steps: number };

/** size x size x 3 uint8 RGB images of the parameters (rounded from [0, 1]). */
export function renderImages(param: ImageParameterization, params: Float32Array, n: number): Uint8Array[] {
  const t = tf.tidy(() => param.toImages(tf.tensor2d(params, [n, param.perImage])));
  const values = t.dataSync();
  t.dispose();
  const per = param.size * param.size * 3;
  return Array.from({ length: n }, (_, i) => {
    const out = new Uint8Array(per);
    for (let k = 0; k < per; k++) out[k] = Math.round(Math.min(1, Math.max(0, values[i * per + k]!)) * 255);
    return out;
  });
}

const toFloatImage = (img: Uint8Array) => Float32Array.from(img, (v) => v / 255);

async function readInitImages(settings: SynthesisSettings): Promise<Float32Array[] | undefined> {
  if (settings.init.kind !== 'images') return undefined;
  const folder = await readImageFolder(settings.init.dir, settings.size);
  if (folder.images.length < settings.n) {
    throw new InputError(
      `--init ${settings.init.dir}: has ${folder.images.length} images; --n ${settings.n} needs at least that many`,
    );
  }
  return folder.images.slice(0, settings.n).map(toFloatImage);
}

/** Where a run starts: a new run's checked settings, or an interrupted run's checkpoint. */
interface RunStart {
  settings: SynthesisSettings;
  state: SynthesisState | null;
  weightsSha256Expected: string | null;
  command: string;
  found: ResolvedWeights;
}

/** Continue the run in `outDir`: settings and state from its checkpoint, weights as it found them unless --weights. */
function resumeStart(job: SynthesisJob, outDir: string): RunStart {
  const ck = readCheckpoint(outDir);
  const settings = { ...ck.meta.settings };
  if (job.steps !== undefined) {
    if (job.steps < ck.meta.step)
      throw new UsageError(`--steps ${job.steps}: the checkpoint in ${job.outDir} is already at step ${ck.meta.step}`);
    settings.steps = job.steps;
  }
  return {
    settings,
    state: ck.state,
    weightsSha256Expected: ck.meta.weightsSha256,
    command: ck.meta.command,
    found: synthesisWeights(
      job.weights !== undefined ? resolveWeights(job.weights) : checkpointWeights(ck.meta, job.outDir),
    ),
  };
}

/** Start a new run: check its settings and that `outDir` may be written, before any work. */
function newRunStart(job: SynthesisJob, outDir: string): RunStart {
  if (!job.settings) throw new Error('runSynthesisJob: settings are required for a new run');
  const settings = { ...job.settings, layers: resolveLayers(GOOGLENET_VOCABULARY, job.settings.layers) };
  if (settings.layers.length < 2)
    throw new UsageError(
      `--layers: the objective compares layers, so it needs at least 2; got ${settings.layers.length} (${settings.layers.join(', ')})`,
    );
  const L = settings.layers.length;
  if (settings.pairWeights && settings.pairWeights.length !== (L * (L - 1)) / 2) {
    throw new UsageError(
      `pair weights: ${settings.pairWeights.length} given for ${L} layers; expected ${(L * (L - 1)) / 2}`,
    );
  }
  if (existsSync(join(outDir, CHECKPOINT_DIR))) {
    throw new InputError(
      `${job.outDir}: holds a checkpoint of an interrupted run; continue it with \`orthostim synthesize --resume ${job.outDir}\` or choose another --out`,
    );
  }
  const found = synthesisWeights(resolveWeights(job.weights));
  checkOutputDir(outDir, {
    overwrite: job.overwrite,
    inputs: [found.path, job.natural, settings.init.kind === 'images' ? settings.init.dir : undefined],
  });
  return { settings, state: null, weightsSha256Expected: null, command: job.command, found };
}

/** Synthesis runs GoogLeNet: a TF.js model given as weights is refused. */
function synthesisWeights(found: ResolvedWeights): ResolvedWeights {
  if (found.kind === 'tfjs')
    throw new UsageError(
      `--weights ${found.path}: is a TF.js model; synthesis needs GoogLeNet weights (raw folder, .onnx file or cache folder)`,
    );
  return found;
}

/** Run the optimization on the network workers; 'stopped' leaves a checkpoint to resume from. */
async function optimize(
  job: SynthesisJob,
  outDir: string,
  start: RunStart,
  state: SynthesisState,
  found: ResolvedWeights,
  backendInfo: BackendInfo,
  param: ImageParameterization,
): Promise<'done' | 'stopped'> {
  const { settings, command } = start;
  const pool = await NetworkPool.start({
    workers: Math.min(settings.workers, settings.n),
    backend: job.backend ?? backendInfo.name,
    weights: found,
    layers: settings.layers,
    size: settings.size,
    param: settings.param,
    perImage: param.perImage,
  });
  try {
    if (start.weightsSha256Expected && pool.weightsSha256 !== start.weightsSha256Expected) {
      throw new InputError(
        `--resume ${job.outDir}: the run used weights with SHA-256 ${start.weightsSha256Expected}; the weights found (${found.path}) have ${pool.weightsSha256}; pass --weights with the run's weights`,
      );
    }
    const meta = {
      settings,
      weightsSha256: pool.weightsSha256,
      weights: { path: found.path, kind: found.kind },
      command,
    };
    const hooks: RunHooks = {
      onStep: (report, s) => job.onStep?.(report, s, settings),
      shouldStop: job.shouldStop,
      checkpoint: (s) => writeCheckpoint(outDir, s, meta),
      checkpointEvery: job.checkpointEvery,
    };
    job.onStart?.(settings, state, formatBackend(backendInfo));
    const outcome = await runSynthesis(pool, settings, state, hooks);
    if (outcome === 'stopped') writeCheckpoint(outDir, state, meta);
    return outcome;
  } finally {
    await pool.close();
  }
}

interface RunEvaluation {
  model: { name: string; weightsSha256: string; format: string };
  before: SetEvaluation;
  after: SetEvaluation;
  natural?: SetEvaluation;
}

/** Layer similarity of the start and final images (and of --natural), from the 8-bit images as `orthostim rdms` computes it. */
async function evaluateRun(
  job: SynthesisJob,
  found: ResolvedWeights,
  settings: SynthesisSettings,
  startImages: Uint8Array[],
  finalImages: Uint8Array[],
): Promise<RunEvaluation> {
  const network = await loadActivationNetwork(found);
  try {
    const evaluate = (images: Uint8Array[]) => evaluateImageSet(network, images, settings.size, settings.layers);
    const model = { name: network.name, weightsSha256: network.weightsSha256, format: network.format };
    const before = await evaluate(startImages);
    const after = await evaluate(finalImages);
    if (!job.natural) return { model, before, after };
    const folder = await readImageFolder(job.natural, settings.size);
    if (folder.images.length < 3)
      throw new InputError(
        `--natural ${job.natural}: has ${folder.images.length} images; an RDM comparison needs at least 3`,
      );
    return { model, before, after, natural: await evaluate(folder.images) };
  } finally {
    network.dispose();
  }
}

const similarity = (e: SetEvaluation) => ({
  pearson: e.pearson,
  spearman: e.spearman,
  meanAbsPearson: e.meanAbsPearson,
  meanAbsSpearman: e.meanAbsSpearman,
});

/** The stimulus set, its figures and the report, written into `outDir` atomically. */
async function writeSynthesisOutput(
  job: SynthesisJob,
  outDir: string,
  run: { settings: SynthesisSettings; state: SynthesisState; command: string; backendInfo: BackendInfo },
  images: Uint8Array[],
  evaluation: RunEvaluation,
): Promise<WrittenStimulusSet> {
  const { settings, state, command } = run;
  const { before, after, natural, model } = evaluation;
  const backend = formatBackend(run.backendInfo);
  const write = async (staging: string) => {
    const w = await writeStimulusSet(staging, {
      images,
      size: settings.size,
      model,
      layers: settings.layers,
      distance: 'correlation',
      rdms: after.rdms,
      provenance: { backend: run.backendInfo.name, command },
      synthesis: {
        settings,
        seed: settings.seed,
        steps: state.step,
        target: { meanAbsPearson: QUALITY_TARGET, met: after.meanAbsPearson <= QUALITY_TARGET },
        lossHistory: state.history.map((h) => ({ ...h, seconds: Number(h.seconds.toFixed(3)) })),
        layerSimilarity: {
          before: similarity(before),
          after: similarity(after),
          ...(natural ? { natural: { dir: job.natural, ...similarity(natural) } } : {}),
        },
        spread: { before: before.spread, after: after.spread },
        backend,
      },
    });
    writeFileAtomic(join(staging, 'rdms.png'), await renderRdmsPng(w.set, w.rdms));
    writeFileAtomic(join(staging, 'layer-similarity.png'), await renderLayerSimilarityPng(w.set));
    await writeReport(staging, {
      settings,
      imagePngs: w.imagePaths.map((p) => readFileSync(p)),
      imageIds: stimulusIds(settings.n),
      history: state.history,
      before,
      after,
      natural: natural && job.natural ? { dir: job.natural, evaluation: natural } : undefined,
      weightsSha256: model.weightsSha256,
      backend,
      command,
      target: QUALITY_TARGET,
    });
    return {
      ...w,
      path: join(outDir, 'stimulus-set.json'),
      imagePaths: w.imagePaths.map((p) => join(outDir, p.slice(staging.length + 1))),
    };
  };
  return buildOutputDir(outDir, write, {
    overwrite: true,
    isOurs: (d) => existsSync(join(d, CHECKPOINT_DIR, CHECKPOINT_FILE)),
  });
}

export async function runSynthesisJob(job: SynthesisJob): Promise<SynthesisOutcome> {
  const outDir = resolve(job.outDir);
  const start = job.resume ? resumeStart(job, outDir) : newRunStart(job, outDir);
  const { settings, found } = start;
  if (job.natural && !existsSync(job.natural))
    throw new InputError(`--natural ${job.natural}: does not exist (expected a folder of PNG/JPEG images)`);
  const initImages = await readInitImages(settings);
  const backendInfo = await initBackend(job.backend);
  if (backendInfo.name === 'wasm') shareIdentityOnWasm();
  const param = createParam(settings.param, settings.size);
  const state = start.state ?? initialState(settings, param, initImages);
  const outcome = await optimize(job, outDir, start, state, found, backendInfo, param);
  if (outcome === 'stopped') return { status: 'interrupted', outDir, step: state.step, steps: settings.steps };

  job.onPhase?.('evaluating the start and final images');
  const finalImages = renderImages(param, state.params, settings.n);
  const startImages = renderImages(param, initialState(settings, param, initImages).params, settings.n);
  param.dispose();
  const evaluation = await evaluateRun(job, found, settings, startImages, finalImages);
  job.onPhase?.('writing the stimulus set and report');
  const run = { settings, state, command: start.command, backendInfo };
  const written = await writeSynthesisOutput(job, outDir, run, finalImages, evaluation);
  const { before, after, natural } = evaluation;
  return { status: 'done', outDir, written, before, after, natural, settings, state };
}
