/**
 * Reader for GoogLeNet weights stored as raw per-layer float32 files, the layout of
 * ../shared/models/bvlc-googlenet/weights: `<dir>/<caffe layer>_filter.bin` and `_bias.bin`
 * (e.g. `conv1/7x7_s2_filter.bin`), little-endian float32 without header, filters (out, kh, kw, in),
 * the classifier `loss3/classifier` (1000, 1024). Every file must have exactly the size the
 * architecture implies; a `SHA256SUMS` file in the folder or its parent (sha256sum format, paths
 * relative to the weights folder or to the SHA256SUMS file) is verified when present.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, resolve } from 'node:path';
import { InputError } from '@orthostim/protocol';
import { sha256Hex } from '@orthostim/protocol/node';
import { GOOGLENET_CLASSIFIER, GOOGLENET_CONVS } from './googlenet-spec';
import type { ConvWeights, DenseWeights, GoogLeNetWeights } from './weights';
import { assertFiniteWeights, computeWeightsSha256, warnUnvouchedWeights } from './weights-digest';

interface RawFile {
  /** Path relative to the weights folder, e.g. `conv1/7x7_s2_filter.bin`. */
  rel: string;
  path: string;
  /** Element count the architecture implies, and how it arises (for error messages). */
  count: number;
  shapeText: string;
}

/** Every file the raw layout must contain, in canonical order, with its expected size. */
export function listRawWeightFiles(dir: string): RawFile[] {
  const files: RawFile[] = [];
  const add = (layer: string, kind: 'filter' | 'bias', dims: number[]) => {
    const rel = `${layer}_${kind}.bin`;
    files.push({ rel, path: join(dir, rel), count: dims.reduce((a, b) => a * b, 1), shapeText: dims.join('x') });
  };
  for (const c of GOOGLENET_CONVS) {
    add(c.name, 'filter', [c.outChannels, c.kernel, c.kernel, c.inChannels]);
    add(c.name, 'bias', [c.outChannels]);
  }
  const { name, inFeatures, outFeatures } = GOOGLENET_CLASSIFIER;
  add(name, 'filter', [outFeatures, inFeatures]);
  add(name, 'bias', [outFeatures]);
  return files;
}

function readFloat32(path: string): Float32Array {
  const buf = readFileSync(path);
  const out = new Float32Array(buf.length / 4);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** (out, kh, kw, in) -> HWIO (kh, kw, in, out). */
export function ohwiToHwio(src: Float32Array, out: number, kh: number, kw: number, inC: number): Float32Array {
  const dst = new Float32Array(src.length);
  let s = 0;
  for (let o = 0; o < out; o++) {
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        const base = (y * kw + x) * inC * out + o;
        for (let i = 0; i < inC; i++) dst[base + i * out] = src[s++]!;
      }
    }
  }
  return dst;
}

/** Row-major (rows, cols) -> (cols, rows). */
function transpose2d(src: Float32Array, rows: number, cols: number): Float32Array {
  const dst = new Float32Array(src.length);
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    for (let c = 0; c < cols; c++) dst[c * rows + r] = src[off + c]!;
  }
  return dst;
}

/** Parse sha256sum output: `<64 hex>  <path>` (optionally `*path` for binary mode). */
function parseSha256Sums(text: string): Array<{ hash: string; file: string }> {
  const entries: Array<{ hash: string; file: string }> = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line.trim());
    if (m) entries.push({ hash: m[1]!.toLowerCase(), file: m[2]! });
  }
  return entries;
}

/** Check the weight files against SHA256SUMS in `dir` or its parent, if one exists. Returns the sums file used. */
function verifyChecksums(dir: string, files: RawFile[]): string | null {
  const sumsPath = [join(dir, 'SHA256SUMS'), join(dirname(resolve(dir)), 'SHA256SUMS')].find((p) => existsSync(p));
  if (!sumsPath) return null;
  // Map each listed path, read relative to the weights folder or to the sums file, onto our files.
  const byPath = new Map(files.map((f) => [normalize(resolve(f.path)), f]));
  const checked = new Set<RawFile>();
  for (const { hash, file } of parseSha256Sums(readFileSync(sumsPath, 'utf8'))) {
    for (const base of [dir, dirname(sumsPath)]) {
      const f = byPath.get(normalize(resolve(base, file)));
      if (!f || checked.has(f)) continue;
      checked.add(f);
      const actual = sha256Hex(readFileSync(f.path));
      if (actual !== hash) {
        throw new InputError(
          `${f.path}: SHA-256 ${actual} does not match ${hash} listed in ${sumsPath}; the file is corrupt or from another network`,
        );
      }
    }
  }
  return sumsPath;
}

/** Read the raw per-layer weights folder into the TF.js-native in-memory form. */
export function readRawWeights(dir: string): GoogLeNetWeights {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new InputError(
      `${dir}: weights folder not found; expected a folder of raw per-layer float32 files (<layer>_filter.bin, <layer>_bias.bin)`,
    );
  }
  const files = listRawWeightFiles(dir);
  for (const f of files) {
    if (!existsSync(f.path)) {
      throw new InputError(
        `${f.path}: weights file is missing; expected ${f.count * 4} bytes (${f.shapeText} float32)`,
      );
    }
    const size = statSync(f.path).size;
    if (size !== f.count * 4) {
      throw new InputError(`${f.path}: expected ${f.count * 4} bytes (${f.shapeText} float32), got ${size} bytes`);
    }
  }
  const sums = verifyChecksums(dir, files);

  const data = new Map(files.map((f) => [f.rel, readFloat32(f.path)]));
  const get = (rel: string): Float32Array => data.get(rel)!;
  const convs = new Map<string, ConvWeights>();
  for (const c of GOOGLENET_CONVS) {
    convs.set(c.name, {
      shape: [c.kernel, c.kernel, c.inChannels, c.outChannels],
      filter: ohwiToHwio(get(`${c.name}_filter.bin`), c.outChannels, c.kernel, c.kernel, c.inChannels),
      bias: get(`${c.name}_bias.bin`),
    });
  }
  const { name, inFeatures, outFeatures } = GOOGLENET_CLASSIFIER;
  const classifier: DenseWeights = {
    shape: [inFeatures, outFeatures],
    kernel: transpose2d(get(`${name}_filter.bin`), outFeatures, inFeatures),
    bias: get(`${name}_bias.bin`),
  };
  assertFiniteWeights(convs, classifier, resolve(dir));
  const sha256 = computeWeightsSha256(convs, classifier);
  warnUnvouchedWeights(sha256, resolve(dir), sums);
  return { convs, classifier, sha256, format: 'raw', source: resolve(dir) };
}
