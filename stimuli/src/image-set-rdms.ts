/**
 * `orthostim rdms` as a library function: a folder of photos in, a stimulus set out (the images
 * as the network saw them, their layer RDMs, figures). The order of work puts every cheap check
 * (weights found, layer names, output folder, every image decodable) before the backend starts,
 * and everything is written into a staging folder that becomes `outDir` only when complete.
 */
import { join, resolve } from 'node:path';
import { UsageError, type ActivationDistance, type StimulusSet } from '@orthostim/protocol';
import { createProgress, type Progress } from '@orthostim/protocol/cli';
import { buildOutputDir, writeFileAtomic } from '@orthostim/protocol/node';
import { meanAbsOffDiagonal } from '@orthostim/rdm';
import { resolveLayers } from './activation-network';
import { initBackend } from './backend';
import { computeActivationResiduals } from './activation-residuals';
import { computeLayerRdms, DEFAULT_BATCH_SIZE } from './features';
import { listImageFolders, readImageFolder } from './images';
import { imageIdsFor, type ImageIdRule } from './image-ids';
import {
  type Engine,
  loadNetwork,
  type NetworkSource,
  resolveNetworkSource,
  sourceVocabulary,
} from './models/network-source';
import type { NormalizationName } from './models/preprocess';
import { renderLayerSimilarityPng, renderRdmsPng } from './rdm-figures';
import { writeStimulusSet } from './stimulus-set-writer';

export interface ImageSetRdmsOptions {
  /** Folders of photos; the set holds each folder's images in file-name order, folder after folder. */
  imageDirs: readonly string[];
  /** How images are named (default numbered: stim-01, ...; stem: the file name without extension). */
  ids?: ImageIdRule;
  outDir: string;
  /** Layer names or aliases; default: the network's default list (GoogLeNet's 11 main stages). */
  layers?: readonly string[];
  distance: ActivationDistance;
  /** Side in pixels of the square images the network sees. */
  size: number;
  /** `--weights` (GoogLeNet only); default `$ORTHOSTIM_WEIGHTS`, then the cache. */
  weights?: string;
  /** `--model`: googlenet (default), a fetched zoo network, an .onnx file or a TF.js model folder. */
  model?: string;
  /** `--normalize`: the input convention of a network other than GoogLeNet. */
  normalize?: NormalizationName;
  /** Forward engine (default onnxruntime: all cores) and its threads. */
  engine?: Engine;
  threads?: number;
  batchSize?: number;
  backend?: string;
  overwrite?: boolean;
  /** The command line, for provenance. */
  command: string;
  /** See features.ts (default 4 GiB). */
  memoryBudgetBytes?: number;
  /** Show progress bars (default true; they also respect ORTHOSTIM_PROGRESS=0). */
  progress?: boolean;
  /**
   * Compute and store the activation-residual RDMs (default true; only with 2+ layers and up to
   * ACTIVATION_RESIDUALS_MAX_IMAGES images: the n x n kernels cost O(n^3) per layer and penalty).
   */
  activationResiduals?: boolean;
}

/** Above this many images `rdms` does not compute activation-residual RDMs (O(n^3) per layer and penalty). */
export const ACTIVATION_RESIDUALS_MAX_IMAGES = 500;

export interface ImageSetRdmsResult {
  set: StimulusSet;
  outDir: string;
  files: { stimulusSet: string; images: string; rdmsPng: string; layerSimilarityPng: string };
  /** Mean |Pearson r| over all pairs of layers' RDMs (NaN with one layer). */
  meanAbsPearson: number;
  /** Mean |Pearson r| over consecutive layers in the order given (NaN with one layer). */
  meanAbsPearsonAdjacent: number;
  /** Memory panels the activations needed (1: one forward pass over the images; see features.ts). */
  panels: number;
}

export const RDMS_FILES = {
  stimulusSet: 'stimulus-set.json',
  images: 'images',
  rdmsPng: 'rdms.png',
  layerSimilarityPng: 'layer-similarity.png',
} as const;

function meanAbsAdjacent(m: readonly (readonly (number | null)[])[]): number {
  if (m.length < 2) return Number.NaN;
  let sum = 0;
  for (let i = 0; i + 1 < m.length; i++) sum += Math.abs(m[i]![i + 1] ?? Number.NaN);
  return sum / (m.length - 1);
}

function lazyProgress(label: string, enabled: boolean): { update(done: number, total: number): void; stop(): void } {
  let bar: Progress | null = null;
  return {
    update(done, total) {
      if (!enabled) return;
      bar ??= createProgress(label, total);
      bar.update(done);
    },
    stop: () => bar?.stop(),
  };
}

export async function writeImageSetRdms(options: ImageSetRdmsOptions): Promise<ImageSetRdmsResult> {
  const outDir = resolve(options.outDir);
  if (options.imageDirs.some((d) => resolve(d) === outDir))
    throw new UsageError(`--out ${options.outDir}: is an image folder itself; choose a separate output folder`);
  const ids = imageIdsFor(listImageFolders(options.imageDirs), options.ids ?? 'numbered');
  const showProgress = options.progress ?? true;

  const source = resolveNetworkSource(options);
  const vocabulary = sourceVocabulary(source);
  const earlyLayers = vocabulary ? resolveLayers(vocabulary, options.layers) : null;

  return buildOutputDir(
    outDir,
    async (staging) => {
      const decoding = lazyProgress('images     ', showProgress);
      const folder = await readImageFolder(options.imageDirs, options.size, {
        minImages: 2,
        onProgress: (done, total) => decoding.update(done, total),
      });
      decoding.stop();

      const backend = await initBackend(options.backend);
      const network = await loadNetwork(source, { engine: options.engine ?? 'onnxruntime', threads: options.threads });
      try {
        const layers = earlyLayers ?? resolveLayers(network, options.layers);
        const activations = lazyProgress('activations', showProgress);
        const withResiduals =
          (options.activationResiduals ?? true) &&
          layers.length >= 2 &&
          folder.images.length >= 4 &&
          folder.images.length <= ACTIVATION_RESIDUALS_MAX_IMAGES;
        const result = await computeLayerRdms(network, folder.images, options.size, {
          layers,
          distance: options.distance,
          keepGrams: withResiduals,
          batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
          memoryBudgetBytes: options.memoryBudgetBytes,
          onProgress: (done, total) => activations.update(done, total),
        });
        activations.stop();

        const written = await writeStimulusSet(staging, {
          images: folder.images,
          size: options.size,
          sources: folder.names,
          ids,
          model: {
            name: network.name,
            weightsSha256: network.weightsSha256,
            format: network.format,
            ...('normalize' in network ? { normalize: network.normalize as NormalizationName } : {}),
          },
          layers,
          distance: options.distance,
          rdms: result.rdms,
          ...(result.grams
            ? { activationResiduals: computeActivationResiduals(result.grams, folder.images.length, options.distance) }
            : {}),
          provenance: { backend: backend.name, command: options.command },
        });
        const { set } = written;
        writeFileAtomic(join(staging, RDMS_FILES.rdmsPng), await renderRdmsPng(set, written.rdms));
        writeFileAtomic(join(staging, RDMS_FILES.layerSimilarityPng), await renderLayerSimilarityPng(set));
        const pearson = set.layerSimilarity.pearson.map((row) => row.map((v) => v ?? Number.NaN));
        return {
          set,
          outDir,
          files: {
            stimulusSet: join(outDir, RDMS_FILES.stimulusSet),
            images: join(outDir, RDMS_FILES.images),
            rdmsPng: join(outDir, RDMS_FILES.rdmsPng),
            layerSimilarityPng: join(outDir, RDMS_FILES.layerSimilarityPng),
          },
          meanAbsPearson: meanAbsOffDiagonal(pearson),
          meanAbsPearsonAdjacent: meanAbsAdjacent(pearson),
          panels: result.panels,
        };
      } finally {
        network.dispose();
      }
    },
    { overwrite: options.overwrite, inputs: [...options.imageDirs, networkInput(source)] },
  );
}

/** The file or folder a network was read from (an input `--overwrite` must never delete). */
function networkInput(source: NetworkSource): string {
  return source.kind === 'onnx-graph' ? source.path : source.weights.path;
}
