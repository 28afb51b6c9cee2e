/** `orthostim synthesize`: parse and validate flags, run the synthesis job, show progress, print a summary. */
import { basename, resolve } from 'node:path';
import { UsageError } from '@orthostim/protocol';
import {
  Command,
  createProgress,
  info,
  numberOption,
  Option,
  options,
  requireOption,
  threadsRange,
  type Progress,
} from '@orthostim/protocol/cli';
import { GOOGLENET_VOCABULARY, resolveLayers } from '../activation-network';
import { listImageFiles } from '../images';
import { DEFAULT_RDM_LAYERS } from '../models/googlenet-layers';
import { currentCommandLine } from '../stimulus-set-writer';
import { LOSS_NAMES, type LossName } from '../synthesis/loss';
import type { ParamName } from '../synthesis/param';
import { readPairWeights } from '../synthesis/pair-weights';
import { PARAM_NAMES } from '../synthesis/param-registry';
import { SYNTHESIS_DEFAULTS as D, type SynthesisSettings } from '../synthesis/settings';
import { QUALITY_TARGET, runSynthesisJob, type SynthesisOutcome } from '../synthesis/synthesis-job';
import {
  availableSynthesisMemory,
  estimateSynthesisMemory,
  MAX_SYNTHESIS_IMAGES,
  WORKER_HEAP_BYTES,
} from '../synthesis/memory-estimate';
import { addSeedOptions, runSynthesisSeeds, wantsSeeds } from './synthesize-seeds';

interface SynthesizeFlags {
  out?: string;
  n?: number;
  size: number;
  layers?: string[];
  steps?: number;
  lr: number;
  seed: number;
  init: string;
  param: ParamName;
  loss: LossName;
  pairWeights?: string;
  spreadWeight: number;
  minCv: number;
  jitter: number;
  scaleJitter: number;
  polish: number;
  workers: number;
  weights?: string;
  backend?: string;
  resume?: string;
  jsonProgress?: boolean;
  natural?: string;
  checkpointEvery: number;
  overwrite?: boolean;
}

/** Flags that define a run; on --resume they come from the checkpoint and may not be given. */
const RUN_FLAGS: (keyof SynthesizeFlags)[] = [
  'n',
  'layers',
  'init',
  'param',
  'loss',
  'pairWeights',
  'lr',
  'seed',
  'size',
  'spreadWeight',
  'minCv',
  'jitter',
  'scaleJitter',
  'polish',
  'workers',
  'out',
];

const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');

export function formatSynthesisSummary(o: Extract<SynthesisOutcome, { status: 'done' }>): string {
  const lines = [
    `synthesize: ${o.settings.n} images at ${o.settings.size} px, ${o.settings.layers.length} layers, ${o.state.step} steps`,
    `mean |Pearson r| between layers' RDMs: ${fmt(o.before.meanAbsPearson)} at the start -> ${fmt(o.after.meanAbsPearson)} (target <= ${QUALITY_TARGET}: ${o.after.meanAbsPearson <= QUALITY_TARGET ? 'met' : 'not met'}); Spearman ${fmt(o.before.meanAbsSpearman)} -> ${fmt(o.after.meanAbsSpearman)}`,
    `smallest coefficient of variation of a layer's dissimilarities: ${fmt(Math.min(...o.after.spread.map((s) => s.cv)))}`,
  ];
  if (o.natural) lines.push(`natural images: mean |Pearson r| ${fmt(o.natural.meanAbsPearson)}`);
  lines.push(
    `wrote ${o.written.path}`,
    `      ${resolve(o.outDir, 'images')}/ (${o.settings.n} PNG files)`,
    `      ${resolve(o.outDir, 'report.html')} (figures also in figures/)`,
  );
  return lines.join('\n');
}

const gb = (bytes: number) => `${(bytes / 2 ** 30).toPrecision(3)} GiB`;

/** Refuse --n/--size/--workers that cannot fit in memory, naming the estimate and what would fit. */
export function checkSynthesisFits(n: number, size: number, layers: number, workers: number): void {
  const need = estimateSynthesisMemory(n, size, layers, workers);
  const have = availableSynthesisMemory();
  const at = `--n ${n} at --size ${size} (${layers} layers, ${workers} workers)`;
  if (need.perWorker > WORKER_HEAP_BYTES) {
    const perWorkerOne = estimateSynthesisMemory(1, size, layers, 1).perWorker;
    const hint =
      perWorkerOne > WORKER_HEAP_BYTES
        ? `use a --size of at most ${Math.floor(224 * Math.sqrt(WORKER_HEAP_BYTES / estimateSynthesisMemory(1, 224, layers, 1).perWorker))}`
        : `use at most ${Math.floor(WORKER_HEAP_BYTES / perWorkerOne) * workers} images with --workers ${workers}, or more --workers`;
    throw new UsageError(
      `${at}: each worker would need at least ${gb(need.perWorker)}, more than a backend can allocate (${gb(WORKER_HEAP_BYTES)}); ${hint}`,
    );
  }
  if (need.total > have) {
    let fit = n;
    while (fit > 3 && estimateSynthesisMemory(fit, size, layers, workers).total > have) fit = Math.floor(fit * 0.9);
    throw new UsageError(
      `${at}: needs at least ${gb(need.total)} of memory; this machine has ${gb(have / 0.8)} (80% usable); use at most --n ${fit}`,
    );
  }
}

function settingsFromFlags(flags: SynthesizeFlags): SynthesisSettings {
  const layers = resolveLayers(GOOGLENET_VOCABULARY, flags.layers);
  const init: SynthesisSettings['init'] =
    flags.init === 'noise'
      ? { kind: 'noise' }
      : { kind: 'images', dir: resolve(flags.init), files: listImageFiles(flags.init).map((f) => basename(f)) };
  checkSynthesisFits(
    flags.n ?? (init.kind === 'images' ? init.files.length : D.n),
    flags.size,
    layers.length,
    flags.workers,
  );
  return {
    n: flags.n ?? D.n,
    size: flags.size,
    layers,
    steps: flags.steps ?? D.steps,
    seed: flags.seed,
    param: flags.param,
    init,
    adam: { ...D.adam, lr: flags.lr },
    loss: { ...D.loss, loss: flags.loss, spreadWeight: flags.spreadWeight, minCv: flags.minCv },
    pairWeights: flags.pairWeights
      ? readPairWeights(flags.pairWeights, layers, GOOGLENET_VOCABULARY.resolveLayer)
      : undefined,
    transforms: { jitter: flags.jitter, scale: flags.scaleJitter },
    polishFraction: flags.polish,
    workers: flags.workers,
  };
}

/** Examples and notes under `orthostim synthesize --help`. */
const SYNTHESIZE_HELP = `
Examples:
  orthostim synthesize --out stimuli/sets/default --weights ../shared/models/bvlc-googlenet/weights --natural ../shared/data/photos/natural16
  orthostim synthesize --out quick --n 8 --size 128 --steps 50 --layers conv1,inception_3a,inception_4d,inception_5b
  orthostim synthesize --resume quick

Objective: the mean over layer pairs of the squared Pearson correlation between the layers'
correlation-distance RDMs (layers default to ${DEFAULT_RDM_LAYERS.join(', ')}),
plus a penalty when a layer's dissimilarities lose their spread. Images are parameterized in a
decorrelated Fourier space and seen under random jitter and scaling, except in the final --polish
fraction. Ctrl-C finishes the current step, writes a checkpoint and exits; --resume continues to
exactly the result of an uninterrupted run. Details: docs/synthesis.md.`;

export function buildSynthesizeCommand(): Command {
  const cmd = new Command('synthesize')
    .description(
      "optimize a set of images so that GoogLeNet's layers have mutually uncorrelated RDMs (each layer's RDM a fingerprint of that layer), " +
        'and write them as a stimulus set with a report',
    )
    .addOption(options.out())
    .addOption(
      numberOption('--n <count>', `number of images (default ${D.n}, or the number of images in --init <image-dir>)`, {
        min: 3,
        max: MAX_SYNTHESIS_IMAGES,
        integer: true,
      }),
    );
  addOptimizationOptions(cmd);
  addRunOptions(cmd);
  cmd.addHelpText('after', SYNTHESIZE_HELP);
  cmd.action(runSynthesizeCommand);
  addSeedOptions(cmd); // --seeds 1-8 --executor local|slurm --pick best (synthesize-seeds.ts, docs/cluster.md)
  return cmd;
}

/** Size, layers, steps, learning rate, seed, start, parameterization and the loss with its weights. */
function addOptimizationOptions(cmd: Command): void {
  cmd
    .addOption(options.size())
    .addOption(options.layers())
    .addOption(
      numberOption('--steps <count>', `optimization steps (default ${D.steps}; on --resume: a new, larger total)`, {
        min: 1,
        max: 1_000_000,
        integer: true,
      }),
    )
    .addOption(numberOption('--lr <rate>', 'Adam learning rate', { min: 1e-6, max: 10 }).default(D.lr))
    .addOption(
      numberOption('--seed <int>', 'random seed (noise start, transforms)', {
        min: 0,
        max: 2 ** 32 - 1,
        integer: true,
      }).default(D.seed),
    )
    .addOption(
      new Option(
        '--init <noise|image-dir>',
        'start from random noise or from the images in a folder (the first --n in file-name order)',
      ).default('noise'),
    )
    .addOption(new Option('--param <name>', 'image parameterization').choices(PARAM_NAMES).default(D.param))
    .addOption(
      new Option(
        '--loss <name>',
        'aggregate over layer pairs of the RDM correlations: squared (mean r^2), abs (mean |r|), softmax (smooth max of r^2)',
      )
        .choices(LOSS_NAMES)
        .default(D.loss.loss),
    )
    .addOption(
      new Option(
        '--pair-weights <file>',
        'JSON file with per-pair weights: {"default": 1, "pairs": [{"layers": ["conv1", "inception_5b"], "weight": 2}]}',
      ),
    )
    .addOption(
      numberOption(
        '--spread-weight <w>',
        "weight of the penalty that keeps each layer's dissimilarities from collapsing (0: off)",
        { min: 0, max: 1e6 },
      ).default(D.loss.spreadWeight),
    );
}

/** Transforms, workers, backend, resume, progress, natural images, checkpoints, overwrite. */
function addRunOptions(cmd: Command): void {
  cmd
    .addOption(
      numberOption(
        '--min-cv <cv>',
        "coefficient of variation of a layer's dissimilarities below which the spread penalty starts",
        { min: 0, max: 10 },
      ).default(D.loss.minCv),
    )
    .addOption(
      numberOption('--jitter <fraction>', 'largest random shift per step, as a fraction of the image side', {
        min: 0,
        max: 0.5,
      }).default(D.transforms.jitter),
    )
    .addOption(
      numberOption('--scale-jitter <fraction>', 'random scaling per step within 1 +- this', {
        min: 0,
        max: 0.5,
      }).default(D.transforms.scale),
    )
    .addOption(
      numberOption('--polish <fraction>', 'final fraction of the steps run without transforms', {
        min: 0,
        max: 1,
      }).default(D.polishFraction),
    )
    .addOption(
      numberOption(
        '--workers <count>',
        'worker threads, one backend instance each (results depend on it: keep it to reproduce a run)',
        threadsRange(),
      ).default(D.workers),
    )
    .addOption(options.weights())
    .addOption(options.backend())
    .addOption(
      new Option(
        '--resume <dir>',
        'continue an interrupted run from the checkpoint in its --out folder (settings come from the checkpoint)',
      ),
    )
    .addOption(new Option('--json-progress', 'print one JSON line per step on stdout instead of the progress bar'))
    .addOption(
      new Option(
        '--natural <image-dir>',
        'also show the layer similarity of these images in the report (e.g. ../shared/data/photos/natural16)',
      ),
    )
    .addOption(
      numberOption('--checkpoint-every <steps>', 'write a checkpoint every this many steps (and always on Ctrl-C)', {
        min: 1,
        max: 1_000_000,
        integer: true,
      }).default(D.checkpointEvery),
    )
    .addOption(options.overwrite());
}

/** The action: the settings (or the checkpoint to resume), the run with Ctrl-C and progress, a summary. */
async function runSynthesizeCommand(flags: SynthesizeFlags, command: Command): Promise<void> {
  if (wantsSeeds(flags)) return runSynthesisSeeds(flags, command, () => settingsFromFlags(flags));
  const { outDir, settings } = resolveSynthesisRun(flags, command);
  const sigint = stopOnSigint();
  let bar: Progress | null = null;
  let startStep = 0;
  try {
    const outcome = await runSynthesisJob({
      outDir,
      settings,
      resume: Boolean(flags.resume),
      steps: flags.resume ? flags.steps : undefined,
      weights: flags.weights,
      backend: flags.backend,
      overwrite: flags.overwrite,
      natural: flags.natural,
      checkpointEvery: flags.checkpointEvery,
      command: currentCommandLine(),
      shouldStop: sigint.stopRequested,
      onStart: (s, state, backend) => {
        startStep = state.step;
        if (!flags.jsonProgress) {
          info(
            `synthesize: ${s.n} images at ${s.size} px, ${s.layers.length} layers, steps ${state.step + 1}-${s.steps}, ${s.workers} workers on ${backend}`,
          );
          bar = createProgress(
            'synthesize',
            s.steps - state.step,
            'step {step}/{steps} | loss {loss} | mean |r| {r} | {sps} s/step',
          );
          bar.update(0, { step: state.step, steps: s.steps, loss: '-', r: '-', sps: '-' });
        }
      },
      onStep: ({ entry }, state, s) => {
        const recent = state.history.slice(Math.max(startStep, state.history.length - 10));
        const sps = recent.reduce((a, h) => a + h.seconds, 0) / Math.max(1, recent.length);
        if (flags.jsonProgress) {
          const line = {
            step: state.step,
            steps: s.steps,
            loss: entry.loss,
            meanAbsR: entry.meanAbsR,
            similarity: entry.similarity,
            penalty: entry.penalty,
            secondsPerStep: sps,
            etaSeconds: sps * (s.steps - state.step),
          };
          process.stdout.write(`${JSON.stringify(line)}\n`);
        } else {
          (bar as Progress | null)?.update(state.step - startStep, {
            step: state.step,
            steps: s.steps,
            loss: entry.loss.toExponential(3),
            r: entry.meanAbsR.toFixed(4),
            sps: sps.toFixed(2),
          });
        }
      },
      onPhase: (m) => {
        (bar as Progress | null)?.stop();
        bar = null;
        if (!flags.jsonProgress) info(`synthesize: ${m}`);
      },
    });
    (bar as Progress | null)?.stop();
    printOutcome(outcome, flags, outDir);
  } finally {
    (bar as Progress | null)?.stop();
    sigint.dispose();
  }
}

/** The folder and the settings: from the flags, or (--resume) from the checkpoint, with no run flag given. */
function resolveSynthesisRun(flags: SynthesizeFlags, command: Command) {
  const given = new Set(Object.keys(flags).filter((k) => command.getOptionValueSource(k) === 'cli'));
  if (flags.resume) {
    const conflicting = RUN_FLAGS.filter((k) => given.has(k));
    if (conflicting.length > 0) {
      const names = conflicting.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
      throw new UsageError(`--resume takes the run's settings from its checkpoint; drop ${names.join(', ')}`);
    }
  }
  const outDir = flags.resume ?? requireOption(flags.out, '--out', 'the folder to write the stimulus set into');
  const settings = flags.resume ? undefined : settingsFromFlags(flags);
  if (settings && settings.init.kind === 'images' && flags.n === undefined) {
    settings.n = settings.init.files.length;
    if (settings.n < 3)
      throw new UsageError(`--init ${flags.init}: has ${settings.n} images; synthesis needs at least 3`);
  }
  if (settings && settings.init.kind === 'images') settings.init.files = settings.init.files.slice(0, settings.n);
  return { outDir, settings };
}

/** Ctrl-C once: finish the step and write a checkpoint; twice: quit at once. */
function stopOnSigint(): { stopRequested: () => boolean; dispose: () => void } {
  let stopRequested = false;
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) {
      info('\nsynthesize: second Ctrl-C, quitting without a checkpoint');
      process.exit(130);
    }
    stopRequested = true;
    info('\nsynthesize: Ctrl-C: finishing this step and writing a checkpoint (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  return { stopRequested: () => stopRequested, dispose: () => process.off('SIGINT', onSigint) };
}

/** Where an interrupted run stands, or the summary (a JSON line with --json-progress). */
function printOutcome(outcome: SynthesisOutcome, flags: SynthesizeFlags, outDir: string): void {
  if (outcome.status === 'interrupted') {
    info(
      `synthesize: interrupted after step ${outcome.step} of ${outcome.steps}; checkpoint in ${resolve(outcome.outDir, 'checkpoint')}`,
    );
    info(`continue with: orthostim synthesize --resume ${outDir}`);
    process.exitCode = 130;
    return;
  }
  if (flags.jsonProgress) {
    process.stdout.write(
      `${JSON.stringify({ done: true, stimulusSet: outcome.written.path, meanAbsPearsonBefore: outcome.before.meanAbsPearson, meanAbsPearsonAfter: outcome.after.meanAbsPearson })}\n`,
    );
  } else process.stdout.write(`${formatSynthesisSummary(outcome)}\n`);
}
