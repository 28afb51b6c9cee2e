/**
 * A small, valid stimulus set written from scratch for tests that need one but not the network:
 * `n` generated PNG images (distinct colours and bars, sharp), a one-layer RDM from the colours
 * (or the layers and RDMs given in `model`), and the set's sha256 computed by the project's own
 * function.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { STIMULUS_SET_SCHEMA, type StimulusSet } from '@orthostim/protocol';
import { computeStimulusSetSha256, sha256Hex } from '@orthostim/protocol/node';

export interface TestSetModel {
  /** Condensed RDM per layer, in layer order (n(n-1)/2 values each). */
  rdms: Record<string, number[]>;
  distance: StimulusSet['distance'];
  /** Image ids, in order (default stim-01, stim-02, ...); the files are images/<id>.png. */
  ids?: readonly string[];
}

export async function writeTestStimulusSet(dir: string, n = 4, size = 64, model?: TestSetModel): Promise<string> {
  mkdirSync(join(dir, 'images'), { recursive: true });
  const colours: [number, number, number][] = [];
  const images: StimulusSet['images'] = [];
  for (let i = 0; i < n; i++) {
    const c: [number, number, number] = [(i * 67) % 256, (i * 131 + 40) % 256, (255 - i * 53) % 256];
    colours.push(c);
    const raw = Buffer.alloc(size * size * 3);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const bar = Math.floor((x * (i + 2)) / size) % 2 === 0;
        const o = (y * size + x) * 3;
        raw[o] = bar ? c[0] : 255 - c[0];
        raw[o + 1] = bar ? c[1] : 255 - c[1];
        raw[o + 2] = bar ? c[2] : 255 - c[2];
      }
    const png = await sharp(raw, { raw: { width: size, height: size, channels: 3 } })
      .png()
      .toBuffer();
    const id = model?.ids?.[i] ?? `stim-${String(i + 1).padStart(2, '0')}`;
    const file = `images/${id}.png`;
    writeFileSync(join(dir, file), png);
    images.push({ id, file, sha256: sha256Hex(png) });
  }
  const rdm: number[] = [];
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) rdm.push(Math.hypot(...colours[i]!.map((v, k) => v - colours[j]![k]!)) / 255);
  const layers = model ? Object.keys(model.rdms) : ['pixels'];
  const base = { images, layers, rdms: model ? model.rdms : { pixels: rdm } };
  const identity = layers.map((_, i) => layers.map((__, j) => (i === j ? 1 : 0)));
  const set: StimulusSet = {
    schema: STIMULUS_SET_SCHEMA,
    sha256: computeStimulusSetSha256(base),
    ...base,
    model: { name: 'test-fixture', weightsSha256: '0'.repeat(64), inputSize: size },
    distance: model ? model.distance : 'euclidean',
    // Not computed for a fixture (no reader checks it against the RDMs).
    layerSimilarity: { pearson: identity, spearman: identity },
    provenance: { orthostim: 'test', backend: 'none', date: '2024-01-01T00:00:00Z', command: 'writeTestStimulusSet' },
  };
  writeFileSync(join(dir, 'stimulus-set.json'), `${JSON.stringify(set, null, 2)}\n`);
  return join(dir, 'stimulus-set.json');
}
