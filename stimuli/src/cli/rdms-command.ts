/** `orthostim rdms`: parse, call writeImageSetRdms, print a summary. */
import { Command, Option, options, requireOption } from '@orthostim/protocol/cli';
import type { ActivationDistance } from '@orthostim/protocol';
import { DEFAULT_RDM_LAYERS } from '../models/googlenet-layers';
import { currentCommandLine } from '../stimulus-set-writer';
import { ACTIVATION_RESIDUALS_MAX_IMAGES, writeImageSetRdms, type ImageSetRdmsResult } from '../image-set-rdms';

interface RdmsFlags {
  out?: string;
  layers?: string[];
  distance: ActivationDistance;
  size: number;
  weights?: string;
  batchSize: number;
  backend?: string;
  overwrite?: boolean;
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
    `wrote ${r.files.stimulusSet}`,
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
      '<image-dir>',
      'folder of PNG/JPEG images (read in file-name order; other files and subfolders are ignored)',
    )
    .addOption(options.out().makeOptionMandatory(false))
    .addOption(options.layers())
    .addOption(options.activationDistance())
    .addOption(options.size())
    .addOption(options.weights())
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

Layers default to GoogLeNet's main stages: ${DEFAULT_RDM_LAYERS.join(', ')}.
Images: EXIF orientation applied, alpha composited onto white, greyscale -> RGB, centre crop to a
square, bicubic resize to --size. The network input is the 8-bit values / 255, and images/ holds
exactly those pixels, so a session shows what the network saw.`,
    )
    .action(async (imageDir: string, flags: RdmsFlags) => {
      const out = requireOption(flags.out, '--out', 'the folder to write the stimulus set into');
      const result = await writeImageSetRdms({
        imageDir,
        outDir: out,
        layers: flags.layers,
        distance: flags.distance,
        size: flags.size,
        weights: flags.weights,
        batchSize: flags.batchSize,
        backend: flags.backend,
        overwrite: flags.overwrite,
        activationResiduals: flags.activationResiduals,
        command: currentCommandLine(),
      });
      process.stdout.write(`${formatRdmsSummary(result)}\n`);
    });
}
