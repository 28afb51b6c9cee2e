/** `orthostim synthesize`: parse and validate flags, run the synthesis job, show progress, print a summary. */
import { basename, resolve } from 'node:path';
import { UsageError } from '@orthostim/protocol';
import {
  Command,
  createProgress,
  info,
  Option,
  options,
  parseNumberOption,
  parsePositiveInt,
  requireOption,
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

function settingsFromFlags(flags: SynthesizeFlags): SynthesisSettings {
  const layers = resolveLayers(GOOGLENET_VOCABULARY, flags.layers);
  const init: SynthesisSettings['init'] =
    flags.init === 'noise'
      ? { kind: 'noise' }
      : { kind: 'images', dir: resolve(flags.init), files: listImageFiles(flags.init).map((f) => basename(f)) };
  if (flags.n !== undefined && flags.n < 3)
    throw new UsageError(`--n must be at least 3 (an RDM comparison needs 3 image pairs); got ${flags.n}`);
  if (flags.size < 32)
    throw new UsageError(`--size must be at least 32 px (GoogLeNet downsamples by 32); got ${flags.size}`);
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

export function buildSynthesizeCommand(): Command {
  const cmd = new Command('synthesize')
    .description(
      "optimize a set of images so that GoogLeNet's layers have mutually uncorrelated RDMs (each layer's RDM a fingerprint of that layer), " +
        'and write them as a stimulus set with a report',
    )
    .addOption(options.out())
    .addOption(
      new Option(
        '--n <count>',
        `number of images (default ${D.n}, or the number of images in --init <image-dir>)`,
      ).argParser(parsePositiveInt('--n')),
    )
    .addOption(options.size())
    .addOption(options.layers())
    .addOption(
      new Option(
        '--steps <count>',
        `optimization steps (default ${D.steps}; on --resume: a new, larger total)`,
      ).argParser(parsePositiveInt('--steps')),
    )
    .addOption(
      new Option('--lr <rate>', 'Adam learning rate').argParser(parseNumberOption('--lr', 1e-6, 10)).default(D.lr),
    )
    .addOption(
      new Option('--seed <int>', 'random seed (noise start, transforms)')
        .argParser(parseNumberOption('--seed', 0, 2 ** 32 - 1))
        .default(D.seed),
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
      new Option(
        '--spread-weight <w>',
        "weight of the penalty that keeps each layer's dissimilarities from collapsing (0: off)",
      )
        .argParser(parseNumberOption('--spread-weight', 0))
        .default(D.loss.spreadWeight),
    )
    .addOption(
      new Option(
        '--min-cv <cv>',
        "coefficient of variation of a layer's dissimilarities below which the spread penalty starts",
      )
        .argParser(parseNumberOption('--min-cv', 0))
        .default(D.loss.minCv),
    )
    .addOption(
      new Option('--jitter <fraction>', 'largest random shift per step, as a fraction of the image side')
        .argParser(parseNumberOption('--jitter', 0, 0.5))
        .default(D.transforms.jitter),
    )
    .addOption(
      new Option('--scale-jitter <fraction>', 'random scaling per step within 1 +- this')
        .argParser(parseNumberOption('--scale-jitter', 0, 0.5))
        .default(D.transforms.scale),
    )
    .addOption(
      new Option('--polish <fraction>', 'final fraction of the steps run without transforms')
        .argParser(parseNumberOption('--polish', 0, 1))
        .default(D.polishFraction),
    )
    .addOption(
      new Option(
        '--workers <count>',
        'worker threads, one backend instance each (results depend on it: keep it to reproduce a run)',
      )
        .argParser(parsePositiveInt('--workers'))
        .default(D.workers),
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
      new Option('--checkpoint-every <steps>', 'write a checkpoint every this many steps (and always on Ctrl-C)')
        .argParser(parsePositiveInt('--checkpoint-every'))
        .default(D.checkpointEvery),
    )
    .addOption(options.overwrite())
    .addHelpText(
      'after',
      `
Examples:
  orthostim synthesize --out stimuli/sets/default --weights ../shared/models/bvlc-googlenet/weights --natural ../shared/data/photos/natural16
  orthostim synthesize --out quick --n 8 --size 128 --steps 50 --layers conv1,inception_3a,inception_4d,inception_5b
  orthostim synthesize --resume quick

Objective: the mean over layer pairs of the squared Pearson correlation between the layers'
correlation-distance RDMs (layers default to ${DEFAULT_RDM_LAYERS.join(', ')}),
plus a penalty when a layer's dissimilarities lose their spread. Images are parameterized in a
decorrelated Fourier space and seen under random jitter and scaling, except in the final --polish
fraction. Ctrl-C finishes the current step, writes a checkpoint and exits; --resume continues to
exactly the result of an uninterrupted run. Details: docs/synthesis.md.`,
    )
    .action(async (flags: SynthesizeFlags, command: Command) => {
      if (wantsSeeds(flags)) return runSynthesisSeeds(flags, command, () => settingsFromFlags(flags));
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
          shouldStop: () => stopRequested,
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
      } finally {
        (bar as Progress | null)?.stop();
        process.off('SIGINT', onSigint);
      }
    });
  addSeedOptions(cmd); // --seeds 1-8 --executor local|slurm --pick best (synthesize-seeds.ts, docs/cluster.md)
  return cmd;
}
