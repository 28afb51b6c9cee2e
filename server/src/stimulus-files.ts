import { dirname } from 'node:path';
import { InputError } from '@orthostim/protocol';
import { realPathInside, type LoadedStimulusSet } from '@orthostim/protocol/node';

/**
 * Every image of the set must be a file inside the set's folder once symlinks are resolved: the
 * server serves these files to the display and copies them into the dataset, so a link to a file
 * elsewhere (`/etc/shadow`, another study's data) is refused before anything is served or copied.
 */
export function checkStimulusFilesInside(loaded: LoadedStimulusSet): void {
  const folder = dirname(loaded.path);
  loaded.imagePaths.forEach((p, i) => {
    if (realPathInside(folder, p) === null)
      throw new InputError(
        `${loaded.path}: image ${i} (${p}) resolves to a file outside the set's folder ${folder} (a symlink?); copy the image into the set`,
      );
  });
}
