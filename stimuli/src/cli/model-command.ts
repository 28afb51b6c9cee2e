/**
 * `orthostim model list|info|verify|fetch`: where the network weights are, what they hold, whether
 * they are intact and compute, and getting them. Thin layer over models/ (resolve-weights, fetch,
 * weights-cache, tfjs-model, googlenet).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InputError, OrthostimError } from '@orthostim/protocol';
import { Command, options } from '@orthostim/protocol/cli';
import { sha256File } from '@orthostim/protocol/node';
import { formatBackend, initBackend } from '../backend';
import { downloadsDir, modelCacheDir } from '../models/cache-location';
import {
  fetchModel,
  MODEL_NAMES,
  MODEL_SOURCES,
  type ModelSource,
  parseModelName,
  resolveModelSource,
} from '../models/fetch';
import { buildModelLayersCommand } from './model-layers-command';
import { GoogLeNet, googlenetStageShapes } from '../models/googlenet';
import { GOOGLENET_LAYERS, type LayerInfo } from '../models/googlenet-layers';
import { GOOGLENET_CONVS, GOOGLENET_INPUT_SIZE, INCEPTION_SPECS } from '../models/googlenet-spec';
import { GOOGLENET_LOADERS, HOW_TO_GET_WEIGHTS, resolveWeights, type ResolvedWeights } from '../models/resolve-weights';
import { loadTfjsModel } from '../models/tfjs-model';
import type { GoogLeNetWeights } from '../models/weights';
import { checkWeightsCache, readWeightsCacheManifest } from '../models/weights-cache';
import { computeWeightsSha256 } from '../models/weights-digest';

const ORIGIN: Record<ResolvedWeights['origin'], string> = {
  flag: '--weights',
  env: '$ORTHOSTIM_WEIGHTS',
  cache: 'the cache',
  checkpoint: "a synthesis checkpoint's record",
};
const out = (line = '') => process.stdout.write(`${line}\n`);

function loadGoogLeNet(found: ResolvedWeights): GoogLeNetWeights {
  if (found.kind === 'tfjs') throw new Error('loadGoogLeNet: a TF.js model is not GoogLeNet');
  return GOOGLENET_LOADERS[found.kind](found.path);
}

/** Output shape [h, w, c] of a GoogLeNet layer for an h x w input (branches included). */
function layerShape(info: LayerInfo, h: number, w: number): number[] {
  const stages = googlenetStageShapes(h, w) as Record<string, number[]>;
  const stage = stages[info.name];
  if (stage) return stage;
  const [block, branch] = info.name.split('/') as [string, string];
  const [bh, bw] = stages[block]!;
  const channels =
    branch === 'pool'
      ? INCEPTION_SPECS.find((b) => b.name === block)!.inChannels
      : GOOGLENET_CONVS.find((c) => c.name === info.name)!.outChannels;
  return [bh!, bw!, channels];
}

function parameterCount(w: GoogLeNetWeights): number {
  let n = w.classifier.kernel.length + w.classifier.bias.length;
  for (const c of w.convs.values()) n += c.filter.length + c.bias.length;
  return n;
}

async function listCommand(): Promise<void> {
  for (const name of MODEL_NAMES) {
    const source: ModelSource = MODEL_SOURCES[name];
    if (source.network === 'onnx-graph') {
      const file = join(downloadsDir(), source.fileName);
      out(`${name}: ${source.description}`);
      out(`  file:    ${file} (${existsSync(file) ? 'present' : `absent; orthostim model fetch ${name}`})`);
      out(`  source:  ${source.url}`);
      continue;
    }
    const cacheDir = modelCacheDir(name);
    const cached = existsSync(join(cacheDir, 'manifest.json'));
    out(`${name}: ${source.description}`);
    let where: string;
    try {
      const found = resolveWeights(undefined);
      where = `${found.path} (${found.kind}, from ${ORIGIN[found.origin]})`;
    } catch (err) {
      if (!(err instanceof OrthostimError)) throw err;
      where = `none; ${HOW_TO_GET_WEIGHTS}`;
    }
    out(`  weights: ${where}`);
    out(`  cache:   ${cacheDir} (${cached ? 'converted' : 'empty'})`);
    out(`  source:  ${source.url}`);
  }
}

async function infoCommand(opts: { weights?: string }): Promise<void> {
  const found = resolveWeights(opts.weights);
  if (found.kind === 'tfjs') {
    const net = await loadTfjsModel(found.path);
    out(`model:   TF.js ${net.format}`);
    out(`path:    ${net.path} (from ${ORIGIN[found.origin]})`);
    out(`sha256:  ${sha256File(net.path)} (model.json)`);
    out(`input:   [${net.inputShape.map((d) => d ?? '?').join(', ')}]`);
    out(`layers (${net.layerNames.length}):`);
    for (const name of net.layerNames) out(`  ${name}`);
    net.dispose();
    return;
  }
  const w = loadGoogLeNet(found);
  out(`model:   googlenet (BVLC GoogLeNet / Inception-V1)`);
  out(`format:  ${w.format}`);
  out(`path:    ${w.source} (from ${ORIGIN[found.origin]})`);
  out(`sha256:  ${w.sha256} (weights digest, recorded in stimulus sets)`);
  if (found.kind === 'cache') {
    const m = readWeightsCacheManifest(found.path);
    out(
      `source:  ${m.source.name} (${m.source.format}${m.source.sha256 ? `, sha256 ${m.source.sha256}` : ''}), converted ${m.createdAt}`,
    );
  } else if (found.kind === 'onnx') {
    out(`file:    sha256 ${sha256File(found.path)}`);
  }
  out(`params:  ${parameterCount(w).toLocaleString('en-US')}`);
  const size = GOOGLENET_INPUT_SIZE;
  out(`layers (output [h, w, c] at ${size}x${size}; activations after ReLU / concatenation):`);
  const rows = GOOGLENET_LAYERS.map(
    (l) => [l.name, layerShape(l, size, size).join('x'), l.aliases.join(', ')] as const,
  );
  const width = Math.max(...rows.map((r) => r[0].length));
  const shapeWidth = Math.max(...rows.map((r) => r[1].length));
  for (const [name, shape, aliases] of rows) out(`  ${name.padEnd(width)}  ${shape.padEnd(shapeWidth)}  ${aliases}`);
}

/** The fixed verification input: the golden "gradient" image (R = x/(s-1), G = y/(s-1), B = (1 - x/(s-1))/2). */
function gradientInput(size: number): tf.Tensor4D {
  const data = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 3;
      data[i] = x / (size - 1);
      data[i + 1] = y / (size - 1);
      data[i + 2] = 0.5 * (1 - x / (size - 1));
    }
  }
  return tf.tensor4d(data, [1, size, size, 3]);
}

const allFinite = (a: ArrayLike<number>) => {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
};

/** Checksums of whatever holds the weights; throws an InputError on the first mismatch. */
function verifyChecksums(found: ResolvedWeights): void {
  if (found.kind === 'cache') {
    const check = checkWeightsCache(found.path);
    const src = check.manifest.source;
    if (check.sourceOk === null)
      out(`source file: ${src.path} ${src.sha256 ? 'no longer there (not checked)' : 'is a folder (not checked)'}`);
    else if (!check.sourceOk)
      throw new InputError(
        `${src.path}: SHA-256 ${check.sourceSha256} does not match ${src.sha256} recorded in ${join(found.path, 'manifest.json')}; the file changed since conversion`,
      );
    else out(`source file: ${src.path}: SHA-256 ${src.sha256} as recorded`);
    if (!check.weightsOk) {
      throw new InputError(
        `${join(found.path, 'weights.bin')}: weights digest ${check.weightsSha256} does not match ${check.manifest.weightsSha256} recorded in manifest.json; the cache is corrupt (rerun \`orthostim model fetch googlenet --force\`)`,
      );
    }
    out(`weights digest: ${check.weightsSha256} recomputed from weights.bin, as recorded`);
  } else if (found.kind === 'onnx') {
    const sha = sha256File(found.path);
    const published = MODEL_SOURCES.googlenet;
    out(
      `file: ${found.path}: SHA-256 ${sha}${sha === published.sha256 ? ` (the published ${published.fileName})` : ` (not the published ${published.fileName}; read by graph structure)`}`,
    );
  } else if (found.kind === 'raw') {
    const sums = [join(found.path, 'SHA256SUMS'), join(dirname(found.path), 'SHA256SUMS')].find((p) => existsSync(p));
    out(sums ? `files: checked against ${sums}` : `files: no SHA256SUMS beside ${found.path} (sizes checked only)`);
  }
}

async function verifyCommand(opts: { weights?: string; backend?: string }): Promise<void> {
  const found = resolveWeights(opts.weights);
  out(`weights: ${found.path} (${found.kind}, from ${ORIGIN[found.origin]})`);
  if (found.kind === 'tfjs') {
    const net = await loadTfjsModel(found.path);
    const backend = await initBackend(opts.backend);
    const shape = net.inputShape.map((d, i) => d ?? (i === 0 ? 1 : GOOGLENET_INPUT_SIZE));
    const acts = tf.tidy(() => net.activations(tf.fill(shape, 0.5), [net.layerNames[net.layerNames.length - 1]!]));
    const last = acts[0]!;
    if (!allFinite(last.dataSync())) throw new InputError(`${found.path}: the forward pass gives non-finite values`);
    out(`forward pass (${formatBackend(backend)}): ${net.layerNames.at(-1)} [${last.shape.join(', ')}], all finite`);
    tf.dispose(acts);
    net.dispose();
    out('verify: OK');
    return;
  }
  verifyChecksums(found);
  const w = loadGoogLeNet(found);
  if (found.kind !== 'cache') out(`weights digest: ${computeWeightsSha256(w.convs, w.classifier)}`);

  const backend = await initBackend(opts.backend);
  const net = GoogLeNet.fromWeights(w);
  const size = GOOGLENET_INPUT_SIZE;
  const input = gradientInput(size);
  const layers = ['conv1', 'inception_3a', 'inception_4c', 'inception_5b', 'logits', 'prob'];
  const acts = net.forward(input, layers);
  const expectedShapes = googlenetStageShapes(size, size) as Record<string, number[]>;
  for (const name of layers) {
    const t = acts[name]!;
    const want = [1, ...expectedShapes[name]!];
    if (t.shape.join('x') !== want.join('x'))
      throw new Error(`verify: ${name} has shape [${t.shape.join(', ')}]; expected [${want.join(', ')}]`);
    if (!allFinite(t.dataSync()))
      throw new InputError(`${w.source}: the forward pass gives non-finite values at ${name}; the weights are corrupt`);
  }
  const prob = acts.prob!.dataSync();
  let sum = 0;
  let top = 0;
  for (let i = 0; i < prob.length; i++) {
    sum += prob[i]!;
    if (prob[i]! > prob[top]!) top = i;
  }
  if (Math.abs(sum - 1) > 1e-3) throw new InputError(`${w.source}: class probabilities sum to ${sum}; expected 1`);
  out(
    `forward pass (${formatBackend(backend)}): 224x224 gradient image -> logits [1, 1000], all finite; top-1 class ${top} (p = ${prob[top]!.toFixed(3)})`,
  );
  tf.dispose([input, ...Object.values(acts)]);
  net.dispose();
  out('verify: OK');
}

async function fetchCommand(model: string, opts: { url?: string; sha256?: string; force?: boolean }): Promise<void> {
  const name = parseModelName(model);
  const source = resolveModelSource(name, opts);
  const result = await fetchModel(name, opts);
  if (source.network === 'onnx-graph') {
    out(
      result.downloaded
        ? `${name}: downloaded ${source.url} (SHA-256 ${source.sha256} checked) to ${result.onnxPath}`
        : `${name}: already in the cache at ${result.onnxPath} (SHA-256 checked); pass --force to download again`,
    );
    out(
      `use it with --model ${name} (input convention: ${source.normalize}); list its layers with \`orthostim model layers --model ${name}\``,
    );
    return;
  }
  if (!result.converted) {
    out(`${name}: already in the cache at ${result.cacheDir}; pass --force to download and convert again`);
    return;
  }
  out(
    `${name}: ${result.downloaded ? `downloaded ${source.url}` : `reused ${result.onnxPath}`} (SHA-256 ${source.sha256} checked)`,
  );
  out(`kept ${result.onnxPath}`);
  out(`converted to ${result.cacheDir} (weights digest ${result.manifest!.weightsSha256})`);
}

export function buildModelCommand(): Command {
  const model = new Command('model').description('list, inspect, verify and fetch network weights').addHelpText(
    'after',
    `
Weights are looked for in this order: --weights, $ORTHOSTIM_WEIGHTS, the cache
($ORTHOSTIM_CACHE, else $XDG_CACHE_HOME/orthostim, else ~/.cache/orthostim).

Examples:
  orthostim model fetch googlenet
  orthostim model list
  orthostim model info --weights ../shared/models/bvlc-googlenet/weights
  orthostim model verify`,
  );

  model
    .command('list')
    .description('known models, where their weights are found, and whether the cache holds them')
    .addHelpText('after', '\nExample:\n  orthostim model list')
    .action(listCommand);

  model
    .command('info')
    .description('format, path, SHA-256 digest, and layers with output shapes at 224x224')
    .addOption(options.weights())
    .addHelpText(
      'after',
      '\nExamples:\n  orthostim model info\n  orthostim model info --weights googlenet-7.onnx\n  orthostim model info --weights my-net/model.json   (a TF.js model: lists its layers)',
    )
    .action(infoCommand);

  model
    .command('verify')
    .description('check the checksums and run a forward pass on a fixed input (finite outputs, expected shapes)')
    .addOption(options.weights())
    .addOption(options.backend())
    .addHelpText(
      'after',
      '\nChecks: the source file against its recorded SHA-256, the weights digest recomputed from the cache\n(or SHA256SUMS of a raw folder), then a forward pass of a 224x224 gradient image.\n\nExamples:\n  orthostim model verify\n  orthostim model verify --weights ../shared/models/bvlc-googlenet/weights --backend cpu',
    )
    .action(verifyCommand);

  model.addCommand(buildModelLayersCommand());

  model
    .command('fetch')
    .description('download a model over HTTPS, check its SHA-256 and keep it in the cache (GoogLeNet: converted)')
    .argument('<model>', `model to fetch: ${MODEL_NAMES.join(', ')}`)
    .option(
      '--url <url>',
      'download from this URL instead (default: $ORTHOSTIM_GOOGLENET_URL, else the ONNX model zoo on GitHub)',
    )
    .option(
      '--sha256 <hex>',
      'expected SHA-256 of the file (default: $ORTHOSTIM_GOOGLENET_SHA256, else the published checksum)',
    )
    .option('--force', 'download and convert again even if the cache exists')
    .addHelpText(
      'after',
      `
googlenet is ${MODEL_SOURCES.googlenet.fileName} (${MODEL_SOURCES.googlenet.bytes.toLocaleString('en-US')} bytes, SHA-256
${MODEL_SOURCES.googlenet.sha256}) from
${MODEL_SOURCES.googlenet.url}
(Git LFS: GitHub redirects to media.githubusercontent.com). The verified file is kept in
<cache>/downloads/ and converted once into <cache>/googlenet/ (manifest.json + weights.bin).

Examples:
  orthostim model fetch googlenet
  ORTHOSTIM_CACHE=/data/cache orthostim model fetch googlenet --force`,
    )
    .action(fetchCommand);
  return model;
}
