import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InputError } from '@orthostim/protocol';
import { listImageFiles } from './image-files';

const made: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'orthostim-files-'));
  made.push(d);
  return d;
}
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('listImageFiles', () => {
  it('lists PNG/JPEG files directly in the folder, sorted by code point, ignoring everything else', () => {
    const dir = tempDir();
    const files = [
      'b.png',
      'a.JPG',
      'c.jpeg',
      'Z.png', // "Z" (U+005A) sorts before "a" (U+0061)
      '\u00e9t\u00e9.png', // é, U+00E9
      '\uff21.png', // fullwidth A, U+FF21
      '\u{1F600}.png', // emoji, U+1F600: after U+FF21 by code point, before it by UTF-16 unit
      '.hidden.png',
      '._b.png',
      'notes.txt',
      'image.png.bak',
      'jpg',
      '.png',
    ];
    for (const f of files) writeFileSync(join(dir, f), 'x');
    mkdirSync(join(dir, 'folder.png'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'inner.png'), 'x');
    const listed = listImageFiles(dir);
    expect(listed.map((p) => basename(p))).toEqual([
      'Z.png',
      'a.JPG',
      'b.png',
      'c.jpeg',
      '\u00e9t\u00e9.png',
      '\uff21.png',
      '\u{1F600}.png',
    ]);
    expect(listed[0]).toBe(join(dir, 'Z.png'));
  });

  it('refuses an empty folder, one without images, a missing folder and a file, naming it', () => {
    const empty = tempDir();
    expect(() => listImageFiles(empty)).toThrow(InputError);
    expect(() => listImageFiles(empty)).toThrow(
      `${empty}: no images found (the folder is empty); expected PNG or JPEG files ending in .png, .jpg, .jpeg`,
    );

    const noImages = tempDir();
    writeFileSync(join(noImages, 'readme.txt'), 'x');
    writeFileSync(join(noImages, '.hidden.png'), 'x');
    expect(() => listImageFiles(noImages)).toThrow(`${noImages}: no images found (none of its 2 entries is one)`);

    expect(() => listImageFiles(join(noImages, 'missing'))).toThrow(
      `${join(noImages, 'missing')}: image folder does not exist`,
    );
    expect(() => listImageFiles(join(noImages, 'readme.txt'))).toThrow('not a folder');
  });
});
