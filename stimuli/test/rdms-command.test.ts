/**
 * `orthostim rdms` end to end, as a user runs it: real photos (copied into a temp folder), real
 * BVLC weights, the real CLI in a child process. The stored RDMs are checked against RDMs
 * recomputed here from the written PNGs (decoded with sharp, divided by 255, GoogLeNet forward,
 * rdm/'s float64 reference computeRdm).
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStimulusSet } from '@orthostim/protocol/node';
import { computeRdm, similarityMatrix } from '@orthostim/rdm';
import { GOOGLENET_WEIGHTS, hasShared, requireShared, runCli, type CliResult } from '@orthostim/test';
import { initBackend } from '../src/backend';
import { GoogLeNet } from '../src/models/googlenet';
import { readRawWeights } from '../src/models/weights-raw';

const PHOTOS = 'data/photos/natural16';
const PICKED = ['skimage_coffee.png', 'ocelot.jpg', 'skimage_chelsea.png', 'kodim23.png'];
const SORTED = [...PICKED].sort();
const LAYERS = ['conv1', 'inception_4a'];

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-rdms-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function photoDir(name: string, extra: Record<string, string | Buffer> = {}, photos = PICKED): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  for (const p of photos) copyFileSync(join(requireShared(PHOTOS), p), join(dir, p));
  for (const [file, content] of Object.entries(extra)) writeFileSync(join(dir, file), content);
  return dir;
}

function oneLineError(r: CliResult): string {
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
  return lines[0]!;
}

describe.skipIf(!hasShared(PHOTOS) || !hasShared(GOOGLENET_WEIGHTS))('orthostim rdms on real photos', () => {
  let out: string;
  let run: CliResult;

  beforeAll(async () => {
    const dir = photoDir('photos', { 'notes.txt': 'not an image', '.hidden.png': 'ignored' });
    out = join(tmp, 'out');
    run = await runCli([
      'rdms',
      dir,
      '--out',
      out,
      '--weights',
      requireShared(GOOGLENET_WEIGHTS),
      '--size',
      '224',
      '--layers',
      LAYERS.join(','),
      '--batch-size',
      '3',
    ]);
  });

  it('succeeds and prints a summary', () => {
    expect(run.stderr).not.toContain('error');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'rdms: 4 images at 224 px, 2 layers (conv1, inception_4a), correlation distance, bvlc-googlenet',
    );
    expect(run.stdout).toMatch(/mean \|Pearson r\| between layers' RDMs: -?\d\.\d{3} over all 1 pairs/);
    expect(run.stdout).toContain(join(out, 'layer-similarity.png'));
  });

  it('writes a valid stimulus set of the images in file-name order', () => {
    const loaded = readStimulusSet(out); // schema, image hashes, set hash
    const { set } = loaded;
    expect(set.images.map((i) => [i.id, i.source])).toEqual(SORTED.map((s, k) => [`stim-0${k + 1}`, s]));
    expect(set.layers).toEqual(LAYERS);
    expect(set.model).toMatchObject({ name: 'bvlc-googlenet', inputSize: 224, format: 'raw' });
    expect(set.provenance.backend).toMatch(/^(node|wasm|cpu)$/);
    expect(set.provenance.command).toContain('orthostim rdms');
    expect(readdirSync(join(out, 'images')).sort()).toEqual([
      'stim-01.png',
      'stim-02.png',
      'stim-03.png',
      'stim-04.png',
    ]);
  });

  it('stores the RDMs of the written images, recomputed independently', async () => {
    const { set, imagePaths, rdms } = readStimulusSet(out);
    const n = imagePaths.length;
    const pixels = new Float32Array(n * 224 * 224 * 3);
    for (let k = 0; k < n; k++) {
      const { data, info } = await sharp(imagePaths[k]!).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([224, 224, 3]);
      for (let i = 0; i < data.length; i++) pixels[k * data.length + i] = data[i]! / 255;
    }
    await initBackend();
    const net = GoogLeNet.fromWeights(readRawWeights(requireShared(GOOGLENET_WEIGHTS)));
    const x = tf.tensor4d(pixels, [n, 224, 224, 3]);
    const acts = net.forward(x, LAYERS);
    const expected = LAYERS.map((l) =>
      computeRdm(acts[l]!.dataSync() as Float32Array, n, acts[l]!.size / n, 'correlation'),
    );
    tf.dispose([x, ...Object.values(acts)]);
    net.dispose();
    LAYERS.forEach((l, i) => {
      const stored = rdms[i]!;
      expect(stored).toHaveLength(6);
      stored.forEach((v, k) => expect(Math.abs(v! - expected[i]![k]!)).toBeLessThan(1e-5));
    });
    // Natural photos: distinct, non-degenerate dissimilarities.
    expect(Math.min(...expected[1]!)).toBeGreaterThan(0.05);
    const pearson = similarityMatrix(expected, 'pearson');
    expect(set.layerSimilarity.pearson[0]![1]!).toBeCloseTo(pearson[0]![1]!, 4);
  });

  it('draws the figures as PNGs of plausible size', async () => {
    for (const [file, minWidth] of [
      ['rdms.png', 300],
      ['layer-similarity.png', 400],
    ] as const) {
      const bytes = readFileSync(join(out, file));
      expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
      const meta = await sharp(bytes).metadata();
      expect(meta.format).toBe('png');
      expect(meta.width).toBeGreaterThan(minWidth);
      expect(meta.height).toBeGreaterThan(150);
      expect(bytes.length).toBeGreaterThan(5000);
    }
  });

  it('refuses to overwrite the non-empty output folder without --overwrite', async () => {
    const again = await runCli([
      'rdms',
      join(tmp, 'photos'),
      '--out',
      out,
      '--weights',
      requireShared(GOOGLENET_WEIGHTS),
      '--layers',
      'conv1',
    ]);
    expect(again.code).toBe(2);
    expect(oneLineError(again)).toContain(`${out}: output folder exists and is not empty`);
  });
});

describe.skipIf(!hasShared(PHOTOS) || !hasShared(GOOGLENET_WEIGHTS))('orthostim rdms on bad input', () => {
  const weights = () => requireShared(GOOGLENET_WEIGHTS);

  it('a corrupt image: exit 2, one line naming the file, --out not created', async () => {
    const dir = photoDir('corrupt', { 'broken.jpg': 'this is not a JPEG' }, PICKED.slice(0, 2));
    const out = join(tmp, 'corrupt-out');
    const r = await runCli(['rdms', dir, '--out', out, '--weights', weights(), '--layers', 'conv1']);
    expect(r.code).toBe(2);
    const line = oneLineError(r);
    expect(line).toContain(`${join(dir, 'broken.jpg')}: not a readable image`);
    expect(line).toContain('expected a PNG or JPEG image');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.includes('corrupt-out'))).toEqual([]);
  });

  it('an unknown layer: exit 2, one line listing valid names', async () => {
    const dir = photoDir('layers', {}, PICKED.slice(0, 2));
    const out = join(tmp, 'layers-out');
    const r = await runCli(['rdms', dir, '--out', out, '--weights', weights(), '--layers', 'conv1,inception_9z']);
    expect(r.code).toBe(2);
    const line = oneLineError(r);
    expect(line).toContain('unknown layer "inception_9z"');
    expect(line).toContain('valid names: pixels, conv1, conv2, inception_3a');
    expect(existsSync(out)).toBe(false);
  });

  it('an empty folder, a folder without images and one with a single image: exit 2, one line naming the folder', async () => {
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    const r1 = await runCli(['rdms', empty, '--out', join(tmp, 'empty-out'), '--weights', weights()]);
    expect(r1.code).toBe(2);
    expect(oneLineError(r1)).toContain(`${empty}: no images found (the folder is empty)`);
    const texts = photoDir('texts', { 'a.txt': 'x', 'b.gif': 'y' }, []);
    const r2 = await runCli(['rdms', texts, '--out', join(tmp, 'texts-out'), '--weights', weights()]);
    expect(r2.code).toBe(2);
    expect(oneLineError(r2)).toContain(`${texts}: no images found (none of its 2 entries is one)`);
    const single = photoDir('single', {}, PICKED.slice(0, 1));
    const r3 = await runCli(['rdms', single, '--out', join(tmp, 'single-out'), '--weights', weights()]);
    expect(r3.code).toBe(2);
    expect(oneLineError(r3)).toContain(
      `${single}: found 1 image (${PICKED[0]}); expected at least 2 PNG or JPEG images`,
    );
    expect(existsSync(join(tmp, 'empty-out'))).toBe(false);
  });

  it('a missing --out, and --help with an example', async () => {
    const r = await runCli(['rdms', join(tmp, 'photos')]);
    expect(r.code).toBe(2);
    expect(oneLineError(r)).toContain('--out is required');
    const help = await runCli(['rdms', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('orthostim rdms ');
  });
});
