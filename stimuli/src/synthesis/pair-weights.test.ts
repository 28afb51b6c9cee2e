import { describe, expect, it } from 'vitest';
import { InputError } from '@orthostim/protocol';
import { resolveLayerName } from '../models/googlenet-layers';
import { parsePairWeights } from './pair-weights';

const layers = ['conv1', 'conv2', 'inception_3a', 'inception_5b'];
const parse = (json: unknown) => parsePairWeights(json, layers, resolveLayerName, 'w.json');

describe('parsePairWeights', () => {
  it('places weights by layer pair in condensed order, accepting aliases and either order', () => {
    // Pairs in condensed order: (c1,c2) (c1,3a) (c1,5b) (c2,3a) (c2,5b) (3a,5b).
    expect(
      parse({
        default: 0.5,
        pairs: [
          { layers: ['mixed5b', 'conv1'], weight: 3 },
          { layers: ['conv2d2', 'inception_3a'], weight: 0 },
        ],
      }),
    ).toEqual([0.5, 0.5, 3, 0, 0.5, 0.5]);
    expect(parse({})).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it.each([
    [
      { pairs: [{ layers: ['conv1', 'inception_4a'], weight: 1 }] },
      /pairs\.0\.layers: "inception_4a" is not among the synthesis layers/,
    ],
    [{ pairs: [{ layers: ['conv1', 'conv1'], weight: 1 }] }, /two different layers/],
    [{ pairs: [{ layers: ['conv1', 'conv2'], weight: -1 }] }, /pairs\.0\.weight: expected a number >= 0; got -1/],
    [{ default: 0 }, /every pair has weight 0/],
    [{ weights: [] }, /field weights: unknown field/],
    [[1, 2], /expected an object/],
  ])('rejects %j naming the field', (json, pattern) => {
    expect(() => parse(json)).toThrow(InputError);
    expect(() => parse(json)).toThrow(pattern);
  });
});
