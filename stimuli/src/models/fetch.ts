/**
 * `orthostim model fetch googlenet`: download the ONNX model zoo's GoogLeNet over HTTPS, check
 * its size and SHA-256, and convert it once into the weights cache that every command finds
 * without flags.
 *
 * The URL is GitHub's `raw` address of the file in onnx/models; the file is stored with Git LFS,
 * so GitHub answers with a redirect to media.githubusercontent.com, which `fetch` follows. The
 * verified ONNX file is kept in `<cache>/downloads/` (28 MB) so `orthostim model verify` can
 * recheck it against the recorded SHA-256 and the cache can be rebuilt without the network.
 * URL and checksum can be overridden (`--url`/`--sha256`, or $ORTHOSTIM_GOOGLENET_URL and
 * $ORTHOSTIM_GOOGLENET_SHA256) for mirrors and tests.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { InputError, UsageError } from '@orthostim/protocol';
import { sha256File } from '@orthostim/protocol/node';
import { createProgress } from '@orthostim/protocol/cli';
import { downloadsDir, modelCacheDir } from './cache-location';
import { WEIGHTS_CACHE_MANIFEST, writeWeightsCache, type WeightsCacheManifest } from './weights-cache';
import { readOnnxWeights } from './weights-onnx';
import type { NormalizationName } from './preprocess';

export interface ModelSource {
  name: string;
  description: string;
  fileName: string;
  url: string;
  /** Size in bytes of the published file. */
  bytes: number;
  sha256: string;
  /** `googlenet`: converted into the GoogLeNet weights cache; `onnx-graph`: run as any ONNX network. */
  network: 'googlenet' | 'onnx-graph';
  /** The input convention of an `onnx-graph` model (the Caffe conversions expect BGR in [0, 255]). */
  normalize?: NormalizationName;
}

const ZOO = 'https://github.com/onnx/models/raw/main/validated/vision/classification';

/** Models `orthostim model fetch` knows how to get. */
export const MODEL_SOURCES = {
  googlenet: {
    name: 'googlenet',
    description:
      "BVLC GoogLeNet (Inception-V1), ImageNet; the ONNX model zoo's googlenet-7.onnx (Caffe2 export, opset 7)",
    fileName: 'googlenet-7.onnx',
    url: `${ZOO}/inception_and_googlenet/googlenet/model/googlenet-7.onnx`,
    bytes: 28_020_232,
    sha256: '5725ccfd90845735ce5897faf7843c3f9b13acda3c4f3bff82cb21c9337c9de8',
    network: 'googlenet',
  },
  // Sizes and SHA-256 from the zoo's Git LFS pointer files (onnx/models, main).
  alexnet: {
    name: 'alexnet',
    description: 'BVLC AlexNet, ImageNet (Caffe conversion; BGR in [0, 255] minus the mean), opset 12',
    fileName: 'bvlcalexnet-12.onnx',
    url: `${ZOO}/alexnet/model/bvlcalexnet-12.onnx`,
    bytes: 243_863_787,
    sha256: '6b0da9510f27f234ee96a85dc3809dd210150fdefad87f6850f9788513216945',
    network: 'onnx-graph',
    normalize: 'caffe',
  },
  vgg16: {
    name: 'vgg16',
    description: 'VGG-16, ImageNet (torchvision normalization), opset 7',
    fileName: 'vgg16-7.onnx',
    url: `${ZOO}/vgg/model/vgg16-7.onnx`,
    bytes: 553_437_328,
    sha256: 'f20805a3ecccaa88647bbab4ad011ff2412a9838485ea844de0fcbce349820b9',
    network: 'onnx-graph',
    normalize: 'imagenet',
  },
  resnet50: {
    name: 'resnet50',
    description: 'ResNet-50 v1, ImageNet (torchvision normalization), opset 7',
    fileName: 'resnet50-v1-7.onnx',
    url: `${ZOO}/resnet/model/resnet50-v1-7.onnx`,
    bytes: 102_583_340,
    sha256: 'af16a04a6ec48ac494065d4439fe9dea590d337b9ca6dc328160ccf04a217b9c',
    network: 'onnx-graph',
    normalize: 'imagenet',
  },
  squeezenet: {
    name: 'squeezenet',
    description: 'SqueezeNet 1.1, ImageNet (torchvision normalization), opset 7',
    fileName: 'squeezenet1.1-7.onnx',
    url: `${ZOO}/squeezenet/model/squeezenet1.1-7.onnx`,
    bytes: 4_956_208,
    sha256: '1eeff551a67ae8d565ca33b572fc4b66e3ef357b0eb2863bb9ff47a918cc4088',
    network: 'onnx-graph',
    normalize: 'imagenet',
  },
  mobilenetv2: {
    name: 'mobilenetv2',
    description: 'MobileNet v2 1.0, ImageNet (torchvision normalization), opset 7',
    fileName: 'mobilenetv2-7.onnx',
    url: `${ZOO}/mobilenet/model/mobilenetv2-7.onnx`,
    bytes: 14_246_826,
    sha256: 'c1c513582d56afceff8516c73804e484c81c6a830712ab6d682253f4a3cd042f',
    network: 'onnx-graph',
    normalize: 'imagenet',
  },
  densenet121: {
    name: 'densenet121',
    description: 'DenseNet-121, ImageNet (Caffe2 conversion; BGR in [0, 255] minus the mean), opset 12',
    fileName: 'densenet-12.onnx',
    url: `${ZOO}/densenet-121/model/densenet-12.onnx`,
    bytes: 32_726_877,
    sha256: '0294e7e88e5b3360de9b0fdc321baf9e6ef18b7f058c4536caae3b9f18ed9ed5',
    network: 'onnx-graph',
    normalize: 'caffe',
  },
} as const satisfies Record<string, ModelSource>;
export type ModelName = keyof typeof MODEL_SOURCES;
export const MODEL_NAMES = Object.keys(MODEL_SOURCES) as ModelName[];

export function parseModelName(value: string): ModelName {
  if (!(value in MODEL_SOURCES)) throw new UsageError(`model must be one of ${MODEL_NAMES.join(', ')}; got "${value}"`);
  return value as ModelName;
}

export interface FetchOptions {
  /** Download from here instead (default: $ORTHOSTIM_GOOGLENET_URL, else the model zoo). */
  url?: string;
  /** Expected SHA-256 (default: $ORTHOSTIM_GOOGLENET_SHA256, else the published one). */
  sha256?: string;
  /** Download and convert again even when the cache exists. */
  force?: boolean;
  env?: Record<string, string | undefined>;
}

export interface FetchResult {
  /** The converted cache folder. */
  cacheDir: string;
  /** The verified ONNX file. */
  onnxPath: string;
  /** False when the cache already existed (nothing done). */
  converted: boolean;
  /** False when a verified download was already there. */
  downloaded: boolean;
  manifest: WeightsCacheManifest | null;
}

/** The source with env/option overrides applied; the published size only applies to the published file. */
export function resolveModelSource(
  name: ModelName,
  options: Pick<FetchOptions, 'url' | 'sha256' | 'env'> = {},
): Omit<ModelSource, 'bytes'> & { bytes: number | null } {
  const env = options.env ?? process.env;
  const base: ModelSource = MODEL_SOURCES[name];
  const key = name.toUpperCase();
  const url = options.url || env[`ORTHOSTIM_${key}_URL`] || base.url;
  const sha256 = (options.sha256 || env[`ORTHOSTIM_${key}_SHA256`] || base.sha256).toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new UsageError(`--sha256 must be 64 hex digits; got "${sha256}"`);
  if (!/^https?:\/\//.test(url)) throw new UsageError(`--url must be an http(s) URL; got "${url}"`);
  return { ...base, url, sha256, bytes: sha256 === base.sha256 ? base.bytes : null };
}

function describeCause(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

/** Download `url` into `dest` (via a temporary file), checking size and SHA-256. */
export async function downloadVerified(
  url: string,
  dest: string,
  expected: { sha256: string; bytes: number | null; label: string },
): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (err) {
    throw new InputError(
      `${url}: download failed (${describeCause(err)}); check the network, or pass --weights with a local copy`,
    );
  }
  if (!res.ok || !res.body) throw new InputError(`${url}: download failed with HTTP ${res.status} ${res.statusText}`);
  const lengthHeader = res.headers.get('content-length');
  const announced = lengthHeader !== null ? Number(lengthHeader) : null;
  const total = expected.bytes ?? announced;

  mkdirSync(join(dest, '..'), { recursive: true });
  const tmp = `${dest}.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
  const fd = openSync(tmp, 'w');
  const hash = createHash('sha256');
  let received = 0;
  let head = Buffer.alloc(0);
  const mb = (n: number) => Math.round(n / 1e5) / 10;
  const progress = createProgress(`download ${expected.label} (MB)`, total ? mb(total) : 0);
  let closed = false;
  const fail = (message: string): never => {
    if (!closed) closeSync(fd);
    closed = true;
    rmSync(tmp, { force: true });
    throw new InputError(message);
  };
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      writeSync(fd, chunk);
      hash.update(chunk);
      if (head.length < 64) head = Buffer.concat([head, Buffer.from(chunk.subarray(0, 64))]);
      received += chunk.length;
      progress.update(mb(received));
    }
  } catch (err) {
    progress.stop();
    fail(
      `${url}: download interrupted after ${received}${total ? ` of ${total}` : ''} bytes (${describeCause(err)}); nothing was kept, run the command again`,
    );
  }
  progress.stop();
  closeSync(fd);
  closed = true;
  if (head.toString('latin1').startsWith('version https://git-lfs')) {
    fail(
      `${url}: got a Git LFS pointer (${received} bytes), not the file; use the github.com/.../raw/... or media.githubusercontent.com address`,
    );
  }
  if (announced !== null && received !== announced)
    fail(`${url}: download truncated: got ${received} of ${announced} bytes; nothing was kept, run the command again`);
  if (expected.bytes !== null && received !== expected.bytes)
    fail(`${url}: got ${received} bytes; expected ${expected.bytes} (${expected.label}); nothing was kept`);
  const actual = hash.digest('hex');
  if (actual !== expected.sha256) {
    fail(
      `${url}: SHA-256 ${actual} does not match the expected ${expected.sha256} for ${expected.label}; the download was deleted`,
    );
  }
  renameSync(tmp, dest);
}

/**
 * Fetch a model into the cache: download (unless a verified copy is there), then convert to the
 * weights cache. An existing cache is left alone unless `force`.
 */
export async function fetchModel(name: ModelName, options: FetchOptions = {}): Promise<FetchResult> {
  const env = options.env ?? process.env;
  const source = resolveModelSource(name, options);
  const cacheDir = modelCacheDir(name, env);
  const onnxPath = join(downloadsDir(env), source.fileName);
  if (source.network === 'onnx-graph') return fetchOnnxGraph(source, onnxPath, options.force ?? false);
  if (!options.force && existsSync(join(cacheDir, WEIGHTS_CACHE_MANIFEST))) {
    return { cacheDir, onnxPath, converted: false, downloaded: false, manifest: null };
  }
  const haveVerified = !options.force && existsSync(onnxPath) && sha256File(onnxPath) === source.sha256;
  if (!haveVerified)
    await downloadVerified(source.url, onnxPath, {
      sha256: source.sha256,
      bytes: source.bytes,
      label: source.fileName,
    });
  const weights = readOnnxWeights(onnxPath);
  const manifest = await writeWeightsCache(weights, cacheDir, {
    overwrite: true,
    sourceSha256: source.sha256,
    sourceName: source.fileName,
  });
  return { cacheDir, onnxPath, converted: true, downloaded: !haveVerified, manifest };
}

/** A zoo network run as any ONNX graph: the verified file in `<cache>/downloads/` is all it needs. */
async function fetchOnnxGraph(
  source: ReturnType<typeof resolveModelSource>,
  onnxPath: string,
  force: boolean,
): Promise<FetchResult> {
  const have = !force && existsSync(onnxPath) && sha256File(onnxPath) === source.sha256;
  if (!have)
    await downloadVerified(source.url, onnxPath, {
      sha256: source.sha256,
      bytes: source.bytes,
      label: source.fileName,
    });
  return { cacheDir: dirname(onnxPath), onnxPath, converted: false, downloaded: !have, manifest: null };
}
