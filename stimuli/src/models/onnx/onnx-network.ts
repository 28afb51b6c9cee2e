/**
 * An ONNX model file as the `ActivationNetwork` every command uses: layers are tensors of the graph
 * (or a card's aliases for them), the input is normalized by the named convention, and the
 * recorded digest is the SHA-256 of the model file.
 */
import { basename } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '@orthostim/protocol';
import { sha256File } from '@orthostim/protocol/node';
import type { ActivationNetwork } from '../../activation-network';
import { NORMALIZATIONS, type NormalizationName } from '../preprocess';
import { type ModelCard, readModelCard } from './model-card';
import { readOnnxModelFile } from './onnx-file';
import { OnnxGraph } from './onnx-graph';

export interface OnnxNetworkOptions {
  /** Input convention (default: the card's, else `imagenet`). */
  normalize?: NormalizationName;
}

export interface OnnxNetwork extends ActivationNetwork {
  graph: OnnxGraph;
  normalize: NormalizationName;
  card: ModelCard;
}

/** Map a layer name (alias or tensor name) to the tensor it means; UsageError listing a few valid ones. */
function layerResolver(graph: OnnxGraph, card: ModelCard, path: string): (name: string) => string {
  const aliases = card.aliases ?? {};
  return (name) => {
    const tensor = aliases[name] ?? name;
    if (graph.hasTensor(tensor)) return tensor;
    const names = graph.tensorNames();
    const shown = [...Object.keys(aliases), ...names].slice(0, 12).join(', ');
    throw new UsageError(
      `unknown layer ${JSON.stringify(name)} for ${path}: not a tensor of the graph${Object.keys(aliases).length ? ' nor an alias of its card' : ''}; e.g. ${shown} (see \`orthostim model layers --model ${path}\`)`,
    );
  };
}

export function loadOnnxNetwork(path: string, options: OnnxNetworkOptions = {}): OnnxNetwork {
  const card = readModelCard(path);
  const graph = new OnnxGraph(readOnnxModelFile(path));
  const normalize = options.normalize ?? card.normalize ?? 'imagenet';
  const prepare = NORMALIZATIONS[normalize];
  const resolveLayer = layerResolver(graph, card, path);
  return {
    name: card.name ?? basename(path).replace(/\.onnx$/i, ''),
    weightsSha256: sha256File(path),
    format: 'onnx-graph',
    defaultLayers: card.layers ?? [],
    resolveLayer,
    graph,
    normalize,
    card,
    forward(x, layers) {
      const input = tf.tidy(() => prepare(x));
      const outputs = graph.run(input, layers);
      input.dispose();
      return Object.fromEntries(layers.map((l, i) => [l, outputs[i]!]));
    },
    dispose: () => graph.dispose(),
  };
}
