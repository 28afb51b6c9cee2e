import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { UsageError } from '@orthostim/protocol';
import { BACKEND_NAMES, formatBackend, initBackend, registerCpuFallbacks } from './backend';

/** tf.grad of a function of a 4-D tensor (tf.grad's own typing takes only plain Tensor parameters). */
const grad4 = (f: (x: tf.Tensor4D) => tf.Tensor) =>
  tf.grad((x: tf.Tensor) => f(x as tf.Tensor4D)) as (x: tf.Tensor4D) => tf.Tensor4D;

describe('initBackend', () => {
  it('selects a forced backend and describes it for provenance', async () => {
    const info = await initBackend('cpu');
    expect(info).toEqual({ name: 'cpu', version: tf.version.tfjs, threads: 1 });
    expect(tf.getBackend()).toBe('cpu');
    const wasm = await initBackend('wasm');
    expect(wasm.name).toBe('wasm');
    expect(wasm.threads).toBeGreaterThanOrEqual(1);
    expect(tf.getBackend()).toBe('wasm');
    expect(formatBackend(wasm)).toBe(
      `wasm (tfjs ${tf.version.tfjs}, ${wasm.threads} thread${wasm.threads === 1 ? '' : 's'})`,
    );
  });

  it('takes ORTHOSTIM_BACKEND when no argument is given, and rejects unknown names', async () => {
    process.env.ORTHOSTIM_BACKEND = 'cpu';
    try {
      expect((await initBackend()).name).toBe('cpu');
      process.env.ORTHOSTIM_BACKEND = 'gpu';
      await expect(initBackend()).rejects.toThrow(
        /^ORTHOSTIM_BACKEND: backend must be one of node, wasm, cpu; got "gpu"$/,
      );
    } finally {
      delete process.env.ORTHOSTIM_BACKEND;
    }
    await expect(initBackend('tpu')).rejects.toThrow(UsageError);
    expect(BACKEND_NAMES).toEqual(['node', 'wasm', 'cpu']);
  });

  it('reports a forced backend that cannot load in one line naming it', async () => {
    let nodeInstalled = true;
    try {
      await import(/* @vite-ignore */ ['@tensorflow', 'tfjs-node'].join('/'));
    } catch {
      nodeInstalled = false;
    }
    if (nodeInstalled) return; // the node backend is real here; nothing to refuse
    const err = await initBackend('node').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(
      /^backend node cannot be loaded \(.*\); choose another with --backend wasm\|cpu$/,
    );
    expect((err as Error).message).not.toContain('\n');
  });

  it('runs kernels wasm lacks (Conv2DBackpropFilter) on cpu, with the same result', async () => {
    const data = tf.tidy(() => ({
      x: tf.randomNormal([2, 7, 6, 3], 0, 1, 'float32', 1).dataSync(),
      dy: tf.randomNormal([2, 7, 6, 4], 0, 1, 'float32', 2).dataSync(),
    }));
    const filterGrad = () =>
      tf.tidy(() => {
        const x = tf.tensor4d(data.x, [2, 7, 6, 3]);
        const dy = tf.tensor4d(data.dy, [2, 7, 6, 4]);
        const filter = tf.zeros([3, 3, 3, 4]) as tf.Tensor4D;
        // d/dfilter of sum(conv2d(x, filter) * dy) is Conv2DBackpropFilter(x, dy).
        return grad4((f: tf.Tensor4D) => tf.sum(tf.mul(tf.conv2d(x, f, 1, 'same'), dy)))(filter).dataSync();
      });
    await initBackend('cpu');
    const reference = filterGrad();
    await initBackend('wasm');
    expect(tf.getKernelsForBackend('wasm').some((k) => k.kernelName === 'Conv2DBackpropFilter')).toBe(true);
    expect(registerCpuFallbacks('wasm')).toEqual([]); // already bridged by initBackend
    const before = tf.memory().numTensors;
    const got = filterGrad();
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(got)).toEqual(Array.from(reference));
  });
});
