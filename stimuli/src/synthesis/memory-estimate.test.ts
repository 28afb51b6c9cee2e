import { describe, expect, it } from 'vitest';
import { estimateSynthesisMemory } from './memory-estimate';

describe('estimateSynthesisMemory', () => {
  it('counts 6.3 M float32 activations per 224 px image (scaling with the area) and three n x n matrices per layer', () => {
    const perImage224 = 6.3e6 * 4; // 25.2 MB
    expect(estimateSynthesisMemory(16, 224, 11, 2)).toEqual({
      perWorker: 8 * perImage224,
      total: 16 * perImage224 + 3 * 11 * 16 * 16 * 4,
    });
    // Twice the side: four times the activations; 5 images on 2 workers: the larger share is 3.
    const e = estimateSynthesisMemory(5, 448, 4, 2);
    expect(e.perWorker).toBeCloseTo(3 * 4 * perImage224, 0);
    expect(e.total).toBeCloseTo(5 * 4 * perImage224 + 3 * 4 * 25 * 4, 0);
  });
});
