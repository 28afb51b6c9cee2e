/**
 * Which files of a folder are images: regular files directly in it (no recursion) whose name ends
 * in .png, .jpg or .jpeg (any case) and does not start with "." (hidden files, macOS `._` forks).
 * Sorted by file name in Unicode code-point order, which is the order of every RDM of the set.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '@orthostim/protocol';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

export function isImageFileName(name: string): boolean {
  if (name.startsWith('.')) return false;
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext) && lower.length > ext.length);
}

/**
 * Compare by Unicode code point. JavaScript's default sort compares UTF-16 code units, which puts
 * astral characters (emoji, U+10000 and up) before U+E000-U+FFFF; UTF-8 byte order is code-point
 * order, and it is what `ls` with LC_ALL=C shows.
 */
export function compareCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Absolute paths of the images directly in `dir`, sorted by name. Throws when there are none. */
export function listImageFiles(dir: string): string[] {
  if (!existsSync(dir)) throw new InputError(`${dir}: image folder does not exist`);
  if (!statSync(dir).isDirectory())
    throw new InputError(`${dir}: not a folder; expected a folder of PNG or JPEG images`);
  const entries = readdirSync(dir);
  const names = entries
    .filter((name) => isImageFileName(name) && statSync(join(dir, name)).isFile())
    .sort(compareCodePoints);
  if (names.length === 0) {
    const what = entries.length === 0 ? 'the folder is empty' : `none of its ${entries.length} entries is one`;
    throw new InputError(
      `${dir}: no images found (${what}); expected PNG or JPEG files ending in ${IMAGE_EXTENSIONS.join(', ')}`,
    );
  }
  return names.map((name) => join(dir, name));
}
