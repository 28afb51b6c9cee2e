import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError } from './errors';
import { sha256File, sha256Hex } from './files';
import {
  parseStimulusSet,
  stimulusSetV1DigestParts,
  stimulusSetV2DigestParts,
  STIMULUS_SET_FILE,
  type StimulusSet,
  type StimulusSetV1,
  type StimulusSetV2,
} from './stimulus-set';

/** One layer's condensed RDM: float64 from a version-1 file, float32 (as stored) from version 2; NaN where null. */
export type RdmVector = Float64Array | Float32Array;

export interface LoadedStimulusSet {
  /** Absolute path of the stimulus-set.json that was read. */
  path: string;
  /** Folder the image paths are relative to. */
  dir: string;
  set: StimulusSet;
  /** Absolute path of each image, in set order. */
  imagePaths: string[];
  /** Each layer's condensed RDM, in `set.layers` order, whichever version the file is. */
  rdms: RdmVector[];
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

function hashParts(parts: readonly Uint8Array[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** The `sha256` of a version-1 set (see `stimulusSetDigestParts`). */
export function computeStimulusSetSha256(
  set: Pick<StimulusSetV1, 'images' | 'layers' | 'rdms' | 'activationResiduals'>,
): string {
  return hashParts(stimulusSetV1DigestParts(set));
}

/** The `sha256` of a version-2 set whose sidecar holds `sidecar` (see `stimulusSetDigestParts`). */
export function computeStimulusSetV2Sha256(
  set: Pick<StimulusSetV2, 'images' | 'layers' | 'activationResiduals'>,
  sidecar: Uint8Array,
): string {
  const n = set.images.length;
  return hashParts(stimulusSetV2DigestParts(set, sidecar, (n * (n - 1)) / 2));
}

/** Version 2's sidecar bytes: each layer's condensed RDM as float32 little-endian, one after the other. */
export function encodeRdmsSidecar(rdms: readonly ArrayLike<number>[]): Uint8Array {
  const total = rdms.reduce((s, r) => s + r.length, 0);
  const out = new Float32Array(total);
  let off = 0;
  for (const r of rdms) {
    out.set(r, off);
    off += r.length;
  }
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian platforms are not supported');
  return new Uint8Array(out.buffer);
}

function v1Rdms(set: StimulusSetV1): RdmVector[] {
  return set.layers.map((l) => Float64Array.from(set.rdms[l]!, (v) => v ?? Number.NaN));
}

/** Read and check version 2's sidecar: its file hash, its length, and the set's digest over it. */
function v2Rdms(set: StimulusSetV2, path: string, dir: string): RdmVector[] {
  const file = join(dir, set.rdmsFile.path);
  if (!existsSync(file)) throw new InputError(`${path}: rdmsFile.path: ${set.rdmsFile.path} does not exist`);
  const buf = readFileSync(file);
  const h = sha256Hex(buf);
  if (h !== set.rdmsFile.sha256)
    throw new InputError(
      `${path}: rdmsFile: ${set.rdmsFile.path} has SHA-256 ${h}, the set records ${set.rdmsFile.sha256}`,
    );
  const n = set.images.length;
  const P = (n * (n - 1)) / 2;
  let digest: string;
  try {
    digest = computeStimulusSetV2Sha256(set, buf);
  } catch (err) {
    throw new InputError(`${path}: rdmsFile: ${set.rdmsFile.path}: ${(err as Error).message} (${n} images)`);
  }
  if (digest !== set.sha256)
    throw new InputError(`${path}: field sha256: the set's contents hash to ${digest}, the file records ${set.sha256}`);
  // A Float32Array needs a 4-byte aligned offset; small files may come from Node's shared pool.
  const bytes = buf.byteOffset % 4 === 0 ? buf : Buffer.from(buf);
  return set.layers.map((_, l) => new Float32Array(bytes.buffer, bytes.byteOffset + 4 * P * l, P));
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
export function checkImageInsideSet(
  loaded: Pick<LoadedStimulusSet, 'path' | 'dir' | 'set' | 'imagePaths'>,
  i: number,
): string {
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
 * Read and validate a stimulus set of either version. Checks the schema, that every image file
 * exists with the recorded SHA-256 (unless `checkImages` is false), the RDM sidecar of a version-2
 * file, and that the set's own `sha256` matches.
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
  if ('rdmsFile' in set) return { path, dir, set, imagePaths, rdms: v2Rdms(set, path, dir) };
  const digest = computeStimulusSetSha256(set);
  if (digest !== set.sha256)
    throw new InputError(`${path}: field sha256: the set's contents hash to ${digest}, the file records ${set.sha256}`);
  return { path, dir, set, imagePaths, rdms: v1Rdms(set) };
}
