import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireShared, runCli } from '@orthostim/test';
import { alexNetLike, type GraphBuilder, resNetLike, vggLike } from './support/onnx-builder';

// `orthostim rdms --model <file.onnx>` against the same network run by onnxruntime-node on the
// images the stimulus set holds, with RDMs computed here independently (1 - Pearson r).
const tmp = mkdtempSync(join(tmpdir(), 'orthostim-onnx-rdms-'));
const photos = join(tmp, 'photos');

beforeAll(() => {
  mkdirSync(photos);
  const dir = requireShared('data/photos/natural16');
  for (const f of readdirSync(dir).sort().slice(0, 6)) copyFileSync(join(dir, f), join(photos, f));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** The set's images as one NCHW batch with torchvision's normalization. */
async function imagenetBatch(setDir: string, files: string[], size: number): Promise<Float32Array> {
  const out = new Float32Array(files.length * 3 * size * size);
  for (const [i, f] of files.entries()) {
    const { data, info } = await sharp(join(setDir, f)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([size, size]);
    for (let p = 0; p < size * size; p++)
      for (let c = 0; c < 3; c++) out[(i * 3 + c) * size * size + p] = (data[p * 3 + c]! / 255 - MEAN[c]!) / STD[c]!;
  }
  return out;
}

function correlationRdm(acts: Float32Array, n: number): number[] {
  const d = acts.length / n;
  const rows = Array.from({ length: n }, (_, i) => {
    const r = acts.subarray(i * d, (i + 1) * d);
    const m = r.reduce((a, b) => a + b, 0) / d;
    const c = Float64Array.from(r, (v) => v - m);
    const norm = Math.sqrt(c.reduce((a, b) => a + b * b, 0));
    return c.map((v) => v / norm);
  });
  const rdm: number[] = [];
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) rdm.push(1 - rows[i]!.reduce((a, v, k) => a + v * rows[j]![k]!, 0));
  return rdm;
}

function pearson(a: readonly number[], b: readonly number[]): number {
  const ma = a.reduce((s, v) => s + v, 0) / a.length;
  const mb = b.reduce((s, v) => s + v, 0) / b.length;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  a.forEach((v, i) => {
    sab += (v - ma) * (b[i]! - mb);
    saa += (v - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  });
  return sab / Math.sqrt(saa * sbb);
}

async function checkNetwork(
  name: string,
  net: { builder: GraphBuilder; layers: string[] },
  size: number,
  opset: number,
) {
  const model = join(tmp, `${name}.onnx`);
  net.builder.write(model, { outputs: net.layers, opset });
  const out = join(tmp, `${name}-set`);
  const args = ['rdms', photos, '--model', model, '--layers', net.layers.join(','), '--normalize', 'imagenet'];
  const r = await runCli([...args, '--size', String(size), '--out', out, '--backend', 'wasm']);
  expect(r.code, r.stderr).toBe(0);
  const set = JSON.parse(readFileSync(join(out, 'stimulus-set.json'), 'utf8')) as {
    images: { file: string }[];
    model: { name: string; format: string; normalize: string };
    rdms: Record<string, number[]>;
  };
  expect(set.model).toMatchObject({ name, format: 'onnx-graph', normalize: 'imagenet' });
  const n = set.images.length;
  const x = await imagenetBatch(
    out,
    set.images.map((i) => i.file),
    size,
  );
  const session = await ort.InferenceSession.create(model);
  const ref = await session.run({ input: new ort.Tensor('float32', x, [n, 3, size, size]) });
  for (const layer of net.layers) {
    const expected = correlationRdm(ref[layer]!.data as Float32Array, n);
    expect(pearson(set.rdms[layer]!, expected), `${name} ${layer}`).toBeGreaterThanOrEqual(0.999);
  }
}

describe('orthostim rdms --model <file.onnx> matches the network run by onnxruntime', () => {
  it('AlexNet-shaped', () => checkNetwork('alexnet-like', alexNetLike(), 67, 10));
  it('VGG-shaped', () => checkNetwork('vgg-like', vggLike(), 64, 13));
  it('ResNet-shaped', () => checkNetwork('resnet-like', resNetLike(), 64, 13));

  it('lists layers with their shapes, and refuses --weights and unknown tensors with one line', async () => {
    const { builder, layers } = resNetLike();
    const model = join(tmp, 'list.onnx');
    builder.write(model, { outputs: layers, opset: 13 });
    const listed = await runCli(['model', 'layers', '--model', model, '--size', '64']);
    expect(listed.code).toBe(0);
    const session = await ort.InferenceSession.create(model);
    const ref = await session.run({ input: new ort.Tensor('float32', new Float32Array(3 * 64 * 64), [1, 3, 64, 64]) });
    for (const l of [layers[0]!, layers[5]!])
      expect(listed.stdout).toMatch(new RegExp(`\\b${l}\\s+\\w+\\s+${ref[l]!.dims.slice(1).join('x')}\\b`));
    const both = await runCli(['rdms', photos, '--model', model, '--weights', model, '--out', join(tmp, 'x')]);
    expect(both.code).toBe(2);
    expect(both.stderr.trim().split('\n')).toHaveLength(1);
    expect(both.stderr).toMatch(/--weights goes with --model googlenet only/);
    const unknown = await runCli(['rdms', photos, '--model', model, '--layers', 'nope', '--out', join(tmp, 'y')]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown layer "nope"/);
  });
});

describe('a zoo network by name', () => {
  it('model fetch keeps the verified file, and rdms --model <name> runs it with its input convention', async () => {
    const { builder, layers } = resNetLike(8);
    const bytes = Buffer.from(builder.encode({ outputs: layers, opset: 13 }));
    const sha = createHash('sha256').update(bytes).digest('hex');
    const server = createServer((_, res) => res.end(bytes));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/resnet50-v1-7.onnx`;
    const env = { ORTHOSTIM_CACHE: join(tmp, 'cache'), ORTHOSTIM_RESNET50_URL: url, ORTHOSTIM_RESNET50_SHA256: sha };
    try {
      const missing = await runCli(['rdms', photos, '--model', 'resnet50', '--out', join(tmp, 'z')], { env });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/run `orthostim model fetch resnet50`/);
      const fetched = await runCli(['model', 'fetch', 'resnet50'], { env });
      expect(fetched.code, fetched.stderr).toBe(0);
      expect(fetched.stdout).toMatch(/downloaded .*SHA-256 .* checked/);
      const file = join(tmp, 'cache', 'downloads', 'resnet50-v1-7.onnx');
      expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(sha);
      const again = await runCli(['model', 'fetch', 'resnet50'], { env });
      expect(again.stdout).toMatch(/already in the cache/);
      const out = join(tmp, 'zoo-set');
      const args = ['rdms', photos, '--model', 'resnet50', '--layers', layers[3]!, '--size', '64', '--out', out];
      const r = await runCli(args, { env });
      expect(r.code, r.stderr).toBe(0);
      const set = JSON.parse(readFileSync(join(out, 'stimulus-set.json'), 'utf8')) as { model: Record<string, string> };
      expect(set.model).toMatchObject({ name: 'resnet50-v1-7', normalize: 'imagenet', weightsSha256: sha });
      expect(existsSync(join(out, 'images'))).toBe(true);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
