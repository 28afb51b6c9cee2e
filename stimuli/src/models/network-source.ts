/**
 * Which network a command runs (`--model`): GoogLeNet (the default, its weights found by
 * `--weights`, `$ORTHOSTIM_WEIGHTS` or the cache), a network of the ONNX model zoo fetched by
 * `orthostim model fetch <name>`, any ONNX file, or a TF.js model folder. Told from the value and the
 * files present; checked before any work starts.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { InputError, UsageError } from '@orthostim/protocol';
import {
  type ActivationNetwork,
  GOOGLENET_MODEL_NAME,
  GOOGLENET_VOCABULARY,
  type LayerVocabulary,
  loadActivationNetwork,
} from '../activation-network';
import { downloadsDir } from './cache-location';
import { MODEL_SOURCES, type ModelSource } from './fetch';
import { googlenetToOnnx } from './googlenet-onnx';
import { resolveLayerName } from './googlenet-layers';
import { loadOnnxNetwork } from './onnx/onnx-network';
import { createOrtForward, type OrtForwardSpec, retargetedModel } from './onnx/ort-forward';
import type { NormalizationName } from './preprocess';
import { classifyWeightsPath, GOOGLENET_LOADERS, resolveWeights, type ResolvedWeights } from './resolve-weights';

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

/** Which engine runs forward passes: TF.js (also gradients), or onnxruntime-node on all cores (forward only). */
export const ENGINES = ['onnxruntime', 'tfjs'] as const;
export type Engine = (typeof ENGINES)[number];

export interface LoadNetworkOptions {
  /** Default tfjs; `onnxruntime` for forward-only work (GoogLeNet and ONNX files; TF.js models stay on TF.js). */
  engine?: Engine;
  /** onnxruntime's operator threads (default: every core). */
  threads?: number;
}

/** Build the network on the active backend (call `initBackend` first). */
export async function loadNetwork(source: NetworkSource, options: LoadNetworkOptions = {}): Promise<ActivationNetwork> {
  const onOrt = options.engine === 'onnxruntime';
  const threads = options.threads ?? availableParallelism();
  if (source.kind === 'onnx-graph') {
    const net = loadOnnxNetwork(source.path, { normalize: source.normalize });
    if (!onOrt || net.graph.model.hasExternalData) return net;
    return onOrtEngine(net, {
      modelFor: retargetedModel(readFileSync(source.path)),
      tensorOf: (l) => l,
      normalize: net.normalize,
      threads,
    });
  }
  if (!onOrt || source.weights.kind === 'tfjs') return loadActivationNetwork(source.weights);
  const weights = GOOGLENET_LOADERS[source.weights.kind](source.weights.path);
  const net: ActivationNetwork = {
    name: GOOGLENET_MODEL_NAME,
    weightsSha256: weights.sha256,
    format: weights.format,
    ...GOOGLENET_VOCABULARY,
    forward: () => {
      throw new Error('loadNetwork: replaced by the onnxruntime forward');
    },
    dispose: () => {},
  };
  return onOrtEngine(net, {
    modelFor: (tensors) => googlenetToOnnx(weights, tensors),
    tensorOf: resolveLayerName,
    normalize: 'caffe',
    threads,
  });
}

async function onOrtEngine<N extends ActivationNetwork>(net: N, spec: OrtForwardSpec): Promise<N> {
  const ort = await createOrtForward(spec);
  return {
    ...net,
    forward: ort.forward,
    dispose: () => {
      net.dispose();
      void ort.dispose();
    },
  };
}
