/**
 * Stimulus sets with the RDMs in the binary sidecar (schema orthostim.stimulus-set/2): written by the
 * library writer (no network), read back by the reader every command uses, and checked byte by byte
 * against the layout docs/formats/stimulus-set.md gives (float32 little-endian, layers in order).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readStimulusSet } from '@orthostim/protocol/node';
import { writeStimulusSet, type StimulusSetContent } from './stimulus-set-writer';

const dir = mkdtempSync(join(tmpdir(), 'orthostim-set-v2-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** n tiny distinct images and, per layer, |x_i - x_j| of points x on a line (a hand-checkable RDM). */
function content(n: number, layers: string[], storage?: 'inline' | 'sidecar'): StimulusSetContent {
  const size = 2;
  const images = Array.from({ length: n }, (_, k) =>
    Uint8Array.from({ length: 12 }, (_, i) => (k * 13 + i * 97) % 256),
  );
  const rdms = layers.map((_, l) => {
    const x = Array.from({ length: n }, (_, i) => Math.sin(i * (l + 1.3)) * 3);
    const r: number[] = [];
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) r.push(Math.abs(x[i]! - x[j]!));
    return r;
  });
  return {
    images,
    size,
    model: { name: 'test', weightsSha256: 'c'.repeat(64) },
    layers,
    distance: 'euclidean',
    rdms,
    provenance: { backend: 'none', command: 'test', date: '2026-01-01T00:00:00.000Z' },
    ...(storage ? { rdmsStorage: storage } : {}),
  };
}

/** The sidecar as the format page defines it, written with Buffer APIs. */
function sidecarByHand(rdms: number[][]): Buffer {
  const b = Buffer.alloc(4 * rdms.reduce((s, r) => s + r.length, 0));
  let o = 0;
  for (const r of rdms) for (const v of r) o = b.writeFloatLE(v, o);
  return b;
}

function digestByHand(json: { images: { id: string; sha256: string }[]; layers: string[] }, sidecar: Buffer): string {
  const h = createHash('sha256');
  for (const im of json.images) h.update(`${im.id}\n${im.sha256}\n`);
  const per = sidecar.length / json.layers.length;
  json.layers.forEach((layer, l) => {
    h.update(`${layer}\n`);
    h.update(sidecar.subarray(l * per, (l + 1) * per));
  });
  return h.digest('hex');
}

describe('stimulus-set/2 (RDMs in rdms.f32)', () => {
  it('writes the documented sidecar and digest, and the reader gives the float32 values back', async () => {
    const c = content(5, ['conv1', 'pixels'], 'sidecar');
    const out = join(dir, 'small');
    await writeStimulusSet(out, c);
    const json = JSON.parse(readFileSync(join(out, 'stimulus-set.json'), 'utf8'));
    expect(json.schema).toBe('orthostim.stimulus-set/2');
    expect(json.rdms).toBeUndefined();
    const bytes = readFileSync(join(out, 'rdms.f32'));
    expect(bytes.equals(sidecarByHand(c.rdms as number[][]))).toBe(true);
    expect(json.rdmsFile).toEqual({
      path: 'rdms.f32',
      sha256: createHash('sha256').update(bytes).digest('hex'),
      dtype: 'float32',
    });
    expect(json.sha256).toBe(digestByHand(json, bytes));
    const loaded = readStimulusSet(out);
    expect(loaded.set.schema).toBe('orthostim.stimulus-set/2');
    loaded.rdms.forEach((r, l) => expect(Array.from(r)).toEqual((c.rdms[l] as number[]).map(Math.fround)));
  });

  it('refuses a sidecar that was changed, and one of the wrong length, naming the file', async () => {
    const out = join(dir, 'tampered');
    await writeStimulusSet(out, content(4, ['a'], 'sidecar'));
    const f = join(out, 'rdms.f32');
    const good = readFileSync(f);
    const bad = Buffer.from(good);
    bad.writeFloatLE(42, 0);
    writeFileSync(f, bad);
    expect(() => readStimulusSet(out)).toThrow(/rdmsFile: rdms\.f32 has SHA-256 [0-9a-f]{64}, the set records/);
    // A consistent hash but a short file: the length check names what was expected.
    const json = JSON.parse(readFileSync(join(out, 'stimulus-set.json'), 'utf8'));
    const short = good.subarray(0, 8);
    writeFileSync(f, short);
    json.rdmsFile.sha256 = createHash('sha256').update(short).digest('hex');
    writeFileSync(join(out, 'stimulus-set.json'), JSON.stringify(json));
    expect(() => readStimulusSet(out)).toThrow(/expected 1 layers x 6 float32 values = 24 bytes, got 8/);
  });

  it('keeps RDMs inline up to 500 images and moves them to the sidecar above', async () => {
    await writeStimulusSet(join(dir, 'n500'), content(500, ['a']));
    await writeStimulusSet(join(dir, 'n501'), content(501, ['a']));
    expect(readStimulusSet(join(dir, 'n500')).set.schema).toBe('orthostim.stimulus-set/1');
    expect(readStimulusSet(join(dir, 'n501')).set.schema).toBe('orthostim.stimulus-set/2');
  });

  it('writes and reads back a 2,000-image set', async () => {
    const c = content(2000, ['conv1', 'inception_4a']);
    const out = join(dir, 'n2000');
    await writeStimulusSet(out, c);
    const P = (2000 * 1999) / 2;
    expect(statSync(join(out, 'rdms.f32')).size).toBe(2 * P * 4);
    // The JSON stays small: images, layers and the layer similarity only.
    expect(statSync(join(out, 'stimulus-set.json')).size).toBeLessThan(2000 * 300);
    const loaded = readStimulusSet(out);
    expect(loaded.set.schema).toBe('orthostim.stimulus-set/2');
    expect(loaded.set.images).toHaveLength(2000);
    expect(loaded.rdms.map((r) => r.length)).toEqual([P, P]);
    for (const [l, k] of [
      [0, 0],
      [0, P - 1],
      [1, 123_457],
      [1, P - 1],
    ] as const)
      expect(loaded.rdms[l]![k]).toBe(Math.fround((c.rdms[l] as number[])[k]!));
  });
});
