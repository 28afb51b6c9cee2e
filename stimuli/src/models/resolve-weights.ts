/**
 * Finding network weights: `--weights`, then `$ORTHOSTIM_WEIGHTS`, then the cache filled by
 * `orthostim model fetch googlenet`. A path may be a raw per-layer folder (or the folder holding
 * it as `weights/`), an `.onnx` file, a converted cache folder (`manifest.json`), or a TF.js
 * `model.json` (or its folder). The kind is told from the files present, not from the name.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '@orthostim/protocol';
import { modelCacheDir } from './cache-location';
import type { GoogLeNetWeights } from './weights';
import { readWeightsCache, WEIGHTS_CACHE_MANIFEST } from './weights-cache';
import { readOnnxWeights } from './weights-onnx';
import { readRawWeights } from './weights-raw';

export type WeightsKind = 'raw' | 'onnx' | 'cache' | 'tfjs';
export type WeightsOrigin = 'flag' | 'env' | 'cache' | 'checkpoint';

export interface ResolvedWeights {
  kind: WeightsKind;
  /** The folder (raw, cache) or file (onnx, tfjs model.json) to load. */
  path: string;
  /** Where the path came from: `--weights`, `$ORTHOSTIM_WEIGHTS`, the cache or a synthesis checkpoint. */
  origin: WeightsOrigin;
}

/** The file that marks a raw per-layer folder (the first conv's filter). */
const RAW_MARKER = 'conv1/7x7_s2_filter.bin';
const ORIGIN_TEXT: Record<WeightsOrigin, string> = {
  flag: '--weights',
  env: '$ORTHOSTIM_WEIGHTS',
  cache: 'weights cache',
  checkpoint: "the checkpoint's weights",
};
const EXPECTED =
  'expected a raw per-layer weights folder (with conv1/7x7_s2_filter.bin), an .onnx file, a converted cache folder (manifest.json) or a TF.js model.json';

export const HOW_TO_GET_WEIGHTS =
  "run `orthostim model fetch googlenet` (downloads the ONNX model zoo's googlenet-7.onnx into the cache) or pass --weights ../shared/models/bvlc-googlenet/weights";

const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

/** Tell what kind of weights `path` holds. */
export function classifyWeightsPath(path: string, origin: WeightsOrigin): ResolvedWeights {
  const where = `${ORIGIN_TEXT[origin]} ${path}`;
  const abs = resolve(path);
  if (!existsSync(abs)) throw new InputError(`${where}: not found; ${EXPECTED}`);
  if (statSync(abs).isFile()) {
    const name = basename(abs);
    if (name.toLowerCase().endsWith('.onnx')) return { kind: 'onnx', path: abs, origin };
    if (name === WEIGHTS_CACHE_MANIFEST) return { kind: 'cache', path: dirname(abs), origin };
    if (name.toLowerCase().endsWith('.json')) return { kind: 'tfjs', path: abs, origin };
    throw new InputError(`${where}: not a weights file; ${EXPECTED}`);
  }
  if (isFile(join(abs, WEIGHTS_CACHE_MANIFEST))) return { kind: 'cache', path: abs, origin };
  if (isFile(join(abs, 'model.json'))) return { kind: 'tfjs', path: join(abs, 'model.json'), origin };
  if (isFile(join(abs, RAW_MARKER))) return { kind: 'raw', path: abs, origin };
  if (isFile(join(abs, 'weights', RAW_MARKER))) return { kind: 'raw', path: join(abs, 'weights'), origin };
  if (isFile(join(abs, 'googlenet', WEIGHTS_CACHE_MANIFEST)))
    return { kind: 'cache', path: join(abs, 'googlenet'), origin };
  const onnxFiles = readdirSync(abs).filter((f) => f.toLowerCase().endsWith('.onnx') && isFile(join(abs, f)));
  if (onnxFiles.length === 1) return { kind: 'onnx', path: join(abs, onnxFiles[0]!), origin };
  throw new InputError(
    `${where}: folder holds no weights${onnxFiles.length > 1 ? ` (several .onnx files: ${onnxFiles.join(', ')}; name one)` : ''}; ${EXPECTED}`,
  );
}

/**
 * Where the weights are: `flag` (the --weights value), else `$ORTHOSTIM_WEIGHTS`, else the cache.
 * None found: an InputError saying how to get them.
 */
export function resolveWeights(flag?: string, env: Record<string, string | undefined> = process.env): ResolvedWeights {
  if (flag !== undefined && flag !== '') return classifyWeightsPath(flag, 'flag');
  if (env.ORTHOSTIM_WEIGHTS) return classifyWeightsPath(env.ORTHOSTIM_WEIGHTS, 'env');
  const cache = modelCacheDir('googlenet', env);
  if (isFile(join(cache, WEIGHTS_CACHE_MANIFEST))) return { kind: 'cache', path: cache, origin: 'cache' };
  throw new InputError(
    `no GoogLeNet weights found (no --weights, no $ORTHOSTIM_WEIGHTS, nothing in the cache ${cache}); ${HOW_TO_GET_WEIGHTS}`,
  );
}

/** GoogLeNet loaders by kind; a TF.js model is another network and is loaded by `loadTfjsModel`. */
export const GOOGLENET_LOADERS: Record<Exclude<WeightsKind, 'tfjs'>, (path: string) => GoogLeNetWeights> = {
  raw: readRawWeights,
  onnx: readOnnxWeights,
  cache: readWeightsCache,
};

/** Resolve and load GoogLeNet weights (for commands that run GoogLeNet). */
export function loadGoogLeNetWeights(
  flag?: string,
  env: Record<string, string | undefined> = process.env,
): GoogLeNetWeights {
  const found = resolveWeights(flag, env);
  if (found.kind === 'tfjs') {
    throw new InputError(
      `${ORIGIN_TEXT[found.origin]} ${found.path}: is a TF.js model; this needs GoogLeNet weights (raw folder, .onnx file or cache folder)`,
    );
  }
  return GOOGLENET_LOADERS[found.kind](found.path);
}
