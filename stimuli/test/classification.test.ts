/**
 * Proof that the image pipeline and the network are the real BVLC GoogLeNet: real photos, read
 * with orthostim's own pipeline (centre crop, bicubic resize to 224), are classified as a person
 * would label them. The expected classes are checked by their names in synset_words.txt, not by
 * index, so the test also catches a wrong class order.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { GOOGLENET_DIR, GOOGLENET_WEIGHTS, hasShared, requireShared } from '@orthostim/test';
import { initBackend } from '../src/backend';
import { imagesToTensor } from '../src/features';
import { prepareImage } from '../src/images';
import { GoogLeNet } from '../src/models/googlenet';
import { readRawWeights } from '../src/models/weights-raw';

// Photo -> acceptable top-1 labels (the first name of a synset_words.txt line).
const EXPECTED: Record<string, string[]> = {
  'natural16/skimage_chelsea.png': ['tabby', 'tiger cat', 'Egyptian cat'],
  'natural16/skimage_coffee.png': ['espresso', 'cup', 'coffee mug'],
  'natural16/kodim23.png': ['macaw'],
  'natural16/domestic_dog.jpg': ['German shepherd', 'malinois'],
  'pd_cc0_ccby/skimage_camera.png': ['tripod'],
};

describe.skipIf(!hasShared(GOOGLENET_WEIGHTS) || !hasShared('data/photos/natural16'))(
  'GoogLeNet top-1 classes of real photos',
  () => {
    let labels: string[];
    let top1: string[];

    beforeAll(async () => {
      await initBackend();
      labels = readFileSync(join(requireShared(GOOGLENET_DIR), 'synset_words.txt'), 'utf8')
        .trim()
        .split('\n')
        .map((line) =>
          line
            .slice(line.indexOf(' ') + 1)
            .split(',')[0]!
            .trim(),
        );
      const images = await Promise.all(
        Object.keys(EXPECTED).map((p) => prepareImage(join(requireShared('data/photos'), p), 224)),
      );
      const net = GoogLeNet.fromWeights(readRawWeights(requireShared(GOOGLENET_WEIGHTS)));
      const x = imagesToTensor(images, 224);
      const probs = net.probabilities(x);
      const best = tf.argMax(probs, 1);
      top1 = Array.from(best.dataSync(), (i) => labels[i]!);
      tf.dispose([x, probs, best]);
      net.dispose();
    });

    it('has 1000 classes', () => {
      expect(labels).toHaveLength(1000);
    });

    Object.entries(EXPECTED).forEach(([photo, accepted], k) => {
      it(`${photo} -> ${accepted.join(' / ')}`, () => {
        expect(accepted).toContain(top1[k]);
      });
    });
  },
);
