import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '@orthostim/protocol';
import { GOOGLENET_WEIGHTS, hasShared, requireShared } from '@orthostim/test';
import {
  buildGoogLeNetOnnx,
  encodeOnnx,
  readRawAsOnnxNetwork,
  seededOnnxNetwork,
  writeGoogLeNetOnnx,
  type OnnxNetwork,
} from '../../test/support/build-onnx';
import { GOOGLENET_CLASSIFIER, GOOGLENET_CONVS } from './googlenet-spec';
import type { GoogLeNetWeights } from './weights';
import { readOnnxWeights } from './weights-onnx';
import { readRawWeights } from './weights-raw';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'orthostim-onnx-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function expectSameWeights(a: GoogLeNetWeights, b: GoogLeNetWeights): void {
  for (const spec of GOOGLENET_CONVS) {
    const x = a.convs.get(spec.name)!;
    const y = b.convs.get(spec.name)!;
    expect(x.shape, spec.name).toEqual(y.shape);
    // Exact equality of every float (Buffer.equals compares bytes, fast on 7M values).
    expect(
      Buffer.from(x.filter.buffer, x.filter.byteOffset, x.filter.byteLength).equals(
        Buffer.from(y.filter.buffer, y.filter.byteOffset, y.filter.byteLength),
      ),
      `${spec.name} filter`,
    ).toBe(true);
    expect(Array.from(x.bias), `${spec.name} bias`).toEqual(Array.from(y.bias));
  }
  expect(a.classifier.shape).toEqual(b.classifier.shape);
  expect(Buffer.from(a.classifier.kernel.buffer).equals(Buffer.from(b.classifier.kernel.buffer))).toBe(true);
  expect(Array.from(a.classifier.bias)).toEqual(Array.from(b.classifier.bias));
}

describe.skipIf(!hasShared(GOOGLENET_WEIGHTS))(
  'readOnnxWeights on an ONNX file built from the BVLC raw weights',
  () => {
    it("gives exactly the raw reader's weights and digest, with shuffled names and both encodings", () => {
      const dir = requireShared(GOOGLENET_WEIGHTS);
      const file = writeGoogLeNetOnnx(join(tmp, 'bvlc.onnx'), readRawAsOnnxNetwork(dir), {
        encoding: 'mixed',
        seed: 7,
      });
      const fromOnnx = readOnnxWeights(file);
      const fromRaw = readRawWeights(dir);
      expectSameWeights(fromOnnx, fromRaw);
      expect(fromOnnx.sha256).toBe(fromRaw.sha256);
      expect(fromOnnx.format).toBe('onnx');
      expect(fromOnnx.source).toBe(file);
    });
  },
);

describe('readOnnxWeights layouts', () => {
  let net: OnnxNetwork;
  beforeAll(() => {
    net = seededOnnxNetwork(3);
  });

  /** Element [o, i, y, x] of an OIHW filter must land at [y, x, i, o] of the HWIO filter. */
  function expectHwioOf(w: GoogLeNetWeights, name: string): void {
    const spec = GOOGLENET_CONVS.find((c) => c.name === name)!;
    const { outChannels: O, inChannels: I, kernel: K } = spec;
    const src = net.convs.get(name)!.filter;
    const dst = w.convs.get(name)!.filter;
    for (const [o, i, y, x] of [
      [0, 0, 0, 0],
      [O - 1, I - 1, K - 1, K - 1],
      [1, Math.min(2, I - 1), K - 1, 0],
      [O - 2, 0, 0, K - 1],
    ] as const) {
      expect(dst[((y * K + x) * I + i) * O + o], `${name}[${o},${i},${y},${x}]`).toBe(
        src[((o * I + i) * K + y) * K + x],
      );
    }
  }

  it('reads float_data, converts OIHW to HWIO and transposes a transB=1 classifier', () => {
    const w = readOnnxWeights(writeGoogLeNetOnnx(join(tmp, 'float.onnx'), net, { encoding: 'float', seed: 11 }));
    for (const name of ['conv1/7x7_s2', 'conv2/3x3', 'inception_4c/5x5', 'inception_5b/pool_proj'])
      expectHwioOf(w, name);
    const { inFeatures: I, outFeatures: O } = GOOGLENET_CLASSIFIER;
    // kernel is [in, out]; the file holds (out, in).
    expect(w.classifier.kernel[5 * O + 7]).toBe(net.classifier.weight[7 * I + 5]);
    expect(w.classifier.kernel[(I - 1) * O + (O - 1)]).toBe(net.classifier.weight[(O - 1) * I + (I - 1)]);
    expect(Array.from(w.classifier.bias)).toEqual(Array.from(net.classifier.bias));
  });

  it('gives the same weights whatever the encoding, shuffle or classifier form', () => {
    const a = readOnnxWeights(writeGoogLeNetOnnx(join(tmp, 'raw.onnx'), net, { encoding: 'raw', seed: 2 }));
    const b = readOnnxWeights(
      writeGoogLeNetOnnx(join(tmp, 'gemm.onnx'), net, { encoding: 'mixed', seed: 5, classifier: 'gemm' }),
    );
    const c = readOnnxWeights(
      writeGoogLeNetOnnx(join(tmp, 'matmul.onnx'), net, { encoding: 'raw', seed: 9, classifier: 'matmul-add' }),
    );
    expectSameWeights(a, b);
    expectSameWeights(a, c);
    expect(new Set([a.sha256, b.sha256, c.sha256]).size).toBe(1);
  });
});

describe('readOnnxWeights rejects what is not BVLC GoogLeNet, in one line naming the file', () => {
  let net: OnnxNetwork;
  beforeAll(() => {
    net = seededOnnxNetwork(4);
  });

  function write(name: string, edit: (built: ReturnType<typeof buildGoogLeNetOnnx>) => void): string {
    const built = buildGoogLeNetOnnx(net, { encoding: 'raw' });
    edit(built);
    const file = join(tmp, name);
    writeFileSync(file, encodeOnnx(built.model));
    return file;
  }

  function errorOf(file: string): InputError {
    try {
      readOnnxWeights(file);
    } catch (err) {
      expect(err).toBeInstanceOf(InputError);
      const e = err as InputError;
      expect(e.message.startsWith(`${file}: `)).toBe(true);
      expect(e.message).not.toContain('\n');
      return e;
    }
    throw new Error(`${file} was accepted`);
  }

  it('a conv with the wrong number of filters', () => {
    const file = write('wrong-shape.onnx', (b) => {
      const t = b.model.graph!.initializer!.find((i) => i.name === b.layers.get('inception_4a/3x3')!.weight)!;
      t.dims = [200, 96, 3, 3];
    });
    expect(errorOf(file).message).toMatch(/inception_4a\/3x3 .*has weights 200x96x3x3; expected 208x96x3x3/);
  });

  it('branches concatenated in another order', () => {
    const file = write('order.onnx', (b) => {
      const c = b.concats.get('inception_4d')!;
      c.input = [c.input![1]!, c.input![0]!, c.input![2]!, c.input![3]!];
    });
    expect(errorOf(file).message).toMatch(
      /inception_4d .*has branches 3x3, 1x1, 5x5, pool_proj; expected 1x1, 3x3, 5x5, pool_proj/,
    );
  });

  it('an op that changes the math (batch normalization)', () => {
    const file = write('bn.onnx', (b) => {
      b.model.graph!.node!.push({ opType: 'BatchNormalization', input: ['t0'], output: ['bn_out'], name: 'bn' });
    });
    expect(errorOf(file).message).toMatch(/BatchNormalization "bn" is not part of BVLC GoogLeNet/);
  });

  it('a conv with another stride', () => {
    const file = write('stride.onnx', (b) => {
      const n = b.layers.get('conv2/3x3')!.node;
      n.attribute = n.attribute!.map((a) => (a.name === 'strides' ? { ...a, ints: [2, 2] } : a));
    });
    expect(errorOf(file).message).toMatch(/conv2\/3x3 .*has strides \[2, 2\]; expected \[1, 1\]/);
  });

  it('a truncated file and a file of another format', () => {
    const whole = encodeOnnx(buildGoogLeNetOnnx(net, { encoding: 'raw' }).model);
    const truncated = join(tmp, 'truncated.onnx');
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length * 0.6)));
    expect(errorOf(truncated).message).toMatch(/not a readable ONNX file|not BVLC GoogLeNet/);
    const json = join(tmp, 'model.onnx');
    writeFileSync(json, JSON.stringify({ modelTopology: {} }));
    expect(errorOf(json).message).toMatch(/not (a readable ONNX file|an ONNX model)/);
    expect(errorOf(join(tmp, 'missing.onnx')).message).toMatch(/ONNX file not found/);
  });
});
