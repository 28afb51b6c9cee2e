/**
 * Which network a command runs (`--model`): GoogLeNet (the default, its weights found by
 * `--weights`, `$ORTHOSTIM_WEIGHTS` or the cache), a network of the ONNX model zoo fetched by
 * `orthostim model fetch <name>`, any ONNX file, or a TF.js model folder. Told from the value and the
 * files present; checked before any work starts.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError, UsageError } from '@orthostim/protocol';
import {
  type ActivationNetwork,
  GOOGLENET_VOCABULARY,
  type LayerVocabulary,
  loadActivationNetwork,
} from '../activation-network';
import { downloadsDir } from './cache-location';
import { MODEL_SOURCES, type ModelSource } from './fetch';
import { loadOnnxNetwork } from './onnx/onnx-network';
import type { NormalizationName } from './preprocess';
import { classifyWeightsPath, resolveWeights, type ResolvedWeights } from './resolve-weights';

export const DEFAULT_MODEL = 'googlenet';

export type NetworkSource =
  /** GoogLeNet from raw, ONNX or cached weights, or a TF.js model given as weights. */
  { kind: 'weights'; weights: ResolvedWeights } | { kind: 'onnx-graph'; path: string; normalize?: NormalizationName };

export interface NetworkChoice {
  /** `--model`: a name (googlenet, a zoo network) or a path (.onnx file, TF.js folder); default googlenet. */
  model?: string;
  /** `--weights`, only with GoogLeNet. */
  weights?: string;
  /** `--normalize`, only with a network other than GoogLeNet (whose input convention is fixed). */
  normalize?: NormalizationName;
  env?: Record<string, string | undefined>;
}

function zooSource(name: string, choice: NetworkChoice): NetworkSource {
  const source: ModelSource = MODEL_SOURCES[name as keyof typeof MODEL_SOURCES];
  const path = join(downloadsDir(choice.env ?? process.env), source.fileName);
  if (!existsSync(path))
    throw new InputError(
      `--model ${name}: ${source.fileName} is not in the cache; run \`orthostim model fetch ${name}\``,
    );
  return { kind: 'onnx-graph', path, normalize: choice.normalize ?? source.normalize };
}

function pathSource(value: string, choice: NetworkChoice): NetworkSource {
  const abs = resolve(value);
  if (!existsSync(abs))
    throw new InputError(
      `--model ${value}: not found; expected googlenet, a zoo network (${Object.keys(MODEL_SOURCES).join(', ')}), an .onnx file or a TF.js model folder`,
    );
  const onnxIn = (dir: string) => readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.onnx'));
  if (statSync(abs).isFile() && abs.toLowerCase().endsWith('.onnx'))
    return { kind: 'onnx-graph', path: abs, normalize: choice.normalize };
  if (statSync(abs).isDirectory() && !existsSync(join(abs, 'model.json')) && onnxIn(abs).length === 1)
    return { kind: 'onnx-graph', path: join(abs, onnxIn(abs)[0]!), normalize: choice.normalize };
  if (choice.normalize && choice.normalize !== 'none')
    throw new UsageError(
      `--normalize ${choice.normalize}: TF.js models get RGB in [0, 1]; give --normalize none or leave it out`,
    );
  return { kind: 'weights', weights: classifyWeightsPath(value, 'flag') };
}

/** Resolve `--model`/`--weights`/`--normalize` into one network source (UsageError for combinations that conflict). */
export function resolveNetworkSource(choice: NetworkChoice): NetworkSource {
  const model = choice.model ?? DEFAULT_MODEL;
  if (model === DEFAULT_MODEL) {
    if (choice.normalize)
      throw new UsageError(
        '--normalize: GoogLeNet has a fixed input convention (caffe); it goes with other --model networks',
      );
    return { kind: 'weights', weights: resolveWeights(choice.weights, choice.env) };
  }
  if (choice.weights)
    throw new UsageError(
      `--weights goes with --model googlenet only; --model ${model} names the network and its weights`,
    );
  if (model in MODEL_SOURCES && MODEL_SOURCES[model as keyof typeof MODEL_SOURCES].network === 'onnx-graph')
    return zooSource(model, choice);
  return pathSource(model, choice);
}

/** The layer names of the source when they are known before loading it (GoogLeNet). */
export function sourceVocabulary(source: NetworkSource): LayerVocabulary | null {
  return source.kind === 'weights' && source.weights.kind !== 'tfjs' ? GOOGLENET_VOCABULARY : null;
}

/** Build the network on the active backend (call `initBackend` first). */
export async function loadNetwork(source: NetworkSource): Promise<ActivationNetwork> {
  if (source.kind === 'onnx-graph') return loadOnnxNetwork(source.path, { normalize: source.normalize });
  return loadActivationNetwork(source.weights);
}
