/** `orthostim rdms`: parse, call writeImageSetRdms, print a summary. */
import { Command, Option, options, parsePositiveInt, requireOption } from '@orthostim/protocol/cli';
import { ENGINES, type Engine } from '../models/network-source';
import type { ActivationDistance } from '@orthostim/protocol';
import { DEFAULT_RDM_LAYERS } from '../models/googlenet-layers';
import { currentCommandLine } from '../stimulus-set-writer';
import { IMAGE_ID_RULE_NAMES, type ImageIdRule } from '../image-ids';
import { ACTIVATION_RESIDUALS_MAX_IMAGES, writeImageSetRdms, type ImageSetRdmsResult } from '../image-set-rdms';
import type { NormalizationName } from '../models/preprocess';

interface RdmsFlags {
  out?: string;
  layers?: string[];
  distance: ActivationDistance;
  size: number;
  weights?: string;
  model?: string;
  normalize?: NormalizationName;
  engine: Engine;
  threads?: number;
  batchSize: number;
  backend?: string;
  overwrite?: boolean;
  ids: ImageIdRule;
  activationResiduals: boolean;
}

const fmt = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(3));

export function formatRdmsSummary(r: ImageSetRdmsResult): string {
  const { set } = r;
  const L = set.layers.length;
  const layerText = L <= 4 ? set.layers.join(', ') : `${set.layers[0]} ... ${set.layers[L - 1]}`;
  return [
    `rdms: ${set.images.length} images at ${set.model.inputSize} px, ${L} layer${L === 1 ? '' : 's'} (${layerText}), ${set.distance} distance, ${set.model.name}`,
    L > 1
      ? `mean |Pearson r| between layers' RDMs: ${fmt(r.meanAbsPearson)} over all ${(L * (L - 1)) / 2} pairs, ${fmt(r.meanAbsPearsonAdjacent)} between adjacent layers`
      : 'layer similarity: n/a (one layer)',
    ...(set.activationResiduals?.explained
      ? [
          `activation-residual RDMs: share of each layer's activations the other layers predict (leave-one-image-out) ${set.layers.map((l) => fmt(set.activationResiduals!.explained![l] ?? Number.NaN)).join(', ')}`,
        ]
      : []),
    `wrote ${r.files.stimulusSet}${'rdmsFile' in set ? ` (schema /2: the RDMs in ${set.rdmsFile.path} beside it)` : ''}`,
    `      ${r.files.images}/ (${set.images.length} PNG files)`,
    `      ${r.files.rdmsPng}`,
    `      ${r.files.layerSimilarityPng}`,
  ].join('\n');
}

export function buildRdmsCommand(): Command {
  return new Command('rdms')
    .description(
      'compute the RDM of every layer for a folder of PNG/JPEG images and write a stimulus set: the images exactly as the network saw them ' +
        '(centre-cropped, resized, RGB), stimulus-set.json, rdms.png and layer-similarity.png',
    )
    .argument(
      '<image-dirs...>',
      'folders of PNG/JPEG images (each read in file-name order, folder after folder; other files and subfolders are ignored)',
    )
    .addOption(
      new Option(
        '--ids <rule>',
        'image ids: numbered (stim-01, stim-02, ...) or stem (the file name without extension, e.g. face.jpg -> face; must be unique over all folders)',
      )
        .choices(IMAGE_ID_RULE_NAMES)
        .default('numbered'),
    )
    .addOption(options.out().makeOptionMandatory(false))
    .addOption(options.layers())
    .addOption(options.activationDistance())
    .addOption(options.size())
    .addOption(options.model())
    .addOption(options.weights())
    .addOption(options.normalize())
    .addOption(
      new Option('--engine <name>', 'forward engine: onnxruntime (all cores) or tfjs (the --backend)')
        .choices([...ENGINES])
        .default('onnxruntime'),
    )
    .addOption(
      new Option('--threads <n>', 'threads of the onnxruntime engine (default: every core)').argParser(
        parsePositiveInt('--threads'),
      ),
    )
    .addOption(options.batchSize())
    .addOption(options.backend())
    .addOption(options.overwrite())
    .addOption(
      new Option(
        '--no-activation-residuals',
        `do not compute the activation-residual RDMs (the residual method's activation variant; computed by default for 2+ layers and at most ${ACTIVATION_RESIDUALS_MAX_IMAGES} images)`,
      ),
    )
    .addHelpText(
      'after',
      `
Examples:
  orthostim rdms ../shared/data/photos/natural16 --out natural16 --weights ../shared/models/bvlc-googlenet/weights
  orthostim rdms photos --out photos-rdms --layers conv1,inception_4a,mixed5b --distance euclidean --size 160
  orthostim rdms photos --out photos-resnet --model resnet50.onnx --normalize imagenet --layers <tensor names>
  orthostim rdms faces/ houses/ --out categories --ids stem   # ids face1, house3, ...: the names the events use

Layers default to GoogLeNet's main stages: ${DEFAULT_RDM_LAYERS.join(', ')}. Other networks take tensor
names of their graph (or a model card's aliases; see docs/models.md and \`orthostim model layers\`).
Images: EXIF orientation applied, alpha composited onto white, greyscale -> RGB, centre crop to a
square, bicubic resize to --size. The network input is the 8-bit values / 255, and images/ holds
exactly those pixels, so a session shows what the network saw.`,
    )
    .action(async (imageDirs: string[], flags: RdmsFlags) => {
      const out = requireOption(flags.out, '--out', 'the folder to write the stimulus set into');
      const result = await writeImageSetRdms({
        imageDirs,
        ids: flags.ids,
        outDir: out,
        layers: flags.layers,
        distance: flags.distance,
        size: flags.size,
        weights: flags.weights,
        model: flags.model,
        normalize: flags.normalize,
        engine: flags.engine,
        threads: flags.threads,
        batchSize: flags.batchSize,
        backend: flags.backend,
        overwrite: flags.overwrite,
        activationResiduals: flags.activationResiduals,
        command: currentCommandLine(),
      });
      process.stdout.write(`${formatRdmsSummary(result)}\n`);
    });
}
