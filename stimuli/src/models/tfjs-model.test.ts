import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { InputError } from '@orthostim/protocol';
import { loadTfjsModel } from './tfjs-model';

let tmp: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = mkdtempSync(join(tmpdir(), 'orthostim-tfjs-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Save a model the way TF.js lays a model folder out (model.json + shards), independently of the
 * loader under test. The weights are cut into two shards mid-tensor, as tfjs's 4 MB sharding does.
 */
async function saveToFolder(model: tf.LayersModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData as ArrayBuffer;
      const bytes = new Uint8Array(data);
      const cut = Math.floor(bytes.length / 2) + 2;
      writeFileSync(join(dir, 'group1-shard1of2.bin'), bytes.subarray(0, cut));
      writeFileSync(join(dir, 'group1-shard2of2.bin'), bytes.subarray(cut));
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: 'layers-model',
        generatedBy: 'test',
        weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: artifacts.weightSpecs }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

describe('loadTfjsModel: LayersModel', () => {
  it("reproduces the saved model's activations at the named layers", async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          name: 'c1',
          inputShape: [7, 9, 3],
          filters: 4,
          kernelSize: 3,
          activation: 'relu',
          kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }),
          biasInitializer: tf.initializers.randomNormal({ seed: 2 }),
        }),
        tf.layers.maxPooling2d({ name: 'pool', poolSize: 2 }),
        tf.layers.flatten({ name: 'flat' }),
        tf.layers.dense({
          name: 'fc',
          units: 5,
          kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }),
          biasInitializer: tf.initializers.randomNormal({ seed: 4 }),
        }),
      ],
    });
    const dir = join(tmp, 'layers');
    await saveToFolder(model, dir);
    const input = tf.randomUniform([2, 7, 9, 3], 0, 1, 'float32', 5);
    const reference = tf.model({
      inputs: model.inputs,
      outputs: [model.getLayer('c1').output as tf.SymbolicTensor, model.getLayer('fc').output as tf.SymbolicTensor],
    });
    const [refC1, refFc] = reference.predict(input) as tf.Tensor[];

    const loaded = await loadTfjsModel(dir);
    expect(loaded.format).toBe('layers-model');
    expect(loaded.layerNames).toEqual(['c1', 'pool', 'flat', 'fc']);
    expect(loaded.inputShape).toEqual([null, 7, 9, 3]);
    const [c1, fc] = loaded.activations(input, ['c1', 'fc']);
    expect(c1!.shape).toEqual([2, 5, 7, 4]);
    expect(fc!.shape).toEqual([2, 5]);
    expect(Array.from(c1!.dataSync())).toEqual(Array.from(refC1!.dataSync()));
    expect(Array.from(fc!.dataSync())).toEqual(Array.from(refFc!.dataSync()));
    // The c1 activations are non-trivial (ReLU leaves some positive values).
    expect(c1!.max().dataSync()[0]).toBeGreaterThan(0);

    expect(() => loaded.activations(input, ['conv1'])).toThrow(
      new InputError(`${join(dir, 'model.json')}: unknown layer "conv1"; available: c1, pool, flat, fc`),
    );
    loaded.dispose();
  });

  it('reports a missing shard and a file that is not a model, in one line', async () => {
    const dir = join(tmp, 'broken');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'model.json'),
      JSON.stringify({
        format: 'layers-model',
        modelTopology: { class_name: 'Sequential', config: {} },
        weightsManifest: [{ paths: ['gone.bin'], weights: [] }],
      }),
    );
    await expect(loadTfjsModel(dir)).rejects.toThrow(
      `${join(dir, 'gone.bin')}: weight shard listed in ${join(dir, 'model.json')} is missing`,
    );
    writeFileSync(join(dir, 'model.json'), '{"hello": 1}');
    await expect(loadTfjsModel(join(dir, 'model.json'))).rejects.toThrow(/model.json: has no modelTopology/);
  });
});

describe('loadTfjsModel: GraphModel', () => {
  it('executes to the named nodes of a hand-written graph (relu(x W + b))', async () => {
    const dir = join(tmp, 'graph');
    mkdirSync(dir, { recursive: true });
    const f32 = { type: 'DT_FLOAT' };
    const dims = (...d: number[]) => ({ dim: d.map((size) => ({ size: String(size) })) });
    const constant = (name: string, shape: number[]) => ({
      name,
      op: 'Const',
      attr: { value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims(...shape) } }, dtype: f32 },
    });
    const modelJson = {
      format: 'graph-model',
      modelTopology: {
        node: [
          { name: 'x', op: 'Placeholder', attr: { dtype: f32, shape: { shape: dims(-1, 3) } } },
          constant('w', [3, 2]),
          constant('b', [2]),
          {
            name: 'mm',
            op: 'MatMul',
            input: ['x', 'w'],
            attr: { T: f32, transpose_a: { b: false }, transpose_b: { b: false } },
          },
          { name: 'plus', op: 'BiasAdd', input: ['mm', 'b'], attr: { T: f32 } },
          { name: 'out', op: 'Relu', input: ['plus'], attr: { T: f32 } },
        ],
        versions: { producer: 1 },
      },
      weightsManifest: [
        {
          paths: ['w.bin'],
          weights: [
            { name: 'w', shape: [3, 2], dtype: 'float32' },
            { name: 'b', shape: [2], dtype: 'float32' },
          ],
        },
      ],
    };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
    // W = [[1, -1], [2, 0], [0, 3]], b = [0.5, -4]
    writeFileSync(join(dir, 'w.bin'), new Uint8Array(new Float32Array([1, -1, 2, 0, 0, 3, 0.5, -4]).buffer));

    const loaded = await loadTfjsModel(join(dir, 'model.json'));
    expect(loaded.format).toBe('graph-model');
    expect(loaded.layerNames).toEqual(['mm', 'plus', 'out']);
    expect(loaded.inputShape).toEqual([null, 3]);
    const x = tf.tensor2d([
      [1, 2, 3],
      [-1, 0, 1],
    ]);
    const [mm, out] = loaded.activations(x, ['mm', 'out']);
    // Row 1: [1+4+0, -1+0+9] = [5, 8]; row 2: [-1+0+0, 1+0+3] = [-1, 4]. Plus b, then ReLU.
    expect(Array.from(mm!.dataSync())).toEqual([5, 8, -1, 4]);
    expect(Array.from(out!.dataSync())).toEqual([5.5, 4, 0, 0]);
    expect(() => loaded.activations(x, ['fc7'])).toThrow(/unknown layer "fc7"; available: mm, plus, out/);
    loaded.dispose();
  });
});
