/**
 * `orthostim rdms --ids stem` with several folders, as a user runs it: real photos under new names
 * (symlinks in a temp folder), real BVLC weights, the CLI in a child process.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readStimulusSet } from '@orthostim/protocol/node';
import { GOOGLENET_WEIGHTS, requireShared, runCli } from '@orthostim/test';

const PHOTOS = 'data/photos/natural16';
const tmp = mkdtempSync(join(tmpdir(), 'orthostim-rdms-ids-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function folder(name: string, links: Record<string, string>): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  for (const [as, photo] of Object.entries(links)) symlinkSync(join(requireShared(PHOTOS), photo), join(dir, as));
  return dir;
}

const rdms = (args: string[]) =>
  runCli(['rdms', ...args, '--weights', requireShared(GOOGLENET_WEIGHTS), '--size', '64', '--layers', 'conv1']);

describe('orthostim rdms --ids stem over several folders', () => {
  it('keeps each file stem as the image id, folder after folder in file-name order', async () => {
    const a = folder('a', { 'house.png': 'kodim01.png', 'face.jpg': 'ocelot.jpg' });
    const b = folder('b', { 'chair.png': 'kodim03.png' });
    const out = join(tmp, 'set');
    const res = await rdms([a, b, '--ids', 'stem', '--out', out]);
    expect(res.stderr).not.toMatch(/error/);
    expect(res.code).toBe(0);
    const { set } = readStimulusSet(out);
    expect(set.images.map((i) => [i.id, i.file, i.source])).toEqual([
      ['face', 'images/face.png', 'face.jpg'],
      ['house', 'images/house.png', 'house.png'],
      ['chair', 'images/chair.png', 'chair.png'],
    ]);
    expect(readdirSync(join(out, 'images')).sort()).toEqual(['chair.png', 'face.png', 'house.png']);
  });

  it('numbers the images by default, and refuses a clash of stems with one line naming both files', async () => {
    const c = folder('c', { 'face.png': 'kodim05.png', 'cat.png': 'kodim07.png' });
    const d = folder('d', { 'face.jpg': 'ocelot.jpg' });
    const numbered = await rdms([c, d, '--out', join(tmp, 'numbered')]);
    expect(numbered.code).toBe(0);
    expect(readStimulusSet(join(tmp, 'numbered')).set.images.map((i) => i.id)).toEqual([
      'stim-01',
      'stim-02',
      'stim-03',
    ]);
    const clash = await rdms([c, d, '--ids', 'stem', '--out', join(tmp, 'clash')]);
    expect(clash.code).toBe(2);
    expect(clash.stderr.trim().split('\n')).toEqual([
      `orthostim: error: ${join(c, 'face.png')} and ${join(d, 'face.jpg')} both give the image id "face"; image ids must be unique`,
    ]);
  });
});
