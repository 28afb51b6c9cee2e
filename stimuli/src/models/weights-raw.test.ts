import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { GOOGLENET_WEIGHTS, hasShared, requireShared } from '@orthostim/test';
import { InputError } from '@orthostim/protocol';
import { GOOGLENET_CLASSIFIER, GOOGLENET_CONVS } from './googlenet-spec';
import { listRawWeightFiles, readRawWeights } from './weights-raw';
import type { GoogLeNetWeights } from './weights';

describe.skipIf(!hasShared(GOOGLENET_WEIGHTS))('readRawWeights on the BVLC weights', () => {
  let src: string;
  let w: GoogLeNetWeights;
  let tmp: string;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    src = requireShared(GOOGLENET_WEIGHTS);
    w = readRawWeights(src);
    tmp = mkdtempSync(join(tmpdir(), 'orthostim-raw-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /** A copy of the weights folder made of symlinks, with `edit` applied to one real copied file. */
  function copyWithEdit(name: string, edit: ((bytes: Buffer) => Buffer | null) | null, withSums: boolean): string {
    const root = mkdtempSync(join(tmp, 'case-'));
    const dir = join(root, 'weights');
    for (const f of listRawWeightFiles(src)) {
      const dst = join(dir, f.rel);
      mkdirSync(dirname(dst), { recursive: true });
      if (f.rel !== name) symlinkSync(f.path, dst);
      else if (edit) {
        const bytes = edit(readFileSync(f.path));
        if (bytes) writeFileSync(dst, bytes);
      }
    }
    if (withSums) writeFileSync(join(root, 'SHA256SUMS'), readFileSync(join(dirname(src), 'SHA256SUMS')));
    return dir;
  }

  it('transposes filters (out,kh,kw,in) to HWIO and the classifier to [in,out]', () => {
    // Independent transpose with tf.transpose on the raw file.
    const conv = GOOGLENET_CONVS.find((c) => c.name === 'inception_4c/5x5')!;
    const raw = new Float32Array(readFileSync(join(src, 'inception_4c/5x5_filter.bin')).buffer.slice(0));
    const expected = tf.tensor4d(raw, [conv.outChannels, 5, 5, conv.inChannels]).transpose([1, 2, 3, 0]).dataSync();
    const got = w.convs.get(conv.name)!;
    expect(got.shape).toEqual([5, 5, conv.inChannels, conv.outChannels]);
    expect(Array.from(got.filter)).toEqual(Array.from(expected));
    const rawCls = new Float32Array(readFileSync(join(src, 'loss3/classifier_filter.bin')).buffer.slice(0));
    const expCls = tf.tensor2d(rawCls, [1000, 1024]).transpose().dataSync();
    expect(w.classifier.shape).toEqual([1024, 1000]);
    expect(Array.from(w.classifier.kernel)).toEqual(Array.from(expCls));
    expect(w.format).toBe('raw');
  });

  it('digests the weights as documented (names, HWIO filters, biases, classifier)', () => {
    const h = createHash('sha256');
    for (const c of GOOGLENET_CONVS) {
      const cw = w.convs.get(c.name)!;
      h.update(Buffer.from(`${c.name}\n`));
      h.update(Buffer.from(cw.filter.buffer, cw.filter.byteOffset, cw.filter.byteLength));
      h.update(readFileSync(join(src, `${c.name}_bias.bin`)));
    }
    h.update(Buffer.from(`${GOOGLENET_CLASSIFIER.name}\n`));
    h.update(Buffer.from(w.classifier.kernel.buffer));
    h.update(readFileSync(join(src, 'loss3/classifier_bias.bin')));
    expect(w.sha256).toBe(h.digest('hex'));
  });

  it('names a missing file with its expected size', () => {
    const dir = copyWithEdit('inception_4d/3x3_bias.bin', null, false);
    expect(() => readRawWeights(dir)).toThrow(InputError);
    expect(() => readRawWeights(dir)).toThrow(
      /inception_4d\/3x3_bias\.bin: weights file is missing; expected 1152 bytes/,
    );
  });

  it('names a truncated file with expected and actual bytes', () => {
    const dir = copyWithEdit('conv2/3x3_filter.bin', (b) => b.subarray(0, b.length - 10), true);
    expect(() => readRawWeights(dir)).toThrow(
      /conv2\/3x3_filter\.bin: expected 442368 bytes \(192x3x3x64 float32\), got 442358 bytes/,
    );
  });

  it('rejects a file whose checksum differs from SHA256SUMS', () => {
    const edit = (b: Buffer) => {
      const c = Buffer.from(b);
      c[100] = c[100]! ^ 0xff;
      return c;
    };
    const dir = copyWithEdit('inception_5b/pool_proj_filter.bin', edit, true);
    expect(() => readRawWeights(dir)).toThrow(
      /inception_5b\/pool_proj_filter\.bin: SHA-256 [0-9a-f]{64} does not match/,
    );
    // Without a SHA256SUMS file the size is right and the (wrong) values are read.
    const noSums = copyWithEdit('inception_5b/pool_proj_filter.bin', edit, false);
    expect(readRawWeights(noSums).sha256).not.toBe(w.sha256);
  });

  it('rejects a folder that does not exist', () => {
    expect(() => readRawWeights(join(tmp, 'nope'))).toThrow(/nope: weights folder not found/);
  });
});
