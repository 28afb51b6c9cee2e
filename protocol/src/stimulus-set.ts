import { z } from 'zod';
import { InputError } from './errors';

/**
 * stimulus-set.json: the project's central file format. Synthesis and `orthostim rdms` write it;
 * the session server and analysis read it. Documented in docs/formats/stimulus-set.md; the JSON
 * Schema in docs/formats/stimulus-set.schema.json is generated from these zod schemas.
 *
 * The order of `images` is the order of every RDM. RDMs are stored as the upper triangle without
 * the diagonal, row-major: (0,1), (0,2), ..., (0,n-1), (1,2), ..., length n(n-1)/2. Version 1
 * holds them in the JSON (`rdms`); version 2, written above INLINE_RDMS_MAX_IMAGES images, in a
 * binary sidecar (`rdmsFile`: float32 little-endian, the layers one after the other in `layers`
 * order). Everything else is the same in both versions.
 */
export const STIMULUS_SET_SCHEMA = 'orthostim.stimulus-set/1';
export const STIMULUS_SET_SCHEMA_V2 = 'orthostim.stimulus-set/2';
export const STIMULUS_SET_FILE = 'stimulus-set.json';
/** File name of version 2's RDM sidecar, beside stimulus-set.json. */
export const STIMULUS_SET_RDMS_FILE = 'rdms.f32';
/** Writers keep RDMs inline (version 1) up to this many images, and use the sidecar (version 2) above. */
export const INLINE_RDMS_MAX_IMAGES = 500;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256 (64 characters)');
/** What an image id may be: it names the image's file and goes into BIDS events. */
export const IMAGE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const IMAGE_ID_RULE_TEXT = '1-64 letters, digits, "_" or "-", starting with a letter or digit';
const imageId = z.string().regex(IMAGE_ID_PATTERN, IMAGE_ID_RULE_TEXT);
/** A relative path inside the set's folder: no absolute paths, no `..`, no backslashes. */
const relativeFile = z
  .string()
  .min(1)
  .refine(
    (p) =>
      !p.startsWith('/') &&
      !p.includes('\\') &&
      !/^[A-Za-z]:/.test(p) &&
      !p.split('/').some((s) => s === '..' || s === ''),
    'a relative path inside the set folder (no "..", no leading "/")',
  );
const squareMatrix = z.array(z.array(z.number().nullable()));

export const stimulusImageSchema = z.strictObject({
  id: imageId,
  file: relativeFile,
  sha256: sha256Hex,
  /** Where the image came from (original file name), when it was not synthesized. */
  source: z.string().optional(),
});

const commonFields = {
  /** SHA-256 over image hashes and RDMs; see `stimulusSetDigestParts`. */
  sha256: sha256Hex,
  images: z.array(stimulusImageSchema).min(2),
  model: z.strictObject({
    name: z.string().min(1),
    weightsSha256: sha256Hex,
    inputSize: z.number().int().positive(),
    /** How the weights were loaded (raw, onnx, cache, onnx-graph, tfjs-layers, tfjs-graph). */
    format: z.string().optional(),
    /** The input convention of a network other than GoogLeNet (imagenet, caffe, none). */
    normalize: z.string().optional(),
  }),
  layers: z.array(z.string().min(1)).min(1),
  distance: z.enum(['correlation', 'euclidean', 'cosine']),
  layerSimilarity: z.strictObject({ pearson: squareMatrix, spearman: squareMatrix }),
  provenance: z.strictObject({
    orthostim: z.string(),
    backend: z.string(),
    date: z.string(),
    command: z.string(),
    node: z.string().optional(),
  }),
  /** Written by `orthostim synthesize`: settings, seed, loss history, before/after matrices. */
  synthesis: z.record(z.string(), z.unknown()).optional(),
  /**
   * Optional, written by `orthostim rdms`: per layer, the RDM of its activations with what the
   * other layers' activations predict removed (the `activation` residual variant; docs/residual.md).
   */
  activationResiduals: z
    .strictObject({
      /** How the prediction was made, e.g. "kernel ridge, leave-one-image-out". */
      method: z.string(),
      rdms: z.record(z.string(), z.array(z.number().nullable())),
      /** Per layer: the share of its activations' variance the other layers predict (cross-validated). */
      explained: z.record(z.string(), z.number().nullable()).optional(),
      /** Per layer: the ridge penalty chosen, relative to the mean of the other layers' kernel diagonal. */
      penalty: z.record(z.string(), z.number()).optional(),
    })
    .optional(),
};

type CommonSet = {
  images: { id: string }[];
  layers: string[];
  layerSimilarity: Record<string, unknown[][]>;
  activationResiduals?: { rdms: Record<string, unknown[]> };
};

/** Checks both versions share: unique image ids and layers, L x L layer similarity. */
function checkCommon(set: CommonSet, ctx: z.RefinementCtx): void {
  const ids = new Set<string>();
  set.images.forEach((img, i) => {
    if (ids.has(img.id))
      ctx.addIssue({ code: 'custom', path: ['images', i, 'id'], message: `duplicate image id "${img.id}"` });
    ids.add(img.id);
  });
  const L = set.layers.length;
  const pairs = (set.images.length * (set.images.length - 1)) / 2;
  const residual = set.activationResiduals?.rdms;
  for (const layer of residual ? set.layers : []) {
    const rdm = residual![layer];
    if (!rdm || rdm.length !== pairs)
      ctx.addIssue({
        code: 'custom',
        path: ['activationResiduals', 'rdms', layer],
        message: rdm ? `expected ${pairs} values, got ${rdm.length}` : `missing RDM for layer "${layer}"`,
      });
  }
  if (new Set(set.layers).size !== L)
    ctx.addIssue({ code: 'custom', path: ['layers'], message: 'layer names must be unique' });
  for (const kind of ['pearson', 'spearman'] as const) {
    const m = set.layerSimilarity[kind]!;
    if (m.length !== L || m.some((row) => row.length !== L))
      ctx.addIssue({ code: 'custom', path: ['layerSimilarity', kind], message: `expected a ${L} x ${L} matrix` });
  }
}

export const stimulusSetV1Schema = z
  .strictObject({
    schema: z.literal(STIMULUS_SET_SCHEMA),
    ...commonFields,
    rdms: z.record(z.string(), z.array(z.number().nullable())),
  })
  .superRefine((set, ctx) => {
    checkCommon(set, ctx);
    const n = set.images.length;
    const pairs = (n * (n - 1)) / 2;
    for (const layer of set.layers) {
      const rdm = set.rdms[layer];
      if (!rdm) ctx.addIssue({ code: 'custom', path: ['rdms', layer], message: `missing RDM for layer "${layer}"` });
      else if (rdm.length !== pairs)
        ctx.addIssue({
          code: 'custom',
          path: ['rdms', layer],
          message: `expected ${pairs} values (n(n-1)/2 for ${n} images), got ${rdm.length}`,
        });
    }
    for (const key of Object.keys(set.rdms)) {
      if (!set.layers.includes(key))
        ctx.addIssue({ code: 'custom', path: ['rdms', key], message: `"${key}" is not in layers` });
    }
  });

/** Version 2's reference to the RDM sidecar. */
export const rdmsFileSchema = z.strictObject({
  /** Relative to the set's folder (writers use STIMULUS_SET_RDMS_FILE). */
  path: relativeFile,
  /** SHA-256 of the sidecar file's bytes. */
  sha256: sha256Hex,
  dtype: z.literal('float32'),
});

export const stimulusSetV2Schema = z
  .strictObject({
    schema: z.literal(STIMULUS_SET_SCHEMA_V2),
    ...commonFields,
    /** float32 little-endian: for each layer in `layers` order, its n(n-1)/2 condensed values. */
    rdmsFile: rdmsFileSchema,
  })
  .superRefine(checkCommon);

export const stimulusSetSchema = z.discriminatedUnion('schema', [stimulusSetV1Schema, stimulusSetV2Schema]);

export type StimulusImage = z.infer<typeof stimulusImageSchema>;
export type StimulusSetV1 = z.infer<typeof stimulusSetV1Schema>;
export type StimulusSetV2 = z.infer<typeof stimulusSetV2Schema>;
/** Either version; `rdms` (v1) or `rdmsFile` (v2). Read RDMs through `LoadedStimulusSet.rdms`. */
export type StimulusSet = StimulusSetV1 | StimulusSetV2;
export type ActivationDistance = StimulusSet['distance'];

/**
 * Validate parsed JSON as a stimulus set. `source` names the file in the error, which reports the
 * first problem as one line: file, field path, what was expected.
 */
export function parseStimulusSet(json: unknown, source: string): StimulusSet {
  const result = stimulusSetSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
    const extra = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problems)` : '';
    throw new InputError(`${source}: field ${path}: ${issue.message}${extra}`);
  }
  return result.data;
}

function assertLittleEndian(): void {
  // Typed arrays are platform-endian; every platform Node runs on is little-endian, checked here.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian platforms are not supported');
}

/**
 * The byte parts the set's `sha256` is computed over (in order), so any tool can recompute it:
 * for each image in order, UTF-8 `"<id>\n<sha256>\n"`; then for each layer in order, UTF-8
 * `"<layer>\n"` followed by its RDM's bytes: version 1, the values as float64 little-endian (null,
 * i.e. NaN, as NaN); version 2, the layer's float32 little-endian bytes as stored in the sidecar;
 * then, only in sets that hold them, `"activation-residual <layer>\n"` and that RDM as float64.
 * `layerBytes(l)` gives the RDM bytes of layer l.
 */
export function stimulusSetDigestParts(
  set: {
    images: readonly Pick<StimulusImage, 'id' | 'sha256'>[];
    layers: readonly string[];
    activationResiduals?: { rdms: Record<string, readonly (number | null)[]> };
  },
  layerBytes: (l: number) => Uint8Array,
): Uint8Array[] {
  assertLittleEndian();
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const img of set.images) parts.push(enc.encode(`${img.id}\n${img.sha256}\n`));
  set.layers.forEach((layer, l) => {
    parts.push(enc.encode(`${layer}\n`));
    parts.push(layerBytes(l));
  });
  // Only sets that hold activation-residual RDMs hash them, so older sets keep their digest.
  const residual = set.activationResiduals?.rdms;
  for (const layer of residual ? set.layers : []) {
    parts.push(enc.encode(`activation-residual ${layer}\n`));
    parts.push(new Uint8Array(Float64Array.from(residual![layer] ?? [], (v) => v ?? Number.NaN).buffer));
  }
  return parts;
}

/** Version 1's digest parts: each layer's RDM from the JSON as float64 little-endian. */
export function stimulusSetV1DigestParts(
  set: Pick<StimulusSetV1, 'images' | 'layers' | 'rdms' | 'activationResiduals'>,
): Uint8Array[] {
  assertLittleEndian();
  return stimulusSetDigestParts(set, (l) => {
    const values = set.rdms[set.layers[l]!] ?? [];
    return new Uint8Array(Float64Array.from(values, (v) => v ?? Number.NaN).buffer);
  });
}

/**
 * Version 2's digest parts: `sidecar` is the whole rdms.f32 file, `nPairs` = n(n-1)/2 float32
 * values per layer. Throws a RangeError when the sidecar has another length.
 */
export function stimulusSetV2DigestParts(
  set: Pick<StimulusSetV2, 'images' | 'layers' | 'activationResiduals'>,
  sidecar: Uint8Array,
  nPairs: number,
): Uint8Array[] {
  const layerBytes = 4 * nPairs;
  if (sidecar.length !== layerBytes * set.layers.length)
    throw new RangeError(
      `expected ${set.layers.length} layers x ${nPairs} float32 values = ${layerBytes * set.layers.length} bytes, got ${sidecar.length}`,
    );
  return stimulusSetDigestParts(set, (l) => sidecar.subarray(l * layerBytes, (l + 1) * layerBytes));
}

/** Version 1's digest input as one array (the parts joined). */
export function stimulusSetDigestInput(
  set: Pick<StimulusSetV1, 'images' | 'layers' | 'rdms' | 'activationResiduals'>,
): Uint8Array {
  const parts = stimulusSetV1DigestParts(set);
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
