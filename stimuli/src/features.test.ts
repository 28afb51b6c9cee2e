import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { computeGram, computeRdm, createRng, PATTERN_DISTANCE_NAMES } from '@orthostim/rdm';
import { initBackend } from './backend';
import { computeLayerRdms, imagesToTensor, planPanelSize, type ActivationModel } from './features';

// A small stand-in network of plain TF ops: 'pixels' is the input itself, 'conv' a 3x3/2 conv +
// ReLU with fixed seeded filters, 'dense' a global average of conv's squares. Its activations are
// computed directly below and fed to rdm/'s reference computeRdm.
const SIZE = 9;
const rng = createRng(7);
const filter = tf.tensor4d(
  Float32Array.from({ length: 3 * 3 * 3 * 5 }, () => rng() - 0.5),
  [3, 3, 3, 5],
);
const toy = {
  forward(x: tf.Tensor4D, layers: readonly string[]): Record<string, tf.Tensor> {
    return tf.tidy(() => {
      const conv = tf.relu(tf.conv2d(x, filter, 2, 'same'));
      const all: Record<string, tf.Tensor> = { pixels: tf.mul(x, 1), conv, dense: tf.mean(tf.square(conv), [1, 2]) };
      return Object.fromEntries(layers.map((l) => [l, all[l]!]));
    });
  },
} satisfies ActivationModel;

const images = Array.from({ length: 7 }, () =>
  Uint8Array.from({ length: SIZE * SIZE * 3 }, () => Math.floor(rng() * 256)),
);
const LAYERS = ['conv', 'pixels', 'dense'];

function referenceRdms(distance: (typeof PATTERN_DISTANCE_NAMES)[number]): Float64Array[] {
  const x = imagesToTensor(images, SIZE);
  const acts = toy.forward(x, LAYERS);
  const rdms = LAYERS.map((l) => {
    const a = acts[l]!;
    return computeRdm(a.dataSync() as Float32Array, images.length, a.size / images.length, distance);
  });
  tf.dispose([x, ...Object.values(acts)]);
  return rdms;
}

beforeAll(async () => {
  await initBackend();
});

describe('computeLayerRdms', () => {
  it('imagesToTensor divides the uint8 values by 255', () => {
    const t = imagesToTensor([Uint8Array.from([0, 51, 255])], 1);
    expect(t.shape).toEqual([1, 1, 1, 3]);
    expect(Array.from(t.dataSync())).toEqual([0, Math.fround(0.2), 1]);
    t.dispose();
  });

  it('plans panels from the budget', () => {
    expect(planPanelSize([100, 50], 1000, 4 * 150 * 10)).toBe(10);
    expect(planPanelSize([100, 50], 7, 1e9)).toBe(7);
    expect(planPanelSize([100, 50], 7, 1)).toBe(1);
  });

  for (const distance of PATTERN_DISTANCE_NAMES) {
    it(`matches rdm/ computeRdm on the activations (${distance}), in one pass and in panels`, async () => {
      const expected = referenceRdms(distance);
      const bytesPerImage = 4 * (5 * 5 * 5 + SIZE * SIZE * 3 + 5);
      // Batches of 3 (7 images: 3 + 3 + 1); budgets for all images, 3 images (panels 3, 3, 1) and 2.
      for (const [budget, panels] of [
        [1e9, 1],
        [3 * bytesPerImage, 3],
        [2 * bytesPerImage + 10, 4],
      ] as const) {
        let lastProgress = [0, 0];
        const got = await computeLayerRdms(toy, images, SIZE, {
          layers: LAYERS,
          distance,
          batchSize: 3,
          memoryBudgetBytes: budget,
          onProgress: (done, total) => (lastProgress = [done, total]),
        });
        expect(got.panels).toBe(panels);
        expect(got.featureCounts).toEqual([125, 243, 5]);
        expect(lastProgress[0]).toBe(lastProgress[1]);
        got.rdms.forEach((rdm, l) => {
          const ref = expected[l]!;
          expect(rdm.length).toBe(21);
          rdm.forEach((v, k) => {
            if (Math.abs(v - ref[k]!) > 1e-5 * Math.max(1, Math.abs(ref[k]!))) {
              throw new Error(
                `${distance}, budget ${budget}, layer ${LAYERS[l]}, entry ${k}: got ${v}, expected ${ref[k]}`,
              );
            }
          });
        });
      }
    });
  }

  it('keepGrams: the Gram matrices of the centred unit-length rows (correlation), in panels too', async () => {
    const x = imagesToTensor(images, SIZE);
    const acts = toy.forward(x, LAYERS);
    const n = images.length;
    const expected = LAYERS.map((l) => {
      const a = acts[l]!;
      const g = computeGram(a.dataSync() as Float32Array, n, a.size / n, true);
      return g.map((v, k) => v / Math.sqrt(g[Math.floor(k / n) * (n + 1)]! * g[(k % n) * (n + 1)]!));
    });
    tf.dispose([x, ...Object.values(acts)]);
    for (const budget of [1e9, 2 * 4 * (5 * 5 * 5 + SIZE * SIZE * 3 + 5) + 10]) {
      const got = await computeLayerRdms(toy, images, SIZE, {
        layers: LAYERS,
        distance: 'correlation',
        batchSize: 3,
        memoryBudgetBytes: budget,
        keepGrams: true,
      });
      got.grams!.forEach((g, l) => g.forEach((v, k) => expect(v).toBeCloseTo(expected[l]![k]!, 5)));
    }
  });

  it('leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    await computeLayerRdms(toy, images, SIZE, {
      layers: LAYERS,
      distance: 'euclidean',
      batchSize: 2,
      memoryBudgetBytes: 3000,
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
