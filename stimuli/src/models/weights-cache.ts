/**
 * The converted weights cache: GoogLeNet weights in TF.js-native layout as one float32 blob, so a
 * command loads them with one read and no parsing or transposing.
 *
 *   <dir>/weights.bin     little-endian float32, tensors back to back in the manifest's order
 *   <dir>/manifest.json   schema `orthostim.weights-cache/1`: tensor names, shapes, layouts, byte
 *                         offsets; the weights digest; the source file's name, format and SHA-256
 *
 * Loading checks the manifest (zod) and every size but does not rehash the numbers, which would
 * double the load time; `orthostim model verify` recomputes the digest.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { InputError } from '@orthostim/protocol';
import { buildOutputDir, sha256File, writeFileAtomic } from '@orthostim/protocol/node';
import { GOOGLENET_CLASSIFIER, GOOGLENET_CONVS } from './googlenet-spec';
import type { ConvWeights, DenseWeights, GoogLeNetWeights } from './weights';
import { assertFiniteWeights, computeWeightsSha256 } from './weights-digest';

export const WEIGHTS_CACHE_SCHEMA = 'orthostim.weights-cache/1';
export const WEIGHTS_CACHE_MANIFEST = 'manifest.json';
export const WEIGHTS_CACHE_BLOB = 'weights.bin';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256');

const CacheTensor = z.object({
  /** Caffe layer name, e.g. `inception_3a/3x3`. */
  layer: z.string(),
  kind: z.enum(['filter', 'bias', 'kernel']),
  layout: z.enum(['HWIO', 'IO', 'O']),
  shape: z.array(z.number().int().positive()),
  /** Byte offset into weights.bin. */
  offset: z.number().int().nonnegative(),
});
type CacheTensor = z.infer<typeof CacheTensor>;

export const WeightsCacheManifest = z.object({
  schema: z.literal(WEIGHTS_CACHE_SCHEMA),
  model: z.literal('googlenet'),
  dtype: z.literal('float32'),
  byteOrder: z.literal('little-endian'),
  weightsFile: z.literal(WEIGHTS_CACHE_BLOB),
  byteLength: z.number().int().positive(),
  /** computeWeightsSha256 of the weights: the digest stimulus sets record. */
  weightsSha256: sha256Hex,
  source: z.object({
    /** File or folder name the weights were converted from, e.g. `googlenet-7.onnx`. */
    name: z.string(),
    /** Loader format: `onnx`, `raw`, ... */
    format: z.string(),
    /** SHA-256 of the source file; null for a folder. */
    sha256: sha256Hex.nullable(),
    /** Absolute path at conversion time (informational). */
    path: z.string(),
  }),
  createdAt: z.string(),
  tensors: z.array(CacheTensor),
});
export type WeightsCacheManifest = z.infer<typeof WeightsCacheManifest>;

/** The cache's tensor order and shapes: every conv (filter, bias) in GOOGLENET_CONVS order, then the classifier. */
function cacheLayout(): { tensors: CacheTensor[]; byteLength: number } {
  const tensors: CacheTensor[] = [];
  let offset = 0;
  const add = (layer: string, kind: CacheTensor['kind'], layout: CacheTensor['layout'], shape: number[]) => {
    tensors.push({ layer, kind, layout, shape, offset });
    offset += shape.reduce((a, b) => a * b, 1) * 4;
  };
  for (const c of GOOGLENET_CONVS) {
    add(c.name, 'filter', 'HWIO', [c.kernel, c.kernel, c.inChannels, c.outChannels]);
    add(c.name, 'bias', 'O', [c.outChannels]);
  }
  const { name, inFeatures, outFeatures } = GOOGLENET_CLASSIFIER;
  add(name, 'kernel', 'IO', [inFeatures, outFeatures]);
  add(name, 'bias', 'O', [outFeatures]);
  return { tensors, byteLength: offset };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
function assertLittleEndian(): void {
  if (!LITTLE_ENDIAN) throw new Error('the weights cache is little-endian float32; this machine is big-endian');
}

export interface WriteWeightsCacheOptions {
  /** SHA-256 of the source file (default: hashed from `weights.source` when it is a file). */
  sourceSha256?: string | null;
  /** Name recorded for the source (default: the base name of `weights.source`). */
  sourceName?: string;
  /** Replace an existing cache folder (only once the new one is complete). */
  overwrite?: boolean;
}

/** Write `weights` as a cache folder atomically (staging folder, then rename). Returns the manifest. */
export async function writeWeightsCache(
  weights: GoogLeNetWeights,
  dir: string,
  options: WriteWeightsCacheOptions = {},
): Promise<WeightsCacheManifest> {
  assertLittleEndian();
  const { tensors, byteLength } = cacheLayout();
  const blob = new Float32Array(byteLength / 4);
  for (const t of tensors) {
    const conv = weights.convs.get(t.layer);
    const src =
      t.kind === 'filter'
        ? conv?.filter
        : t.kind === 'kernel'
          ? weights.classifier.kernel
          : (conv ?? weights.classifier).bias;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (!src || src.length !== count)
      throw new Error(`writeWeightsCache: ${t.layer} ${t.kind} has ${src?.length ?? 0} values; expected ${count}`);
    blob.set(src, t.offset / 4);
  }
  const source = weights.source;
  const isFile = existsSync(source) && statSync(source).isFile();
  const manifest: WeightsCacheManifest = {
    schema: WEIGHTS_CACHE_SCHEMA,
    model: 'googlenet',
    dtype: 'float32',
    byteOrder: 'little-endian',
    weightsFile: WEIGHTS_CACHE_BLOB,
    byteLength,
    weightsSha256: weights.sha256,
    source: {
      name: options.sourceName ?? basename(source),
      format: weights.format,
      sha256: options.sourceSha256 !== undefined ? options.sourceSha256 : isFile ? sha256File(source) : null,
      path: source,
    },
    createdAt: new Date().toISOString(),
    tensors,
  };
  WeightsCacheManifest.parse(manifest);
  await buildOutputDir(
    dir,
    (staging) => {
      writeFileAtomic(join(staging, WEIGHTS_CACHE_BLOB), new Uint8Array(blob.buffer));
      writeFileAtomic(join(staging, WEIGHTS_CACHE_MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
    },
    {
      overwrite: options.overwrite,
      flag: '--force',
      inputs: [weights.source],
      isOurs: (d) => existsSync(join(d, WEIGHTS_CACHE_MANIFEST)),
    },
  );
  return manifest;
}

/** Read and validate a cache folder's manifest, including that its layout is this network's. */
export function readWeightsCacheManifest(dir: string): WeightsCacheManifest {
  const path = join(dir, WEIGHTS_CACHE_MANIFEST);
  if (!existsSync(path))
    throw new InputError(
      `${path}: weights cache manifest not found; expected a folder written by \`orthostim model fetch googlenet\``,
    );
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(
      `${path}: not valid JSON (${(err as Error).message}); expected a ${WEIGHTS_CACHE_SCHEMA} manifest`,
    );
  }
  const parsed = WeightsCacheManifest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(
      `${path}: field ${issue.path.join('.') || '(root)'}: ${issue.message}; expected a ${WEIGHTS_CACHE_SCHEMA} manifest`,
    );
  }
  const manifest = parsed.data;
  const expected = cacheLayout();
  if (manifest.byteLength !== expected.byteLength || manifest.tensors.length !== expected.tensors.length) {
    throw new InputError(
      `${path}: lists ${manifest.tensors.length} tensors in ${manifest.byteLength} bytes; expected ${expected.tensors.length} tensors in ${expected.byteLength} bytes (BVLC GoogLeNet)`,
    );
  }
  expected.tensors.forEach((want, i) => {
    const got = manifest.tensors[i]!;
    if (
      got.layer !== want.layer ||
      got.kind !== want.kind ||
      got.layout !== want.layout ||
      got.offset !== want.offset ||
      got.shape.join('x') !== want.shape.join('x')
    ) {
      throw new InputError(
        `${path}: tensor ${i} is ${got.layer} ${got.kind} ${got.shape.join('x')} ${got.layout} at byte ${got.offset}; expected ${want.layer} ${want.kind} ${want.shape.join('x')} ${want.layout} at byte ${want.offset}`,
      );
    }
  });
  return manifest;
}

/** Load a cache folder; sizes and layout are checked, the digest is taken from the manifest. */
export function readWeightsCache(dir: string): GoogLeNetWeights {
  assertLittleEndian();
  const manifest = readWeightsCacheManifest(dir);
  const blobPath = join(dir, WEIGHTS_CACHE_BLOB);
  if (!existsSync(blobPath))
    throw new InputError(
      `${blobPath}: weights file is missing; expected ${manifest.byteLength} bytes (rerun \`orthostim model fetch googlenet --force\`)`,
    );
  const size = statSync(blobPath).size;
  if (size !== manifest.byteLength)
    throw new InputError(
      `${blobPath}: expected ${manifest.byteLength} bytes, got ${size}; the cache is truncated or corrupt (rerun \`orthostim model fetch googlenet --force\`)`,
    );
  const buf = readFileSync(blobPath);
  // Views need 4-byte alignment; a fresh large Buffer has it, a pooled one might not.
  const bytes = buf.byteOffset % 4 === 0 ? buf : Buffer.from(buf);
  const view = (t: CacheTensor) =>
    new Float32Array(
      bytes.buffer,
      bytes.byteOffset + t.offset,
      t.shape.reduce((a, b) => a * b, 1),
    );
  const convs = new Map<string, ConvWeights>();
  const byLayer = new Map<string, CacheTensor[]>();
  for (const t of manifest.tensors) byLayer.set(t.layer, [...(byLayer.get(t.layer) ?? []), t]);
  for (const c of GOOGLENET_CONVS) {
    const [filter, bias] = byLayer.get(c.name)!;
    convs.set(c.name, {
      shape: [c.kernel, c.kernel, c.inChannels, c.outChannels],
      filter: view(filter!),
      bias: view(bias!),
    });
  }
  const [kernel, bias] = byLayer.get(GOOGLENET_CLASSIFIER.name)!;
  const classifier: DenseWeights = {
    shape: [GOOGLENET_CLASSIFIER.inFeatures, GOOGLENET_CLASSIFIER.outFeatures],
    kernel: view(kernel!),
    bias: view(bias!),
  };
  assertFiniteWeights(convs, classifier, blobPath);
  return { convs, classifier, sha256: manifest.weightsSha256, format: 'cache', source: resolve(dir) };
}

export interface CacheCheck {
  manifest: WeightsCacheManifest;
  /** Digest recomputed from weights.bin. */
  weightsSha256: string;
  weightsOk: boolean;
  /** The source file's current SHA-256 when it still exists at the recorded path, else null. */
  sourceSha256: string | null;
  sourceOk: boolean | null;
}

/** Recompute the digests `readWeightsCache` trusts: the weights digest and, if still there, the source file's. */
export function checkWeightsCache(dir: string): CacheCheck {
  const weights = readWeightsCache(dir);
  const manifest = readWeightsCacheManifest(dir);
  const weightsSha256 = computeWeightsSha256(weights.convs, weights.classifier);
  const src = manifest.source;
  const sourceSha256 = src.sha256 && existsSync(src.path) && statSync(src.path).isFile() ? sha256File(src.path) : null;
  return {
    manifest,
    weightsSha256,
    weightsOk: weightsSha256 === manifest.weightsSha256,
    sourceSha256,
    sourceOk: sourceSha256 === null ? null : sourceSha256 === src.sha256,
  };
}
