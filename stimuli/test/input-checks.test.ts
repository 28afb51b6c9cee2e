/**
 * Inputs of the stimulus commands that must never be lost or trusted blindly (issue #14, "Why"
 * items 4, 5 and 7): `rdms <folder>/photos --out <folder> --overwrite` deletes neither the photos
 * nor anything else; weights holding NaN are refused and weights nothing vouches for that are not
 * BVLC GoogLeNet are named in a warning; a resumed synthesis finds the checkpoint's weights, or says
 * clearly why not.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { InputError } from '@orthostim/protocol';
import { GOOGLENET_WEIGHTS, requireShared, runCli } from '@orthostim/test';
import { readRawWeights } from '../src/models/weights-raw';
import { BVLC_GOOGLENET_SHA256 } from '../src/models/weights-digest';
import { checkpointWeights, type CheckpointMeta } from '../src/synthesis/checkpoint';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-stim-inputs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PHOTOS = ['skimage_coffee.png', 'ocelot.jpg', 'kodim23.png'];

describe('rdms --overwrite', () => {
  it('refuses `rdms par/photos --out par --overwrite`: the photos and an unrelated file stay', async () => {
    const par = join(tmp, 'par');
    mkdirSync(join(par, 'photos'), { recursive: true });
    for (const p of PHOTOS) copyFileSync(join(requireShared('data/photos/natural16'), p), join(par, 'photos', p));
    writeFileSync(join(par, 'unrelated.txt'), 'keep me');
    const args = [
      'rdms',
      join(par, 'photos'),
      '--out',
      par,
      '--overwrite',
      '--weights',
      requireShared(GOOGLENET_WEIGHTS),
    ];
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(
      `${par}: holds ${join(par, 'photos')}, an input of this command; --overwrite would delete it`,
    );
    // Without the photos inside, it is still not a folder orthostim wrote: it names what it would delete.
    const other = join(tmp, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'unrelated.txt'), 'keep me');
    const r2 = await runCli([
      'rdms',
      join(par, 'photos'),
      '--out',
      other,
      '--overwrite',
      '--weights',
      requireShared(GOOGLENET_WEIGHTS),
    ]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain(
      `not a folder orthostim wrote (no .orthostim-output); --overwrite would delete ${join(other, 'unrelated.txt')}`,
    );
    for (const p of PHOTOS) expect(existsSync(join(par, 'photos', p))).toBe(true);
    expect(readFileSync(join(par, 'unrelated.txt'), 'utf8')).toBe('keep me');
    expect(readFileSync(join(other, 'unrelated.txt'), 'utf8')).toBe('keep me');
  });
});

describe('weights integrity on load', () => {
  /** A copy of the BVLC weights folder without the SHA256SUMS of ../shared beside it. */
  function copyWeights(name: string): string {
    const dir = join(tmp, name, 'weights');
    cpSync(requireShared(GOOGLENET_WEIGHTS), dir, { recursive: true });
    return dir;
  }
  const FILTER = 'inception_4a/3x3_filter.bin';

  it('the BVLC weights load silently; one flipped byte without SHA256SUMS warns naming both digests', () => {
    const dir = copyWeights('flipped');
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(readRawWeights(dir).sha256).toBe(BVLC_GOOGLENET_SHA256);
      expect(stderr).not.toHaveBeenCalled();
      const f = join(dir, FILTER);
      const b = readFileSync(f);
      b[1001] = b[1001]! ^ 0x01; // the lowest mantissa bit: still a finite float
      writeFileSync(f, b);
      const w = readRawWeights(dir);
      expect(w.sha256).not.toBe(BVLC_GOOGLENET_SHA256);
      const text = stderr.mock.calls.map((c) => String(c[0])).join('');
      expect(text).toContain(
        `warning: ${dir}: weights digest ${w.sha256} is not the BVLC GoogLeNet's (${BVLC_GOOGLENET_SHA256})`,
      );
      expect(text).toContain('no SHA256SUMS');
    } finally {
      stderr.mockRestore();
    }
  });

  it('a NaN in a filter is refused on load, naming the layer', () => {
    const dir = copyWeights('nan');
    const f = join(dir, FILTER);
    const b = readFileSync(f);
    b.writeFloatLE(Number.NaN, 4 * 123);
    writeFileSync(f, b);
    expect(() => readRawWeights(dir)).toThrow(InputError);
    expect(() => readRawWeights(dir)).toThrow(
      /inception_4a\/3x3 filter holds NaN at value \d+; weights must be finite/,
    );
  });
});

describe('synthesis checkpoint: where the weights were found', () => {
  const meta = (path: string) =>
    ({ weightsSha256: BVLC_GOOGLENET_SHA256, weights: { path, kind: 'raw' } }) as unknown as CheckpointMeta;

  it('reuses the recorded weights when they are still there', () => {
    const found = checkpointWeights(meta(requireShared(GOOGLENET_WEIGHTS)), 'run');
    expect(found).toEqual({ kind: 'raw', path: requireShared(GOOGLENET_WEIGHTS), origin: 'checkpoint' });
  });

  it('says clearly when they are gone, naming the path and the digest to look for', () => {
    const gone = join(tmp, 'moved-away', 'weights');
    expect(() => checkpointWeights(meta(gone), 'run')).toThrow(
      `--resume run: the run's weights ${gone} are gone; pass --weights with the same weights (SHA-256 ${BVLC_GOOGLENET_SHA256})`,
    );
  });
});
