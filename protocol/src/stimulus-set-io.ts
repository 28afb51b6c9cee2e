import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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

export function computeStimulusSetSha256(
  set: Pick<StimulusSet, 'images' | 'layers' | 'rdms'> & Partial<Pick<StimulusSet, 'activationResiduals'>>,
): string {
  return sha256Hex(stimulusSetDigestInput(set));
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
