/**
 * A stimulus set's images must lie inside its folder (issue #14, "Why" item 6): an image that is a
 * symbolic link leading out of the set (even to a file with the recorded SHA-256) is refused,
 * naming it; a link inside the set is fine.
 */
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTestStimulusSet } from '@orthostim/test';
import { InputError } from './errors';
import { readStimulusSet } from './stimulus-set-io';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-set-links-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('stimulus-set images that are symbolic links', () => {
  it('refuses an image linked to a file outside the set, with or without the image check', async () => {
    const dir = join(tmp, 'set');
    await writeTestStimulusSet(dir, 4, 16);
    mkdirSync(join(tmp, 'elsewhere'));
    const outside = join(tmp, 'elsewhere', 'secret.png');
    renameSync(join(dir, 'images', 'stim-02.png'), outside); // same bytes: the SHA-256 would match
    symlinkSync(outside, join(dir, 'images', 'stim-02.png'));
    for (const checkImages of [true, false]) {
      expect(() => readStimulusSet(dir, { checkImages })).toThrow(InputError);
      expect(() => readStimulusSet(dir, { checkImages })).toThrow(
        `images.1.file: images/stim-02.png is a symbolic link leading out of the set's folder (to ${outside})`,
      );
    }
  });

  it('accepts a link that stays inside the set', async () => {
    const dir = join(tmp, 'set-inside');
    await writeTestStimulusSet(dir, 4, 16);
    mkdirSync(join(dir, 'originals'));
    copyFileSync(join(dir, 'images', 'stim-03.png'), join(dir, 'originals', 'stim-03.png'));
    rmSync(join(dir, 'images', 'stim-03.png'));
    symlinkSync(join(dir, 'originals', 'stim-03.png'), join(dir, 'images', 'stim-03.png'));
    expect(readStimulusSet(dir).imagePaths).toHaveLength(4);
  });
});
