/**
 * Writing a stimulus set (docs/formats/stimulus-set.md): the images as PNG files under `images/`
 * and `stimulus-set.json` pointing at them, with RDMs, the layer x layer similarity, provenance and
 * the set's digest. `orthostim rdms` and `orthostim synthesize` both write through here; the set
 * is validated with the schema before anything is written. Up to INLINE_RDMS_MAX_IMAGES images the
 * RDMs go into the JSON (schema version 1); above, into the float32 sidecar rdms.f32 (version 2).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  INLINE_RDMS_MAX_IMAGES,
  parseStimulusSet,
  STIMULUS_SET_FILE,
  STIMULUS_SET_RDMS_FILE,
  STIMULUS_SET_SCHEMA,
  STIMULUS_SET_SCHEMA_V2,
  type ActivationDistance,
  type StimulusSet,
} from '@orthostim/protocol';
import {
  computeStimulusSetSha256,
  computeStimulusSetV2Sha256,
  encodeRdmsSidecar,
  sha256Hex,
  writeFileAtomic,
} from '@orthostim/protocol/node';
import { pairCount, similarityMatrix } from '@orthostim/rdm';
import { ACTIVATION_RESIDUAL_METHOD, type ActivationResiduals } from './activation-residuals';
import { encodePng } from './images';

export interface StimulusSetContent {
  /** size x size x 3 uint8 RGB per image, in set order (the order of every RDM). */
  images: readonly Uint8Array[];
  size: number;
  /** Original file name of each image, for sets made from existing images (omit for synthesized ones). */
  sources?: readonly string[];
  model: { name: string; weightsSha256: string; format?: string; normalize?: string };
  layers: readonly string[];
  distance: ActivationDistance;
  /** Condensed RDM per layer, in `layers` order. */
  rdms: readonly ArrayLike<number>[];
  provenance: { backend: string; command: string; date?: string };
  synthesis?: Record<string, unknown>;
  /** Image ids in set order (default `stimulusIds(n)`: stim-01, stim-02, ...). */
  ids?: readonly string[];
  /** Where the RDMs go: in the JSON (version 1) or the sidecar (version 2); default: sidecar above INLINE_RDMS_MAX_IMAGES images. */
  rdmsStorage?: 'inline' | 'sidecar';
  /** Activation-residual RDMs (activation-residuals.ts), stored as the set's optional `activationResiduals`. */
  activationResiduals?: ActivationResiduals;
}

export interface WrittenStimulusSet {
  set: StimulusSet;
  /** Each layer's RDM as written (float32 values when in the sidecar), in `set.layers` order. */
  rdms: Float64Array[];
  /** Absolute path of stimulus-set.json. */
  path: string;
  /** Absolute paths of the PNG files, in set order. */
  imagePaths: string[];
}

const ORTHOSTIM_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** `stim-01`, `stim-02`, ...: zero-padded to the digits of n, at least two (so 16 images give stim-01..stim-16). */
export function stimulusIds(n: number): string[] {
  const width = Math.max(2, String(n).length);
  return Array.from({ length: n }, (_, i) => `stim-${String(i + 1).padStart(width, '0')}`);
}

/** The command line as a user could paste it back: arguments with spaces or quotes are single-quoted. */
export function formatCommandLine(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The command line of this process: `orthostim rdms photos --out set`. */
export function currentCommandLine(): string {
  return formatCommandLine(['orthostim', ...process.argv.slice(2)]);
}

/** NaN (a constant pattern or RDM) is stored as null, which JSON can carry. */
function jsonNumbers(values: ArrayLike<number>): (number | null)[] {
  return Array.from(values, (v) => (Number.isNaN(v) ? null : v));
}

/**
 * JSON with two-space indentation, except that arrays of numbers stay on one line: an RDM of
 * 1,000 images is 499,500 numbers, one line each would triple the file and bury the structure.
 */
export function formatStimulusSetJson(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v === 'number'))
      return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
    if (value.length === 0) return '[]';
    const inner = `${indent}  `;
    return `[\n${value.map((v) => inner + formatStimulusSetJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const inner = `${indent}  `;
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatStimulusSetJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The set's `activationResiduals` field from the computed residuals, by layer. */
function residualsJson(
  layers: readonly string[],
  r: ActivationResiduals,
): NonNullable<StimulusSet['activationResiduals']> {
  const byLayer = <T>(values: readonly T[]) => Object.fromEntries(layers.map((l, i) => [l, values[i]!]));
  return {
    method: ACTIVATION_RESIDUAL_METHOD,
    rdms: byLayer(r.rdms.map((v) => jsonNumbers(v))),
    explained: byLayer(r.explained.map((v) => (Number.isFinite(v) ? v : null))),
    penalty: byLayer(r.penalty),
  };
}

export interface BuiltStimulusSet {
  set: StimulusSet;
  /** Each layer's RDM as stored (float32 values with the sidecar), in `set.layers` order. */
  rdms: Float64Array[];
  /** The rdms.f32 bytes of a version-2 set. */
  sidecar?: Uint8Array;
}

function checkContent(content: StimulusSetContent, n: number, nHashes: number): void {
  if (nHashes !== n) throw new RangeError(`buildStimulusSet: ${n} images but ${nHashes} hashes`);
  if (content.ids && content.ids.length !== n)
    throw new RangeError(`buildStimulusSet: ${n} images but ${content.ids.length} ids`);

  if (content.rdms.length !== content.layers.length) {
    throw new RangeError(`buildStimulusSet: ${content.layers.length} layers but ${content.rdms.length} RDMs`);
  }
  content.rdms.forEach((r, l) => {
    if (r.length !== pairCount(n))
      throw new RangeError(
        `buildStimulusSet: RDM of layer ${content.layers[l]} has ${r.length} values; expected ${pairCount(n)} for ${n} images`,
      );
  });
}

/** The RDMs as stored: inline (float64, NaN as null in the JSON) or in the float32 sidecar. */
function storeRdms(content: StimulusSetContent, n: number) {
  const sidecar = (content.rdmsStorage ?? (n > INLINE_RDMS_MAX_IMAGES ? 'sidecar' : 'inline')) === 'sidecar';
  const rdms = content.rdms.map((r) => (sidecar ? Float64Array.from(Float32Array.from(r)) : Float64Array.from(r)));
  return sidecar ? { rdms, sidecar: encodeRdmsSidecar(rdms) } : { rdms };
}

/**
 * The stimulus-set.json object for `content` whose PNG files hash to `imageSha256`, and the
 * sidecar's bytes for a version-2 set (pure: no I/O). Throws an Error naming the field when the
 * result does not validate (a programming error here).
 */
export function buildStimulusSet(content: StimulusSetContent, imageSha256: readonly string[]): BuiltStimulusSet {
  const n = content.images.length;
  checkContent(content, n, imageSha256.length);
  const ids = content.ids ?? stimulusIds(n);
  const stored = storeRdms(content, n);
  const images = ids.map((id, i) => ({
    id,
    file: `images/${id}.png`,
    sha256: imageSha256[i]!,
    ...(content.sources?.[i] !== undefined ? { source: content.sources[i] } : {}),
  }));
  const layers = [...content.layers];
  const inline = Object.fromEntries(layers.map((layer, l) => [layer, jsonNumbers(stored.rdms[l]!)]));
  const body = {
    images,
    model: {
      name: content.model.name,
      weightsSha256: content.model.weightsSha256,
      inputSize: content.size,
      ...(content.model.format ? { format: content.model.format } : {}),
      ...(content.model.normalize ? { normalize: content.model.normalize } : {}),
    },
    layers,
    distance: content.distance,
    ...(stored.sidecar
      ? { rdmsFile: { path: STIMULUS_SET_RDMS_FILE, sha256: sha256Hex(stored.sidecar), dtype: 'float32' } }
      : { rdms: inline }),
    layerSimilarity: {
      pearson: similarityMatrix(stored.rdms, 'pearson').map(jsonNumbers),
      spearman: similarityMatrix(stored.rdms, 'spearman').map(jsonNumbers),
    },
    provenance: {
      orthostim: ORTHOSTIM_VERSION,
      backend: content.provenance.backend,
      date: content.provenance.date ?? new Date().toISOString(),
      command: content.provenance.command,
      node: process.version,
    },
    ...(content.synthesis ? { synthesis: content.synthesis } : {}),
    ...(content.activationResiduals
      ? { activationResiduals: residualsJson(content.layers, content.activationResiduals) }
      : {}),
  };
  const residuals = body.activationResiduals ? { activationResiduals: body.activationResiduals } : {};
  const set = stored.sidecar
    ? {
        schema: STIMULUS_SET_SCHEMA_V2,
        sha256: computeStimulusSetV2Sha256({ images, layers, ...residuals }, stored.sidecar),
        ...body,
      }
    : {
        schema: STIMULUS_SET_SCHEMA,
        sha256: computeStimulusSetSha256({ images, layers, rdms: inline, ...residuals }),
        ...body,
      };
  try {
    return { set: parseStimulusSet(set, 'buildStimulusSet'), ...stored };
  } catch (err) {
    throw new Error(`buildStimulusSet produced an invalid stimulus set: ${(err as Error).message}`);
  }
}

/**
 * Write the images to `<dir>/images/<id>.png`, a version-2 set's RDMs to `<dir>/rdms.f32`, and the
 * set to `<dir>/stimulus-set.json` (each file
 * atomically; wrap the call in `buildOutputDir` to make the whole folder atomic). The set is built
 * and validated before any file is written.
 */
export async function writeStimulusSet(dir: string, content: StimulusSetContent): Promise<WrittenStimulusSet> {
  const pngs: Buffer[] = [];
  for (const rgb of content.images) pngs.push(await encodePng(rgb, content.size));
  const built = buildStimulusSet(
    content,
    pngs.map((png) => sha256Hex(png)),
  );
  const { set } = built;
  const imagePaths = set.images.map((img, i) => {
    const file = join(dir, img.file);
    writeFileAtomic(file, pngs[i]!);
    return file;
  });
  if (built.sidecar) writeFileAtomic(join(dir, STIMULUS_SET_RDMS_FILE), built.sidecar);
  const path = join(dir, STIMULUS_SET_FILE);
  writeFileAtomic(path, `${formatStimulusSetJson(set)}\n`);
  return { set, rdms: built.rdms, path, imagePaths };
}
