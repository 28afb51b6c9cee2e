import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError } from './errors';
import { sha256File, sha256Hex } from './files';
import { parseStimulusSet, stimulusSetDigestInput, STIMULUS_SET_FILE, type StimulusSet } from './stimulus-set';

export interface LoadedStimulusSet {
  /** Absolute path of the stimulus-set.json that was read. */
  path: string;
  /** Folder the image paths are relative to. */
  dir: string;
  set: StimulusSet;
  /** Absolute path of each image, in set order. */
  imagePaths: string[];
}

/** `--stimuli` takes a stimulus-set.json file or the folder holding it, everywhere. */
export function resolveStimulusSetPath(fileOrDir: string): string {
  const p = resolve(fileOrDir);
  if (!existsSync(p))
    throw new InputError(
      `--stimuli: ${fileOrDir} does not exist (expected a ${STIMULUS_SET_FILE} file or the folder holding it)`,
    );
  if (statSync(p).isDirectory()) {
    const f = join(p, STIMULUS_SET_FILE);
    if (!existsSync(f)) throw new InputError(`--stimuli: ${fileOrDir} is a folder without a ${STIMULUS_SET_FILE}`);
    return f;
  }
  return p;
}

export function computeStimulusSetSha256(set: Pick<StimulusSet, 'images' | 'layers' | 'rdms'>): string {
  return sha256Hex(stimulusSetDigestInput(set));
}

/**
 * Every image must be a file inside the set's folder: one that is a symbolic link (or lies in a
 * linked folder) leading out of it is refused, naming it, so that nothing outside the set is
 * copied into a dataset or served as a stimulus. Images that do not exist are left to the caller.
 */
function refuseImagesOutside(path: string, dir: string, set: StimulusSet, imagePaths: string[]): void {
  set.images.forEach((_, i) => {
    if (existsSync(imagePaths[i]!)) checkImageInsideSet({ path, dir, set, imagePaths }, i);
  });
}

/**
 * Image `i` of a loaded set, checked again right before it is used (copied into a dataset): a
 * file inside the set's folder, whatever symbolic links lead to it. Returns its path.
 */
export function checkImageInsideSet(loaded: LoadedStimulusSet, i: number): string {
  const img = loaded.set.images[i]!;
  const p = loaded.imagePaths[i]!;
  const real = realpathSync(p);
  const rel = relative(realpathSync(loaded.dir), real);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
    throw new InputError(
      `${loaded.path}: images.${i}.file: ${img.file} is a symbolic link leading out of the set's folder (to ${real}); copy the image into ${loaded.dir}`,
    );
  if (!statSync(real).isFile()) throw new InputError(`${loaded.path}: images.${i}.file: ${img.file} is not a file`);
  return p;
}

/**
 * Read and validate a stimulus set. Checks the schema, that every image file exists with the
 * recorded SHA-256 (unless `checkImages` is false), and that the set's own `sha256` matches.
 */
export function readStimulusSet(fileOrDir: string, options: { checkImages?: boolean } = {}): LoadedStimulusSet {
  const path = resolveStimulusSetPath(fileOrDir);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  const set = parseStimulusSet(json, path);
  const dir = dirname(path);
  const imagePaths = set.images.map((img) => join(dir, img.file));
  refuseImagesOutside(path, dir, set, imagePaths);
  if (options.checkImages !== false) {
    set.images.forEach((img, i) => {
      const p = imagePaths[i]!;
      if (!existsSync(p)) throw new InputError(`${path}: images.${i}.file: ${img.file} does not exist`);
      const h = sha256File(p);
      if (h !== img.sha256)
        throw new InputError(`${path}: images.${i}: ${img.file} has SHA-256 ${h}, the set records ${img.sha256}`);
    });
  }
  const digest = computeStimulusSetSha256(set);
  if (digest !== set.sha256)
    throw new InputError(`${path}: field sha256: the set's contents hash to ${digest}, the file records ${set.sha256}`);
  return { path, dir, set, imagePaths };
}
