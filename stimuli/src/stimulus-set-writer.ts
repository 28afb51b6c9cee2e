/**
 * Writing a stimulus set (docs/formats/stimulus-set.md): the images as PNG files under `images/`
 * and `stimulus-set.json` pointing at them, with RDMs, the layer x layer similarity, provenance and
 * the set's digest. `orthostim rdms` and `orthostim synthesize` both write through here; the set
 * is validated with the schema before anything is written.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseStimulusSet,
  STIMULUS_SET_FILE,
  STIMULUS_SET_SCHEMA,
  type ActivationDistance,
  type StimulusSet,
} from '@orthostim/protocol';
import { computeStimulusSetSha256, sha256Hex, writeFileAtomic } from '@orthostim/protocol/node';
import { pairCount, similarityMatrix } from '@orthostim/rdm';
import { ACTIVATION_RESIDUAL_METHOD, type ActivationResiduals } from './activation-residuals';
import { encodePng } from './images';

export interface StimulusSetContent {
  /** size x size x 3 uint8 RGB per image, in set order (the order of every RDM). */
  images: readonly Uint8Array[];
  size: number;
  /** Original file name of each image, for sets made from existing images (omit for synthesized ones). */
  sources?: readonly string[];
  model: { name: string; weightsSha256: string; format?: string };
  layers: readonly string[];
  distance: ActivationDistance;
  /** Condensed RDM per layer, in `layers` order. */
  rdms: readonly ArrayLike<number>[];
  provenance: { backend: string; command: string; date?: string };
  synthesis?: Record<string, unknown>;
  /** Activation-residual RDMs (activation-residuals.ts), stored as the set's optional `activationResiduals`. */
  activationResiduals?: ActivationResiduals;
}

export interface WrittenStimulusSet {
  set: StimulusSet;
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

/**
 * The stimulus-set.json object for `content` whose PNG files hash to `imageSha256` (pure: no I/O).
 * Throws an Error naming the field when the result does not validate (a programming error here).
 */
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

export function buildStimulusSet(content: StimulusSetContent, imageSha256: readonly string[]): StimulusSet {
  const n = content.images.length;
  const ids = stimulusIds(n);
  if (imageSha256.length !== n) throw new RangeError(`buildStimulusSet: ${n} images but ${imageSha256.length} hashes`);
  if (content.rdms.length !== content.layers.length) {
    throw new RangeError(`buildStimulusSet: ${content.layers.length} layers but ${content.rdms.length} RDMs`);
  }
  content.rdms.forEach((r, l) => {
    if (r.length !== pairCount(n))
      throw new RangeError(
        `buildStimulusSet: RDM of layer ${content.layers[l]} has ${r.length} values; expected ${pairCount(n)} for ${n} images`,
      );
  });
  const rdmVectors = content.rdms.map((r) => Float64Array.from(r));
  const images = ids.map((id, i) => ({
    id,
    file: `images/${id}.png`,
    sha256: imageSha256[i]!,
    ...(content.sources?.[i] !== undefined ? { source: content.sources[i] } : {}),
  }));
  const rdms = Object.fromEntries(content.layers.map((layer, l) => [layer, jsonNumbers(rdmVectors[l]!)]));
  const body = {
    images,
    model: {
      name: content.model.name,
      weightsSha256: content.model.weightsSha256,
      inputSize: content.size,
      ...(content.model.format ? { format: content.model.format } : {}),
    },
    layers: [...content.layers],
    distance: content.distance,
    rdms,
    layerSimilarity: {
      pearson: similarityMatrix(rdmVectors, 'pearson').map(jsonNumbers),
      spearman: similarityMatrix(rdmVectors, 'spearman').map(jsonNumbers),
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
  const set = {
    schema: STIMULUS_SET_SCHEMA,
    sha256: computeStimulusSetSha256({
      images,
      layers: body.layers,
      rdms,
      ...(body.activationResiduals ? { activationResiduals: body.activationResiduals } : {}),
    }),
    ...body,
  };
  try {
    return parseStimulusSet(set, 'buildStimulusSet');
  } catch (err) {
    throw new Error(`buildStimulusSet produced an invalid stimulus set: ${(err as Error).message}`);
  }
}

/**
 * Write the images to `<dir>/images/<id>.png` and the set to `<dir>/stimulus-set.json` (each file
 * atomically; wrap the call in `buildOutputDir` to make the whole folder atomic). The set is built
 * and validated before any file is written.
 */
export async function writeStimulusSet(dir: string, content: StimulusSetContent): Promise<WrittenStimulusSet> {
  const pngs: Buffer[] = [];
  for (const rgb of content.images) pngs.push(await encodePng(rgb, content.size));
  const set = buildStimulusSet(
    content,
    pngs.map((png) => sha256Hex(png)),
  );
  const imagePaths = set.images.map((img, i) => {
    const file = join(dir, img.file);
    writeFileAtomic(file, pngs[i]!);
    return file;
  });
  const path = join(dir, STIMULUS_SET_FILE);
  writeFileAtomic(path, `${formatStimulusSetJson(set)}\n`);
  return { set, path, imagePaths };
}
