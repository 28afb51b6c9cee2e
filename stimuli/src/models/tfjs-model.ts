/**
 * Bring-your-own network: any TF.js LayersModel or GraphModel folder (`model.json` + weight
 * shards, as written by `model.save()` or tensorflowjs_converter), read from disk and queried by
 * the names of its layers (LayersModel) or graph nodes (GraphModel).
 *
 * TF.js only reads file:// URLs with tfjs-node, which is optional here, so a small IOHandler reads
 * model.json and the shards with fs; everything else is TF.js's own loading.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InputError } from '@orthostim/protocol';

export type TfjsModelFormat = 'layers-model' | 'graph-model';

export interface TfjsNetwork {
  format: TfjsModelFormat;
  /** The model.json file. */
  path: string;
  /** Shape of the (first) input, null for free dimensions. */
  inputShape: Array<number | null>;
  /** Names accepted by `activations`, in model order. */
  layerNames: string[];
  /** Activations of the named layers for `input`, in the order asked. The caller disposes them. */
  activations(input: tf.Tensor, layers: readonly string[]): tf.Tensor[];
  dispose(): void;
}

interface ModelJson {
  modelTopology?: unknown;
  format?: string;
  weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  [key: string]: unknown;
}

function modelJsonPath(path: string): string {
  const abs = resolve(path);
  if (existsSync(abs) && statSync(abs).isDirectory()) return join(abs, 'model.json');
  return abs;
}

function readModelJson(file: string): ModelJson {
  if (!existsSync(file)) throw new InputError(`${file}: TF.js model.json not found`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(`${file}: not valid JSON (${(err as Error).message}); expected a TF.js model.json`);
  }
  const m = json as ModelJson;
  if (typeof json !== 'object' || json === null || typeof m.modelTopology !== 'object' || m.modelTopology === null) {
    throw new InputError(`${file}: has no modelTopology; expected a TF.js model.json (LayersModel or GraphModel)`);
  }
  if (m.weightsManifest !== undefined && !Array.isArray(m.weightsManifest))
    throw new InputError(`${file}: weightsManifest must be a list of weight groups`);
  return m;
}

/** Which of the two TF.js formats a model.json holds: `format` when present, else the topology's shape. */
function formatOf(file: string, json: ModelJson): TfjsModelFormat {
  if (json.format === 'layers-model' || json.format === 'graph-model') return json.format;
  const topo = json.modelTopology as Record<string, unknown>;
  if (Array.isArray(topo.node)) return 'graph-model';
  if ('class_name' in topo || 'model_config' in topo) return 'layers-model';
  throw new InputError(
    `${file}: cannot tell the model format (format is ${JSON.stringify(json.format)}); expected layers-model or graph-model`,
  );
}

/** An IOHandler that loads model.json and its weight shards from the file system. */
export function fileSystemLoadHandler(file: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = readModelJson(file);
      return tf.io.getModelArtifactsForJSON(json as unknown as tf.io.ModelJSON, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const shards: ArrayBuffer[] = [];
        for (const group of manifest) {
          for (const p of group.paths) {
            const shard = join(dirname(file), p);
            if (!existsSync(shard)) throw new InputError(`${shard}: weight shard listed in ${file} is missing`);
            const buf = readFileSync(shard);
            shards.push(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
          }
          specs.push(...group.weights);
        }
        return [specs, shards];
      });
    },
  };
}

function unknownLayer(file: string, name: string, available: readonly string[]): InputError {
  return new InputError(`${file}: unknown layer "${name}"; available: ${available.join(', ')}`);
}

/** Load a TF.js model from a model.json file or the folder holding it. */
export async function loadTfjsModel(path: string): Promise<TfjsNetwork> {
  const file = modelJsonPath(path);
  const json = readModelJson(file);
  const format = formatOf(file, json);
  const wrap = (err: unknown): never => {
    if (err instanceof InputError) throw err;
    throw new InputError(`${file}: cannot load the TF.js ${format} (${(err as Error).message})`);
  };
  return format === 'layers-model' ? loadLayers(file).catch(wrap) : loadGraph(file, json).catch(wrap);
}

async function loadLayers(file: string): Promise<TfjsNetwork> {
  const model = await tf.loadLayersModel(fileSystemLoadHandler(file));
  const layerNames = model.layers.map((l) => l.name);
  const subModels = new Map<string, tf.LayersModel>();
  return {
    format: 'layers-model',
    path: file,
    inputShape: [...(model.inputs[0]?.shape ?? [])],
    layerNames,
    activations(input, layers) {
      const key = layers.join('\n');
      let sub = subModels.get(key);
      if (!sub) {
        const outputs = layers.map((name) => {
          if (!layerNames.includes(name)) throw unknownLayer(file, name, layerNames);
          const out = model.getLayer(name).output;
          if (Array.isArray(out))
            throw new InputError(`${file}: layer "${name}" has ${out.length} outputs; name a layer with one output`);
          return out;
        });
        sub = tf.model({ inputs: model.inputs, outputs });
        subModels.set(key, sub);
      }
      const result = sub.predict(input);
      return Array.isArray(result) ? result : [result];
    },
    dispose() {
      model.dispose();
    },
  };
}

/** Graph node names a user may ask for: every op except constants and inputs. */
function graphNodeNames(json: ModelJson): string[] {
  const nodes = (json.modelTopology as { node?: Array<{ name?: string; op?: string }> }).node ?? [];
  return nodes.filter((n) => n.name && n.op !== 'Const' && n.op !== 'Placeholder').map((n) => n.name!);
}

async function loadGraph(file: string, json: ModelJson): Promise<TfjsNetwork> {
  const model = await tf.loadGraphModel(fileSystemLoadHandler(file));
  const layerNames = graphNodeNames(json);
  const inputs = model.inputs;
  if (inputs.length !== 1)
    throw new InputError(
      `${file}: graph model has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); expected one image input`,
    );
  return {
    format: 'graph-model',
    path: file,
    inputShape: (inputs[0]!.shape ?? []).map((d) => (d < 0 ? null : d)),
    layerNames,
    activations(input, layers) {
      for (const name of layers) if (!layerNames.includes(name)) throw unknownLayer(file, name, layerNames);
      const result = model.execute(input, [...layers]);
      return Array.isArray(result) ? result : [result];
    },
    dispose() {
      model.dispose();
    },
  };
}
