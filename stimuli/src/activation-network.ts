/**
 * The network a command computes activations with, whatever the weights are: BVLC GoogLeNet from
 * raw/ONNX/cache weights, or a user's TF.js LayersModel/GraphModel. One object carries what
 * features.ts needs (`forward`), what a stimulus set records (name, weights digest, format) and the
 * layer vocabulary (canonical names, defaults), so commands need no per-network branches.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { UsageError } from '@orthostim/protocol';
import { sha256Hex } from '@orthostim/protocol/node';
import type { ActivationModel } from './features';
import { GoogLeNet } from './models/googlenet';
import { DEFAULT_RDM_LAYERS, resolveLayerName } from './models/googlenet-layers';
import { GOOGLENET_LOADERS, type ResolvedWeights } from './models/resolve-weights';
import { loadTfjsModel } from './models/tfjs-model';

/** The layer names a network accepts: enough to check `--layers` before loading anything. */
export interface LayerVocabulary {
  /** Layers used when none are given (empty: the user must name them). */
  defaultLayers: readonly string[];
  /** The canonical name of a layer (throws a UsageError listing valid names). */
  resolveLayer(name: string): string;
}

export interface ActivationNetwork extends ActivationModel, LayerVocabulary {
  /** `bvlc-googlenet`, or the folder name of a TF.js model. */
  name: string;
  weightsSha256: string;
  /** How the weights were loaded: raw, onnx, cache, tfjs-layers, tfjs-graph. */
  format: string;
  dispose(): void;
}

export const GOOGLENET_MODEL_NAME = 'bvlc-googlenet';

export const GOOGLENET_VOCABULARY: LayerVocabulary = {
  defaultLayers: DEFAULT_RDM_LAYERS,
  resolveLayer: resolveLayerName,
};

/**
 * SHA-256 of a TF.js model: over the bytes of model.json, then of every weight shard in manifest
 * order. (GoogLeNet's digest hashes the numbers instead, so its containers agree; a TF.js model
 * has one container.)
 */
export function tfjsModelSha256(modelJson: string): string {
  const text = readFileSync(modelJson);
  const manifest =
    (JSON.parse(text.toString('utf8')) as { weightsManifest?: { paths: string[] }[] }).weightsManifest ?? [];
  const parts: Uint8Array[] = [text];
  for (const group of manifest) for (const p of group.paths) parts.push(readFileSync(join(dirname(modelJson), p)));
  return sha256Hex(Buffer.concat(parts));
}

/**
 * Build the network of weights found by `resolveWeights` (`--weights`, `$ORTHOSTIM_WEIGHTS`, the
 * cache) on the active backend. Call `initBackend` first.
 */
export async function loadActivationNetwork(found: ResolvedWeights): Promise<ActivationNetwork> {
  if (found.kind === 'tfjs') {
    const net = await loadTfjsModel(found.path);
    const valid = new Set(net.layerNames);
    return {
      name: basename(dirname(net.path)),
      weightsSha256: tfjsModelSha256(net.path),
      format: net.format === 'layers-model' ? 'tfjs-layers' : 'tfjs-graph',
      defaultLayers: [],
      resolveLayer(name) {
        if (valid.has(name)) return name;
        const shown = net.layerNames.slice(0, 30).join(', ');
        const more = net.layerNames.length > 30 ? `, ... (${net.layerNames.length} in all)` : '';
        throw new UsageError(`unknown layer ${JSON.stringify(name)} for ${net.path}; valid names: ${shown}${more}`);
      },
      // User networks get the same input as GoogLeNet's public convention: NHWC RGB in [0, 1].
      forward(x: tf.Tensor4D, layers: readonly string[]) {
        const acts = net.activations(x, layers);
        return Object.fromEntries(layers.map((l, i) => [l, acts[i]!]));
      },
      dispose: () => net.dispose(),
    };
  }
  const weights = GOOGLENET_LOADERS[found.kind](found.path);
  const net = GoogLeNet.fromWeights(weights);
  return {
    name: GOOGLENET_MODEL_NAME,
    weightsSha256: weights.sha256,
    format: weights.format,
    ...GOOGLENET_VOCABULARY,
    forward: (x, layers) => net.forward(x, layers),
    dispose: () => net.dispose(),
  };
}

/** The canonical layer list: `names` (each layer at most once) or the network's defaults. */
export function resolveLayers(network: LayerVocabulary, names: readonly string[] | undefined): string[] {
  if (!names || names.length === 0) {
    if (network.defaultLayers.length === 0)
      throw new UsageError('--layers is required for this network (it has no default layer list)');
    return [...network.defaultLayers];
  }
  const layers = names.map((n) => network.resolveLayer(n));
  const seen = new Map<string, string>();
  names.forEach((given, i) => {
    const canonical = layers[i]!;
    const before = seen.get(canonical);
    if (before !== undefined)
      throw new UsageError(
        `--layers: ${JSON.stringify(given)} and ${JSON.stringify(before)} are the same layer (${canonical}); list each layer once`,
      );
    seen.set(canonical, given);
  });
  return layers;
}
