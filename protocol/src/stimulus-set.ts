import { z } from 'zod';
import { InputError } from './errors';

/**
 * stimulus-set.json, version 1: the project's central file format. Synthesis and `orthostim rdms`
 * write it; the session server and analysis read it. Documented in docs/formats/stimulus-set.md;
 * the JSON Schema in docs/formats/stimulus-set.schema.json is generated from this zod schema.
 *
 * The order of `images` is the order of every RDM. RDMs are stored as the upper triangle without
 * the diagonal, row-major: (0,1), (0,2), ..., (0,n-1), (1,2), ..., length n(n-1)/2.
 */
export const STIMULUS_SET_SCHEMA = 'orthostim.stimulus-set/1';
export const STIMULUS_SET_FILE = 'stimulus-set.json';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256 (64 characters)');
const imageId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, '1-64 letters, digits, "_" or "-", starting with a letter or digit');
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

export const stimulusSetSchema = z
  .strictObject({
    schema: z.literal(STIMULUS_SET_SCHEMA),
    /** SHA-256 over image hashes and RDMs; see `stimulusSetDigestInput`. */
    sha256: sha256Hex,
    images: z.array(stimulusImageSchema).min(2),
    model: z.strictObject({
      name: z.string().min(1),
      weightsSha256: sha256Hex,
      inputSize: z.number().int().positive(),
      /** How the weights were loaded (raw, onnx, cache, tfjs-layers, tfjs-graph). */
      format: z.string().optional(),
    }),
    layers: z.array(z.string().min(1)).min(1),
    distance: z.enum(['correlation', 'euclidean', 'cosine']),
    rdms: z.record(z.string(), z.array(z.number().nullable())),
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
  })
  .superRefine((set, ctx) => {
    const n = set.images.length;
    const pairs = (n * (n - 1)) / 2;
    const ids = new Set<string>();
    set.images.forEach((img, i) => {
      if (ids.has(img.id))
        ctx.addIssue({ code: 'custom', path: ['images', i, 'id'], message: `duplicate image id "${img.id}"` });
      ids.add(img.id);
    });
    const L = set.layers.length;
    if (new Set(set.layers).size !== L)
      ctx.addIssue({ code: 'custom', path: ['layers'], message: 'layer names must be unique' });
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
    for (const kind of ['pearson', 'spearman'] as const) {
      const m = set.layerSimilarity[kind];
      if (m.length !== L || m.some((row) => row.length !== L))
        ctx.addIssue({ code: 'custom', path: ['layerSimilarity', kind], message: `expected a ${L} x ${L} matrix` });
    }
  });

export type StimulusImage = z.infer<typeof stimulusImageSchema>;
export type StimulusSet = z.infer<typeof stimulusSetSchema>;
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

/**
 * The bytes the set's `sha256` is computed over, so any tool can recompute it:
 * for each image in order, UTF-8 `"<id>\n<sha256>\n"`; then for each layer in order, UTF-8
 * `"<layer>\n"` followed by its RDM as float64 little-endian values (null, i.e. NaN, as NaN); then,
 * only in sets that hold them, for each layer `"activation-residual <layer>\n"` and its
 * activation-residual RDM the same way (sets without them keep the digest they always had).
 */
export function stimulusSetDigestInput(
  set: Pick<StimulusSet, 'images' | 'layers' | 'rdms'> & Partial<Pick<StimulusSet, 'activationResiduals'>>,
): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const img of set.images) parts.push(enc.encode(`${img.id}\n${img.sha256}\n`));
  const residual = set.activationResiduals?.rdms;
  const blocks = [
    ...set.layers.map((layer) => ({ label: `${layer}\n`, values: set.rdms[layer] })),
    ...(residual
      ? set.layers.map((layer) => ({ label: `activation-residual ${layer}\n`, values: residual[layer] }))
      : []),
  ];
  for (const { label, values: given } of blocks) {
    parts.push(enc.encode(label));
    const values = given ?? [];
    const buf = new Float64Array(values.length);
    values.forEach((v, i) => (buf[i] = v ?? Number.NaN));
    // Float64Array is platform-endian; every platform Node runs on is little-endian, checked here.
    if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian platforms are not supported');
    parts.push(new Uint8Array(buf.buffer));
  }
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
