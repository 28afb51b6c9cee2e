import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readStimulusSet } from '@orthostim/protocol/node';
import { readImageRgb } from './images';
import { formatCommandLine, formatStimulusSetJson, stimulusIds, writeStimulusSet } from './stimulus-set-writer';

const dir = mkdtempSync(join(tmpdir(), 'orthostim-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The set digest as docs/formats/stimulus-set.md defines it, written out independently. */
function digestByHand(set: {
  images: { id: string; sha256: string }[];
  layers: string[];
  rdms: Record<string, (number | null)[]>;
}): string {
  const h = createHash('sha256');
  for (const im of set.images) h.update(`${im.id}\n${im.sha256}\n`);
  for (const layer of set.layers) {
    h.update(`${layer}\n`);
    for (const v of set.rdms[layer]!) {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(v === null ? Number.NaN : v);
      h.update(b);
    }
  }
  return h.digest('hex');
}

describe('stimulusIds and formatCommandLine', () => {
  it('pads ids to the digits of n, at least two', () => {
    expect(stimulusIds(3)).toEqual(['stim-01', 'stim-02', 'stim-03']);
    expect(stimulusIds(16).at(-1)).toBe('stim-16');
    expect(stimulusIds(100).slice(0, 2)).toEqual(['stim-001', 'stim-002']);
    expect(stimulusIds(1000).at(-1)).toBe('stim-1000');
  });

  it('quotes arguments a shell would split', () => {
    expect(
      formatCommandLine(['orthostim', 'rdms', 'my photos', '--out', "it's", '--layers', 'conv1,inception_4a']),
    ).toBe(`orthostim rdms 'my photos' --out 'it'\\''s' --layers conv1,inception_4a`);
  });
});

describe('writeStimulusSet', () => {
  it('writes PNGs and a stimulus-set.json that validates and whose hashes recompute independently', async () => {
    const size = 5;
    const images = [0, 1, 2].map((k) => Uint8Array.from({ length: size * size * 3 }, (_, i) => (i * 7 + k * 50) % 256));
    const rdms = [
      [0.5, 1.0, 1.5],
      [0.25, Number.NaN, 0.75],
      [3, 2, 1],
    ];
    const out = join(dir, 'set');
    const written = await writeStimulusSet(out, {
      images,
      size,
      sources: ['b.jpg', 'a b.png', 'c.png'],
      model: { name: 'bvlc-googlenet', weightsSha256: 'a'.repeat(64), format: 'raw' },
      layers: ['conv1', 'inception_4a', 'pixels'],
      distance: 'correlation',
      rdms,
      provenance: { backend: 'wasm', command: 'orthostim rdms x --out set', date: '2025-01-02T03:04:05.000Z' },
    });

    // Validated by the reader the session server and analysis use (schema, files, image and set hashes).
    const loaded = readStimulusSet(out);
    const json = JSON.parse(readFileSync(join(out, 'stimulus-set.json'), 'utf8'));
    expect(json).toEqual(written.set);
    expect(loaded.set).toEqual(written.set);

    expect(json.images.map((im: { id: string; file: string; source: string }) => [im.id, im.file, im.source])).toEqual([
      ['stim-01', 'images/stim-01.png', 'b.jpg'],
      ['stim-02', 'images/stim-02.png', 'a b.png'],
      ['stim-03', 'images/stim-03.png', 'c.png'],
    ]);
    for (let i = 0; i < 3; i++) {
      const bytes = readFileSync(join(out, 'images', `stim-0${i + 1}.png`));
      expect(json.images[i].sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      const back = await readImageRgb(join(out, 'images', `stim-0${i + 1}.png`));
      expect(Buffer.from(back.data).equals(Buffer.from(images[i]!))).toBe(true);
    }
    expect(json.sha256).toBe(digestByHand(json));

    expect(json.model).toEqual({ name: 'bvlc-googlenet', weightsSha256: 'a'.repeat(64), inputSize: 5, format: 'raw' });
    expect(json.rdms.inception_4a).toEqual([0.25, null, 0.75]);
    expect(json.provenance).toMatchObject({
      backend: 'wasm',
      date: '2025-01-02T03:04:05.000Z',
      command: 'orthostim rdms x --out set',
    });
    expect(json.provenance.orthostim).toBe(
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version,
    );

    // conv1 vs pixels: exactly reversed, r = -1 (Pearson and Spearman); the NaN RDM correlates with nothing.
    expect(json.layerSimilarity.pearson[0][0]).toBe(1);
    expect(json.layerSimilarity.pearson[0][2]).toBeCloseTo(-1, 12);
    expect(json.layerSimilarity.spearman[2][0]).toBeCloseTo(-1, 12);
    expect(json.layerSimilarity.pearson[0][1]).toBeNull();
    expect(json.layerSimilarity.spearman[1][1]).toBeNull();
  });

  it('refuses RDMs of the wrong length before writing anything', async () => {
    const out = join(dir, 'bad');
    const img = new Uint8Array(2 * 2 * 3);
    await expect(
      writeStimulusSet(out, {
        images: [img, img, img],
        size: 2,
        model: { name: 'm', weightsSha256: 'b'.repeat(64) },
        layers: ['conv1'],
        distance: 'euclidean',
        rdms: [[1, 2]],
        provenance: { backend: 'cpu', command: 'x' },
      }),
    ).rejects.toThrow('RDM of layer conv1 has 2 values; expected 3 for 3 images');
    expect(existsSync(out)).toBe(false);
  });
});

describe('formatStimulusSetJson', () => {
  it('is JSON that parses back to the same value, number arrays on one line', () => {
    const value = {
      a: [1, 2.5, null, -3e-7],
      b: {
        c: [
          [1, 2],
          [3, 4],
        ],
        d: 'x"y',
        e: [],
        f: [{ g: true }],
      },
    };
    const text = formatStimulusSetJson(value);
    expect(JSON.parse(text)).toEqual(value);
    expect(text).toContain('"a": [1, 2.5, null, -3e-7]');
  });
});
