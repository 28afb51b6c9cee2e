import { createHash } from 'node:crypto';
import { writeFileSync, mkdirSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseStimulusSet, stimulusSetDigestInput, STIMULUS_SET_SCHEMA, type StimulusSetV1 } from './stimulus-set';
import { computeStimulusSetSha256, readStimulusSet, resolveStimulusSetPath } from './stimulus-set-io';
import { buildOutputDir } from './files';
import { InputError } from './errors';
import { testTempDir } from '@orthostim/test';

const hex = (s: string) => createHash('sha256').update(s).digest('hex');

function makeSet(n = 3): StimulusSetV1 {
  const images = Array.from({ length: n }, (_, i) => ({
    id: `stim-0${i + 1}`,
    file: `images/stim-0${i + 1}.png`,
    sha256: hex(`img${i}`),
  }));
  const pairs = (n * (n - 1)) / 2;
  const rdms = {
    conv1: Array.from({ length: pairs }, (_, k) => 0.1 * (k + 1)),
    pixels: Array.from({ length: pairs }, (_, k) => 1 - 0.2 * k),
  };
  const set: StimulusSetV1 = {
    schema: STIMULUS_SET_SCHEMA,
    sha256: '0'.repeat(64),
    images,
    model: { name: 'bvlc-googlenet', weightsSha256: hex('w'), inputSize: 224 },
    layers: ['conv1', 'pixels'],
    distance: 'correlation',
    rdms,
    layerSimilarity: {
      pearson: [
        [1, -1],
        [-1, 1],
      ],
      spearman: [
        [1, -1],
        [-1, 1],
      ],
    },
    provenance: { orthostim: '0.1.0', backend: 'wasm', date: '2026-11-26T00:00:00Z', command: 'orthostim rdms x' },
  };
  set.sha256 = computeStimulusSetSha256(set);
  return set;
}

describe('stimulus-set.json schema', () => {
  it('accepts a well-formed set', () => {
    const set = makeSet();
    expect(parseStimulusSet(JSON.parse(JSON.stringify(set)), 'x.json').images).toHaveLength(3);
  });

  it('names the file and the field of the first problem', () => {
    const set = makeSet() as unknown as Record<string, unknown>;
    (set.rdms as Record<string, number[]>).conv1 = [0.1, 0.2];
    expect(() => parseStimulusSet(set, 'a/stimulus-set.json')).toThrow(
      /a\/stimulus-set\.json: field rdms\.conv1: expected 3 values/,
    );
    const bad = makeSet() as unknown as { images: { file: string }[] };
    bad.images[0]!.file = '../../etc/passwd';
    expect(() => parseStimulusSet(bad, 's.json')).toThrow(/images\.0\.file/);
    const badSchema = { ...makeSet(), schema: 'orthostim.stimulus-set/2' };
    expect(() => parseStimulusSet(badSchema, 's.json')).toThrow(InputError);
  });

  it('rejects duplicate ids and a similarity matrix of the wrong size', () => {
    const dup = makeSet();
    dup.images[1]!.id = dup.images[0]!.id;
    expect(() => parseStimulusSet(dup, 's.json')).toThrow(/duplicate image id/);
    const sq = makeSet();
    sq.layerSimilarity.pearson = [[1]];
    expect(() => parseStimulusSet(sq, 's.json')).toThrow(/layerSimilarity\.pearson: expected a 2 x 2/);
  });

  it('digest input follows the documented byte layout', () => {
    const set = makeSet(2);
    const bytes = stimulusSetDigestInput(set);
    // Independent construction with Buffer APIs: "id\nsha\n" per image, then "layer\n" + float64 LE values.
    const parts: Buffer[] = [];
    for (const img of set.images) parts.push(Buffer.from(`${img.id}\n${img.sha256}\n`, 'utf8'));
    for (const layer of set.layers) {
      parts.push(Buffer.from(`${layer}\n`, 'utf8'));
      for (const v of set.rdms[layer]!) {
        const b = Buffer.alloc(8);
        b.writeDoubleLE(v as number);
        parts.push(b);
      }
    }
    expect(Buffer.from(bytes).equals(Buffer.concat(parts))).toBe(true);
  });
});

describe('readStimulusSet', () => {
  function writeSet(): string {
    const dir = testTempDir('oset-');
    mkdirSync(join(dir, 'images'));
    const set = makeSet();
    set.images.forEach((img, i) => {
      const content = `png-bytes-${i}`;
      writeFileSync(join(dir, img.file), content);
      img.sha256 = hex(content);
    });
    set.sha256 = computeStimulusSetSha256(set);
    writeFileSync(join(dir, 'stimulus-set.json'), JSON.stringify(set));
    return dir;
  }

  it('accepts the folder or the file, and checks image and set hashes', () => {
    const dir = writeSet();
    expect(resolveStimulusSetPath(dir)).toBe(join(dir, 'stimulus-set.json'));
    const loaded = readStimulusSet(join(dir, 'stimulus-set.json'));
    expect(loaded.imagePaths[2]).toBe(join(dir, 'images', 'stim-03.png'));
    writeFileSync(join(dir, 'images', 'stim-02.png'), 'tampered');
    expect(() => readStimulusSet(dir)).toThrow(
      /images\.1: images\/stim-02\.png has SHA-256 [0-9a-f]{64}, the set records/,
    );
  });

  it('detects a set whose RDMs were edited without updating sha256', () => {
    const dir = writeSet();
    const json = JSON.parse(readFileSync(join(dir, 'stimulus-set.json'), 'utf8'));
    json.rdms.conv1[0] = 0.5;
    writeFileSync(join(dir, 'stimulus-set.json'), JSON.stringify(json));
    expect(() => readStimulusSet(dir)).toThrow(/field sha256: the set's contents hash to/);
  });

  it('reports a missing path and a folder without the file', () => {
    expect(() => readStimulusSet('/nonexistent/x')).toThrow(/--stimuli: \/nonexistent\/x does not exist/);
    const empty = testTempDir('oset-');
    expect(() => readStimulusSet(empty)).toThrow(/is a folder without a stimulus-set\.json/);
  });
});

describe('buildOutputDir', () => {
  it('leaves nothing behind when filling fails', async () => {
    const parent = testTempDir('oout-');
    const out = join(parent, 'result');
    await expect(
      buildOutputDir(out, (staging) => {
        writeFileSync(join(staging, 'half.txt'), 'x');
        throw new InputError('boom');
      }),
    ).rejects.toThrow('boom');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
  });

  it('refuses a non-empty folder without overwrite and replaces it with', async () => {
    const parent = testTempDir('oout-');
    const out = join(parent, 'result');
    await buildOutputDir(out, (s) => writeFileSync(join(s, 'a.txt'), '1'));
    await expect(buildOutputDir(out, (s) => writeFileSync(join(s, 'b.txt'), '2'))).rejects.toThrow(
      /exists and is not empty.*--overwrite/,
    );
    expect(readdirSync(out)).toEqual(['.orthostim-output', 'a.txt']);
    await buildOutputDir(out, (s) => writeFileSync(join(s, 'b.txt'), '2'), { overwrite: true });
    expect(readdirSync(out)).toEqual(['.orthostim-output', 'b.txt']);
    expect(readdirSync(parent)).toEqual(['result']);
  });
});
