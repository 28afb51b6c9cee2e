/**
 * GoogLeNet weights drawn at random (He-scaled, seeded): the architecture's tests (backend parity,
 * fast gradients, tensor leaks) need the graph, not what BVLC trained, so they run without
 * ../shared. Values are uniform with the variance sqrt(2 / fan_in)^2, so activations keep their
 * scale through the 57 convolutions.
 */
import { createRng } from '@orthostim/rdm';
import { GOOGLENET_CLASSIFIER, GOOGLENET_CONVS } from '../../src/models/googlenet-spec';
import type { GoogLeNetWeights } from '../../src/models/weights';

function heUniform(count: number, fanIn: number, rng: () => number): Float32Array {
  const a = Math.sqrt(3) * Math.sqrt(2 / fanIn);
  return Float32Array.from({ length: count }, () => (2 * rng() - 1) * a);
}

export function randomGoogLeNetWeights(seed: number): GoogLeNetWeights {
  const rng = createRng(seed);
  const convs = new Map(
    GOOGLENET_CONVS.map((c) => {
      const fanIn = c.kernel * c.kernel * c.inChannels;
      const shape: [number, number, number, number] = [c.kernel, c.kernel, c.inChannels, c.outChannels];
      const bias = Float32Array.from({ length: c.outChannels }, () => 0.1 * (2 * rng() - 1));
      return [c.name, { shape, filter: heUniform(fanIn * c.outChannels, fanIn, rng), bias }];
    }),
  );
  const { inFeatures, outFeatures } = GOOGLENET_CLASSIFIER;
  const classifier = {
    shape: [inFeatures, outFeatures] as [number, number],
    kernel: heUniform(inFeatures * outFeatures, inFeatures, rng),
    bias: new Float32Array(outFeatures),
  };
  return { convs, classifier, sha256: `random-${seed}`, format: 'random', source: `randomGoogLeNetWeights(${seed})` };
}
