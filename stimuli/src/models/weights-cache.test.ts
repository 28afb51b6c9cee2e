import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '@orthostim/protocol';
import { sha256File } from '@orthostim/protocol/node';
import { GOOGLENET_WEIGHTS, hasShared, requireShared } from '@orthostim/test';
import { seededOnnxNetwork, writeGoogLeNetOnnx } from '../../test/support/build-onnx';
import { GOOGLENET_CONVS } from './googlenet-spec';
import type { GoogLeNetWeights } from './weights';
import { checkWeightsCache, readWeightsCache, writeWeightsCache, WEIGHTS_CACHE_SCHEMA } from './weights-cache';
import { computeWeightsSha256 } from './weights-digest';
import { readOnnxWeights } from './weights-onnx';
import { readRawWeights } from './weights-raw';

let tmp: string;
let onnxFile: string;
let fromOnnx: GoogLeNetWeights;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'orthostim-cache-'));
  onnxFile = writeGoogLeNetOnnx(join(tmp, 'net.onnx'), seededOnnxNetwork(21), { encoding: 'raw' });
  fromOnnx = readOnnxWeights(onnxFile);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function expectEqualWeights(a: GoogLeNetWeights, b: GoogLeNetWeights): void {
  const bytes = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  for (const spec of GOOGLENET_CONVS) {
    const x = a.convs.get(spec.name)!;
    const y = b.convs.get(spec.name)!;
    expect(x.shape).toEqual(y.shape);
    expect(bytes(x.filter).equals(bytes(y.filter)), spec.name).toBe(true);
    expect(bytes(x.bias).equals(bytes(y.bias)), spec.name).toBe(true);
  }
  expect(bytes(a.classifier.kernel).equals(bytes(b.classifier.kernel))).toBe(true);
  expect(bytes(a.classifier.bias).equals(bytes(b.classifier.bias))).toBe(true);
}

describe('weights cache', () => {
  it('round-trips the weights exactly, records source and digest, and the digest recomputes', async () => {
    const dir = join(tmp, 'cache-a');
    const manifest = await writeWeightsCache(fromOnnx, dir);
    expect(readdirSync(dir).sort()).toEqual(['.orthostim-output', 'manifest.json', 'weights.bin']);
    expect(manifest.schema).toBe(WEIGHTS_CACHE_SCHEMA);
    expect(manifest.source).toMatchObject({ name: 'net.onnx', format: 'onnx', sha256: sha256File(onnxFile) });
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))).toEqual(manifest);
    const back = readWeightsCache(dir);
    expectEqualWeights(back, fromOnnx);
    expect(back.format).toBe('cache');
    expect(back.sha256).toBe(fromOnnx.sha256);
    expect(computeWeightsSha256(back.convs, back.classifier)).toBe(fromOnnx.sha256);
    expect(checkWeightsCache(dir)).toMatchObject({ weightsOk: true, sourceOk: true, weightsSha256: fromOnnx.sha256 });
  });

  it('refuses to replace an existing cache unless asked', async () => {
    const dir = join(tmp, 'cache-b');
    await writeWeightsCache(fromOnnx, dir);
    await expect(writeWeightsCache(fromOnnx, dir)).rejects.toThrow(/exists and is not empty; .*--force/);
    await writeWeightsCache(fromOnnx, dir, { overwrite: true, sourceName: 'renamed.onnx' });
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).source.name).toBe('renamed.onnx');
    expect(readdirSync(tmp).filter((n) => n.includes('partial'))).toEqual([]);
  });

  it('check finds a changed weight and a changed source file', async () => {
    const dir = join(tmp, 'cache-c');
    const src = writeGoogLeNetOnnx(join(tmp, 'src-c.onnx'), seededOnnxNetwork(21), { encoding: 'raw' });
    await writeWeightsCache(readOnnxWeights(src), dir);
    const blob = readFileSync(join(dir, 'weights.bin'));
    blob[1_000_003] = blob[1_000_003]! ^ 0x01;
    writeFileSync(join(dir, 'weights.bin'), blob);
    writeFileSync(src, Buffer.concat([readFileSync(src), Buffer.from([0])]));
    const check = checkWeightsCache(dir);
    expect(check.weightsOk).toBe(false);
    expect(check.weightsSha256).not.toBe(check.manifest.weightsSha256);
    expect(check.sourceOk).toBe(false);
  });

  it('rejects a truncated blob, a missing blob and a bad manifest in one line naming the file', async () => {
    const dir = join(tmp, 'cache-d');
    await writeWeightsCache(fromOnnx, dir);
    const blob = join(dir, 'weights.bin');
    const manifestPath = join(dir, 'manifest.json');
    const good = readFileSync(manifestPath, 'utf8');
    const oneLine = (fn: () => unknown, pattern: RegExp) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(InputError);
        expect((err as Error).message).toMatch(pattern);
        expect((err as Error).message).not.toContain('\n');
        return;
      }
      throw new Error('accepted');
    };
    truncateSync(blob, 1000);
    oneLine(() => readWeightsCache(dir), new RegExp(`^${blob}: expected \\d+ bytes, got 1000`));
    rmSync(blob);
    oneLine(() => readWeightsCache(dir), new RegExp(`^${blob}: weights file is missing`));
    writeFileSync(manifestPath, good.replace(WEIGHTS_CACHE_SCHEMA, 'orthostim.weights-cache/9'));
    oneLine(() => readWeightsCache(dir), new RegExp(`^${manifestPath}: field schema: `));
    const m = JSON.parse(good);
    m.tensors[4].shape = [3, 3, 64, 193];
    writeFileSync(manifestPath, JSON.stringify(m));
    oneLine(
      () => readWeightsCache(dir),
      /tensor 4 is conv2\/3x3 filter 3x3x64x193 HWIO .*expected conv2\/3x3 filter 3x3x64x192/,
    );
    writeFileSync(manifestPath, '{ not json');
    oneLine(() => readWeightsCache(dir), /manifest.json: not valid JSON/);
    oneLine(() => readWeightsCache(join(tmp, 'nowhere')), /manifest.json: weights cache manifest not found/);
  });
});

describe.skipIf(!hasShared(GOOGLENET_WEIGHTS))('weights cache of the BVLC raw weights', () => {
  it('keeps the container-independent digest', async () => {
    const raw = readRawWeights(requireShared(GOOGLENET_WEIGHTS));
    const dir = join(tmp, 'cache-raw');
    const manifest = await writeWeightsCache(raw, dir);
    expect(manifest.source.sha256).toBeNull();
    const back = readWeightsCache(dir);
    expectEqualWeights(back, raw);
    expect(checkWeightsCache(dir).weightsSha256).toBe(raw.sha256);
  });
});
