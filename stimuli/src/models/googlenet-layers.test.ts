import { describe, expect, it } from 'vitest';
import { UsageError } from '@orthostim/protocol';
import { DEFAULT_RDM_LAYERS, GOOGLENET_LAYERS, GOOGLENET_STAGES, resolveLayerName } from './googlenet-layers';

describe('GoogLeNet layer names', () => {
  it('resolves Caffe names and Lucid aliases to canonical names', () => {
    expect(resolveLayerName('conv2d0')).toBe('conv1');
    expect(resolveLayerName('conv1/7x7_s2')).toBe('conv1');
    expect(resolveLayerName('conv2d1')).toBe('conv2/3x3_reduce');
    expect(resolveLayerName('conv2d2')).toBe('conv2');
    expect(resolveLayerName('mixed3a')).toBe('inception_3a');
    expect(resolveLayerName('MIXED5B')).toBe('inception_5b');
    expect(resolveLayerName('mixed4c_3x3_bottleneck')).toBe('inception_4c/3x3_reduce');
    expect(resolveLayerName('mixed4d_pool_reduce')).toBe('inception_4d/pool_proj');
    expect(resolveLayerName('inception_4c/3x3')).toBe('inception_4c/3x3');
    expect(resolveLayerName('pool1/norm1')).toBe('norm1');
    expect(resolveLayerName('loss3/classifier')).toBe('logits');
    expect(resolveLayerName('pixels')).toBe('pixels');
  });

  it('lists the 11 default RDM layers in forward order', () => {
    expect(DEFAULT_RDM_LAYERS).toEqual([
      'conv1',
      'conv2',
      'inception_3a',
      'inception_3b',
      'inception_4a',
      'inception_4b',
      'inception_4c',
      'inception_4d',
      'inception_4e',
      'inception_5a',
      'inception_5b',
    ]);
    const stages = DEFAULT_RDM_LAYERS.map((l) => GOOGLENET_STAGES.indexOf(l as never));
    expect(stages.every((s, i) => s >= 0 && (i === 0 || s > stages[i - 1]!))).toBe(true);
  });

  it('has one entry per name (9 blocks x 8 names + 13 others), no alias shared', () => {
    expect(GOOGLENET_LAYERS.length).toBe(9 * 8 + 13);
    const all = GOOGLENET_LAYERS.flatMap((l) => [l.name, ...l.aliases].map((n) => n.toLowerCase()));
    expect(new Set(all).size).toBe(all.length);
  });

  it('rejects an unknown name in one line with a suggestion and the valid names', () => {
    expect(() => resolveLayerName('inception_4x')).toThrow(UsageError);
    try {
      resolveLayerName('inceptoin_4c');
    } catch (err) {
      const msg = (err as Error).message;
      expect(msg).toMatch(
        /^unknown layer "inceptoin_4c" \(did you mean "inception_4c"\?\); valid names: pixels, conv1, conv2, inception_3a/,
      );
      expect(msg).not.toContain('\n');
    }
    expect(() => resolveLayerName('zebra')).toThrow(/^unknown layer "zebra"; valid names/);
  });
});
