/** `orthostim model layers --model <file|name>`: the tensors of a network a layer can be, with their shapes. */
import { Command, options } from '@orthostim/protocol/cli';
import { UsageError } from '@orthostim/protocol';
import { initBackend } from '../backend';
import { loadNetwork, resolveNetworkSource } from '../models/network-source';
import type { OnnxNetwork } from '../models/onnx/onnx-network';
import type { NormalizationName } from '../models/preprocess';

interface LayersFlags {
  model?: string;
  size: number;
  all?: boolean;
  backend?: string;
}

/** Ops whose outputs are the usual layers to map (convolutions, their activations, pools, blocks, dense). */
const LAYER_OPS = new Set([
  'Relu',
  'LeakyRelu',
  'Clip',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'Concat',
  'Add',
  'Gemm',
  'Softmax',
  'LRN',
]);

async function layersCommand(flags: LayersFlags): Promise<void> {
  const source = resolveNetworkSource({ model: flags.model });
  if (source.kind !== 'onnx-graph')
    throw new UsageError(
      'model layers: lists the tensors of an ONNX network (--model <file.onnx|zoo name>); for GoogLeNet and TF.js models see `orthostim model info`',
    );
  await initBackend(flags.backend);
  const network = (await loadNetwork(source)) as OnnxNetwork;
  try {
    const aliasOf = new Map(Object.entries(network.card.aliases ?? {}).map(([alias, tensor]) => [tensor, alias]));
    const infos = network.graph
      .describeTensors(flags.size)
      .filter((t) => flags.all || LAYER_OPS.has(t.op) || aliasOf.has(t.name));
    const width = Math.max(6, ...infos.map((t) => t.name.length));
    process.stdout.write(
      `${network.name}: ${infos.length} ${flags.all ? 'tensors' : 'candidate layers'} at ${flags.size} px (input ${network.normalize as NormalizationName})\n`,
    );
    for (const t of infos) {
      const alias = aliasOf.get(t.name);
      process.stdout.write(
        `  ${t.name.padEnd(width)}  ${t.op.padEnd(17)} ${t.shape.slice(1).join('x')}${alias ? `  (alias ${alias})` : ''}\n`,
      );
    }
  } finally {
    network.dispose();
  }
}

export function buildModelLayersCommand(): Command {
  return new Command('layers')
    .description(
      'list the tensors of an ONNX network that --layers can name, with their shapes (channels x height x width)',
    )
    .addOption(options.model().makeOptionMandatory())
    .addOption(options.size())
    .option('--all', 'every tensor of the graph, not only the outputs of activations, pools, blocks and dense layers')
    .addOption(options.backend())
    .addHelpText(
      'after',
      '\nExamples:\n  orthostim model layers --model resnet50\n  orthostim model layers --model my-net.onnx --size 128 --all',
    )
    .action(layersCommand);
}
