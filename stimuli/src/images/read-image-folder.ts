import { basename } from 'node:path';
import { InputError } from '@orthostim/protocol';
import { listImageFiles } from './image-files';
import { prepareImage } from './prepare-image';

export interface ImageFolder {
  /** Absolute paths, in set order (sorted by file name). */
  files: string[];
  /** File names without folder, in set order. */
  names: string[];
  /** size x size x 3 uint8 RGB per image, in set order. */
  images: Uint8Array[];
  size: number;
}

/** Files decoded at once: sharp runs each on libuv's thread pool; more only adds memory. */
const CONCURRENCY = 4;

export interface ReadImageFolderOptions {
  /** Refuse folders with fewer images, before decoding any (an RDM needs 2). Default 1. */
  minImages?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Read every PNG/JPEG directly in `dir` (see `listImageFiles`) through `prepareImage`. Any file
 * that fails stops the whole read with an InputError naming it. 1,000 images at 224 px are 150 MB.
 */
export async function readImageFolder(
  dir: string,
  size: number,
  options: ReadImageFolderOptions = {},
): Promise<ImageFolder> {
  const files = listImageFiles(dir);
  const min = options.minImages ?? 1;
  if (files.length < min) {
    throw new InputError(
      `${dir}: found ${files.length} image${files.length === 1 ? '' : 's'} (${files.map((f) => basename(f)).join(', ')}); expected at least ${min} PNG or JPEG images`,
    );
  }
  const images: Uint8Array[] = new Array(files.length);
  let done = 0;
  for (let start = 0; start < files.length; start += CONCURRENCY) {
    const chunk = files.slice(start, start + CONCURRENCY);
    const decoded = await Promise.all(chunk.map((f) => prepareImage(f, size)));
    decoded.forEach((img, k) => (images[start + k] = img));
    done += chunk.length;
    options.onProgress?.(done, files.length);
  }
  return { files, names: files.map((f) => basename(f)), images, size };
}
