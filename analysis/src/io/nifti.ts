/**
 * NIfTI-1 and NIfTI-2 images: reading (single files and .hdr/.img pairs, gzip, either byte order,
 * every scalar datatype) into `Volume`s, writing NIfTI-1 maps, and the grid check that refuses
 * images which must share a voxel grid but do not.
 *
 * Headers are parsed by nifti-reader-js on its synchronous path (`readHeader`; its async reader
 * hangs on some gzip files). The rest follows nibabel rather than nifti-reader-js, which differs in
 * three places: the affine is the sform when sform_code > 0, else the qform when qform_code > 0,
 * else nibabel's pixdim fallback (`get_base_affine`); scl_slope/scl_inter are applied (a slope of 0
 * or NaN means none); dims 5-7 are not dropped but folded into the volume axis (see `Volume.dims`).
 */
import { readFileSync, existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { gunzip as gunzipCb, gunzipSync, gzipSync, gzip as gzipCb } from 'node:zlib';
import { promisify } from 'node:util';
import { readHeader as readNiftiReaderHeader } from 'nifti-reader-js';
import { InputError } from '@orthostim/protocol';
import { writeFileAtomic } from '@orthostim/protocol/node';
import { GZIP_MEM_LEVEL, NIFTI_HEADER_BYTES } from './encode-grid';
import {
  type Affine,
  affineAxisCodes,
  affineToQform,
  affineVoxelSizes,
  baseAffine,
  qformToAffine,
  applyAffine,
} from './affine';
import {
  NIFTI_DATATYPES,
  UNSUPPORTED_NIFTI_DATATYPES,
  NIFTI_INTENTS,
  NIFTI_OUTPUT_CODES,
  type NiftiIntent,
  type NiftiOutputDatatype,
} from './nifti-datatypes';
const gunzipAsync = promisify(gunzipCb);
const gzipAsync = promisify(gzipCb);


const SPATIAL_UNITS: Record<number, string> = { 0: 'unknown', 1: 'm', 2: 'mm', 3: 'um' };
const TEMPORAL_UNITS: Record<number, string> = { 0: 'unknown', 8: 's', 16: 'ms', 24: 'us', 32: 'Hz', 40: 'ppm', 48: 'rad/s' };
/** Seconds per unit for the temporal units that are times. */
const SECONDS_PER_UNIT: Record<string, number> = { unknown: 1, s: 1, ms: 1e-3, us: 1e-6 };
/**
 * A TR this long "in seconds" is a TR in milliseconds mislabelled (some converters write pixdim[4]
 * in ms with the unit code for seconds); no BOLD sequence has a TR near 100 s.
 */
const TR_MS_MISLABEL_THRESHOLD_S = 100;

export interface NiftiHeader {
  version: 1 | 2;
  littleEndian: boolean;
  /** A .hdr/.img pair (magic ni1/ni2) rather than a single .nii file. */
  pair: boolean;
  datatypeCode: number;
  datatypeName: string;
  bitsPerVoxel: number;
  /** dim[0..7] as stored. */
  dim: number[];
  /** pixdim[0..7] as stored. */
  pixdim: number[];
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  spatialUnit: string;
  temporalUnit: string;
  qformCode: number;
  sformCode: number;
  /** The qform as an affine (meaningful when qformCode > 0). */
  qform: Affine;
  /** The sform rows (meaningful when sformCode > 0). */
  sform: Affine;
  intentCode: number;
  intentParams: [number, number, number];
  intentName: string;
  description: string;
  sliceDuration: number;
  sliceCode: number;
  sliceStart: number;
  sliceEnd: number;
  dimInfo: number;
  calMin: number;
  calMax: number;
  toffset: number;
}

export type VolumeData = Float32Array | Float64Array;

/**
 * An image in memory. Voxel (i, j, k) of volume t is `data[i + nx * (j + ny * (k + nz * t))]`.
 * `dims` is [nx, ny, nz, nt]: missing spatial dims are 1, and nt is the product of dims 4-7
 * (1 for a 3D image), so a 5D file (e.g. [x, y, z, 1, 3]) reads as 3 volumes in file order.
 */
export interface Volume {
  /** The file it was read from (for error messages); '' for an image made in memory. */
  path: string;
  dims: [number, number, number, number];
  data: VolumeData;
  /** Voxel (i, j, k) -> world mm, row-major 4 x 4. */
  affine: Affine;
  affineSource: 'sform' | 'qform' | 'pixdim';
  /** Column norms of the affine. */
  voxelSizeMm: [number, number, number];
  /** Seconds between volumes (pixdim[4] in seconds); null for 3D images or when not stored. */
  repetitionTimeS: number | null;
  /** How the TR was read when it needed interpreting (e.g. "pixdim[4] 2000 labelled s read as ms"). */
  repetitionTimeNote?: string;
  header: NiftiHeader;
}

/** The geometry two images must share to be compared voxel by voxel. */
export interface Grid {
  path: string;
  dims: readonly number[];
  affine: Affine;
}

export interface ReadNiftiOptions {
  /** Element type of `data`: 'auto' (default) is float64 when float32 cannot hold every stored value. */
  precision?: 'auto' | 'float32' | 'float64';
}

// ---------------------------------------------------------------------------------------------
// Reading

interface RawNifti {
  header: NiftiHeader;
  /** Bytes holding the voxel values, starting at `dataOffset`. */
  bytes: Uint8Array;
  dataOffset: number;
}

const GZIP_MAGIC = [0x1f, 0x8b];

function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === GZIP_MAGIC[0] && b[1] === GZIP_MAGIC[1];
}

function readMaybeGzipSync(path: string): Uint8Array {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw new InputError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!isGzip(raw)) return raw;
  try {
    // Node's zlib (native) rather than nifti-reader-js's fflate `decompress`: same bytes, faster.
    return gunzipSync(raw);
  } catch (err) {
    throw new InputError(`${path}: gzip data is corrupt (${(err as Error).message})`);
  }
}

/** Memory for whole-file reads, handed back once a file's values are copied out: fresh pages cost more to fault in than the copy itself. */
export class ReadBufferPool {
  private readonly free: Buffer[] = [];

  /** A free buffer of at least `size` bytes (taken out of the pool), else a new one. */
  get(size: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= size);
    return i >= 0 ? this.free.splice(i, 1)[0]! : Buffer.allocUnsafe(size);
  }

  give(buffer: Buffer): void {
    this.free.push(buffer);
  }

  clear(): void {
    this.free.length = 0;
  }
}

/**
 * A whole file in one read request on libuv's pool (fs.promises.readFile reads 512 KiB at a time,
 * each step waiting for the main thread, which stalls while the main thread is busy).
 */
async function readWholeFile(path: string, pool?: ReadBufferPool): Promise<{ bytes: Buffer; backing: Buffer }> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const backing = pool ? pool.get(size) : Buffer.allocUnsafe(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await fh.read(backing, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return { bytes: backing.subarray(0, done), backing };
  } finally {
    await fh.close();
  }
}

async function readMaybeGzipAsync(path: string, pool?: ReadBufferPool): Promise<{ bytes: Uint8Array; backing?: Buffer }> {
  let raw: { bytes: Buffer; backing: Buffer };
  try {
    raw = await readWholeFile(path, pool);
  } catch (err) {
    throw new InputError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!isGzip(raw.bytes)) return raw;
  try {
    return { bytes: await gunzipAsync(raw.bytes) };
  } catch (err) {
    throw new InputError(`${path}: gzip data is corrupt (${(err as Error).message})`);
  } finally {
    pool?.give(raw.backing); // the compressed bytes are no longer needed
  }
}

/**
 * The bytes of an image's file(s), read (and gunzipped) on libuv's thread pool. Given to a reader
 * as `preloaded`, they let the next file load while this one is parsed.
 */
export interface PreloadedNifti {
  path: string;
  files: ReadonlyMap<string, Uint8Array>;
  /** Pool memory the bytes live in, to give back once they are no longer needed. */
  backings: Buffer[];
}

/** Read an image's file(s) ahead, into `pool` memory where given. */
export async function preloadNifti(path: string, pool?: ReadBufferPool): Promise<PreloadedNifti> {
  const pair = pairPaths(path);
  const read = await Promise.all((pair ? [pair.hdr, pair.img] : [path]).map(async (p) => [p, await readMaybeGzipAsync(p, pool)] as const));
  return { path, files: new Map(read.map(([p, r]) => [p, r.bytes])), backings: read.flatMap(([, r]) => (r.backing ? [r.backing] : [])) };
}

/**
 * Reads a known sequence of images one ahead: `take(path)` returns that image's bytes and starts
 * reading the next, so file reading and decompression overlap the parsing of the previous image.
 * `release` hands the bytes of a parsed image back for later reads to reuse.
 */
export class NiftiReadAhead {
  private readonly pending = new Map<string, Promise<PreloadedNifti>>();
  private readonly pool = new ReadBufferPool();

  constructor(
    private readonly paths: readonly string[],
    private readonly depth = 1,
  ) {}

  /** Start reading the first images now (e.g. before the mask is read). */
  start(): this {
    for (const path of this.paths.slice(0, this.depth)) this.preload(path);
    return this;
  }

  private preload(path: string): void {
    if (this.pending.has(path)) return;
    const p = preloadNifti(path, this.pool);
    p.catch(() => undefined); // reported when taken; not an unhandled rejection if never taken
    this.pending.set(path, p);
  }

  take(path: string): Promise<PreloadedNifti> {
    const bytes = this.pending.get(path) ?? preloadNifti(path, this.pool);
    this.pending.delete(path);
    const i = this.paths.indexOf(path);
    for (let k = i + 1; i >= 0 && k <= i + this.depth && k < this.paths.length; k++) this.preload(this.paths[k]!);
    return bytes;
  }

  /** The image's bytes are no longer used (its values were copied out): reuse their memory. */
  release(image: PreloadedNifti): void {
    for (const b of image.backings) this.pool.give(b);
  }

  /** Done reading: drop the reusable memory. */
  close(): void {
    this.pool.clear();
  }
}

/** The image file of a .hdr/.img pair, and the header file of an .img. */
function pairPaths(path: string): { hdr: string; img: string } | null {
  const m = /^(.*)\.(hdr|img)(\.gz)?$/i.exec(path);
  if (!m) return null;
  const stem = m[1]!;
  const find = (ext: string) => [`${stem}.${ext}`, `${stem}.${ext}.gz`].find((p) => existsSync(p));
  const hdr = m[2]!.toLowerCase() === 'hdr' ? path : find('hdr');
  const img = m[2]!.toLowerCase() === 'img' ? path : find('img');
  if (!hdr) throw new InputError(`${path}: the header file ${stem}.hdr[.gz] of this .img is missing`);
  if (!img) throw new InputError(`${path}: the image file ${stem}.img[.gz] of this .hdr is missing`);
  return { hdr, img };
}

function headerVersion(path: string, b: Uint8Array): { version: 1 | 2; littleEndian: boolean } {
  if (b.length < 348) throw new InputError(`${path}: ${b.length} bytes is too short for a NIfTI header (348 or 540 bytes)`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = dv.getInt32(0, true);
  const be = dv.getInt32(0, false);
  if (le === 348 || be === 348) {
    const magic = String.fromCharCode(b[344]!, b[345]!, b[346]!);
    if (magic !== 'n+1' && magic !== 'ni1') {
      throw new InputError(`${path}: not a NIfTI-1 file (magic ${JSON.stringify(magic)}, expected "n+1" or "ni1"; Analyze 7.5 is not supported)`);
    }
    return { version: 1, littleEndian: le === 348 };
  }
  if (le === 540 || be === 540) return { version: 2, littleEndian: le === 540 };
  throw new InputError(`${path}: not a NIfTI file (sizeof_hdr is ${le}, expected 348 for NIfTI-1 or 540 for NIfTI-2)`);
}

function parseHeader(path: string, b: Uint8Array): NiftiHeader {
  const { version, littleEndian } = headerVersion(path, b);
  const size = version === 1 ? 348 : 540;
  if (b.length < size) throw new InputError(`${path}: truncated NIfTI-${version} header (${b.length} of ${size} bytes)`);
  // Only the fixed header: nifti-reader-js then skips extensions, which orthostim does not use.
  const headerBytes = new Uint8Array(b.subarray(0, size)).buffer; // a copy: Buffers may share a pool
  let h: ReturnType<typeof readNiftiReaderHeader>;
  try {
    h = readNiftiReaderHeader(headerBytes, true);
  } catch (err) {
    throw new InputError(`${path}: unreadable NIfTI header (${(err as Error).message})`);
  }
  const dv = new DataView(headerBytes);
  // The sform rows: nifti-reader-js keeps them only when it picks the sform, so read them here.
  const srowAt = version === 1 ? 280 : 400;
  const srow: number[] = [];
  for (let i = 0; i < 12; i++) {
    srow.push(version === 1 ? dv.getFloat32(srowAt + i * 4, littleEndian) : dv.getFloat64(srowAt + i * 8, littleEndian));
  }
  const sform: Affine = [...srow, 0, 0, 0, 1];
  const dim = h.dims.slice(0, 8).map(Number);
  const pixdim = h.pixDims.slice(0, 8).map(Number);
  const qfac = pixdim[0] === -1 ? -1 : 1; // nibabel fixes any other pixdim[0] to 1
  const qform = qformToAffine({
    quaternB: h.quatern_b,
    quaternC: h.quatern_c,
    quaternD: h.quatern_d,
    qoffsetX: h.qoffset_x,
    qoffsetY: h.qoffset_y,
    qoffsetZ: h.qoffset_z,
    qfac,
    zooms: [pixdim[1] ?? 1, pixdim[2] ?? 1, pixdim[3] ?? 1],
  });
  const dtCode = h.datatypeCode;
  const dt = NIFTI_DATATYPES[dtCode];
  return {
    version,
    littleEndian,
    pair: ('isHDR' in h && h.isHDR === true) || /^ni[12]/.test(h.magic),
    datatypeCode: dtCode,
    datatypeName: dt?.name ?? UNSUPPORTED_NIFTI_DATATYPES[dtCode] ?? `code ${dtCode}`,
    bitsPerVoxel: h.numBitsPerVoxel,
    dim,
    pixdim,
    voxOffset: Math.round(Number(h.vox_offset)),
    sclSlope: h.scl_slope,
    sclInter: h.scl_inter,
    spatialUnit: SPATIAL_UNITS[h.xyzt_units & 7] ?? 'unknown',
    temporalUnit: TEMPORAL_UNITS[h.xyzt_units & 56] ?? 'unknown',
    qformCode: h.qform_code,
    sformCode: h.sform_code,
    qform,
    sform,
    intentCode: h.intent_code,
    intentParams: [h.intent_p1, h.intent_p2, h.intent_p3],
    intentName: h.intent_name.replace(/\0.*$/s, ''),
    description: h.description.replace(/\0.*$/s, ''),
    sliceDuration: h.slice_duration,
    sliceCode: h.slice_code,
    sliceStart: Number(h.slice_start),
    sliceEnd: Number(h.slice_end),
    dimInfo: h.dim_info,
    calMin: h.cal_min,
    calMax: h.cal_max,
    toffset: h.toffset,
  };
}

function loadRaw(path: string, preloaded?: PreloadedNifti): RawNifti {
  if (preloaded && preloaded.path !== path) throw new RangeError(`loadRaw: preloaded bytes are of ${preloaded.path}, not ${path}`);
  const readMaybeGzip = (p: string) => preloaded?.files.get(p) ?? readMaybeGzipSync(p);
  const pair = pairPaths(path);
  if (pair) {
    const hb = readMaybeGzip(pair.hdr);
    // A .hdr names a pair whatever its magic says (as nibabel decides by file name).
    const header = { ...parseHeader(pair.hdr, hb), pair: true };
    return { header, bytes: readMaybeGzip(pair.img), dataOffset: header.voxOffset };
  }
  const bytes = readMaybeGzip(path);
  const header = parseHeader(path, bytes);
  if (header.pair) throw new InputError(`${path}: this header says its data is in a separate .img file (magic ni1); name the .hdr file`);
  return { header, bytes, dataOffset: header.voxOffset };
}

/** Spatial and volume dims as `Volume.dims` (dims 4-7 folded into the volume count). */
export function volumeDims(header: Pick<NiftiHeader, 'dim'>): [number, number, number, number] {
  const nd = header.dim[0]!;
  const d = (i: number) => (i <= nd ? header.dim[i]! : 1);
  let nt = 1;
  for (let i = 4; i <= nd; i++) nt *= d(i);
  return [d(1), d(2), d(3), nt];
}

function checkedDims(path: string, header: NiftiHeader): [number, number, number, number] {
  const nd = header.dim[0]!;
  if (!(nd >= 1 && nd <= 7)) throw new InputError(`${path}: dim[0] is ${nd}; expected 1-7`);
  for (let i = 1; i <= nd; i++) {
    const v = header.dim[i]!;
    if (!Number.isInteger(v) || v < 1) throw new InputError(`${path}: dim[${i}] is ${v}; expected a positive size`);
  }
  return volumeDims(header);
}

function bestAffine(header: NiftiHeader, dims: readonly number[]): { affine: Affine; source: Volume['affineSource'] } {
  if (header.sformCode > 0 && header.sform.every(Number.isFinite)) return { affine: header.sform.slice(), source: 'sform' };
  if (header.qformCode > 0) return { affine: header.qform.slice(), source: 'qform' };
  return { affine: baseAffine(dims, [header.pixdim[1] ?? 1, header.pixdim[2] ?? 1, header.pixdim[3] ?? 1]), source: 'pixdim' };
}

function repetitionTime(header: NiftiHeader, dims: readonly number[]): { tr: number | null; note?: string } {
  const raw = header.pixdim[4] ?? 0;
  if (dims[3]! <= 1 || !(raw > 0) || !Number.isFinite(raw)) return { tr: null };
  const unit = header.temporalUnit;
  const perUnit = SECONDS_PER_UNIT[unit];
  if (perUnit === undefined) return { tr: null, note: `pixdim[4] ${raw} is in ${unit}, not a time` };
  const tr = raw * perUnit;
  if ((unit === 's' || unit === 'unknown') && tr >= TR_MS_MISLABEL_THRESHOLD_S) {
    return { tr: raw / 1000, note: `pixdim[4] ${raw} labelled ${unit === 's' ? 'seconds' : 'with no unit'} read as milliseconds` };
  }
  return { tr, ...(unit === 'unknown' ? { note: `pixdim[4] ${raw} has no time unit; read as seconds` } : {}) };
}

/** The stored values, native byte order and aligned, viewed by the datatype's typed array. */
function storedValues(path: string, raw: RawNifti, count: number) {
  const { header } = raw;
  const dt = NIFTI_DATATYPES[header.datatypeCode];
  if (!dt) {
    const why = UNSUPPORTED_NIFTI_DATATYPES[header.datatypeCode] ?? `unknown code ${header.datatypeCode}`;
    throw new InputError(`${path}: datatype ${why} is not supported; expected a scalar image (uint8, int8, int16, uint16, int32, uint32, int64, uint64, float32, float64)`);
  }
  const nbytes = count * dt.bytes;
  if (raw.dataOffset + nbytes > raw.bytes.length) {
    throw new InputError(
      `${path}: file holds ${raw.bytes.length - raw.dataOffset} bytes of voxel data after offset ${raw.dataOffset}; the header needs ${nbytes} (${count} ${dt.name} values)`,
    );
  }
  let region = raw.bytes.subarray(raw.dataOffset, raw.dataOffset + nbytes);
  const swap = !header.littleEndian && dt.bytes > 1;
  // Typed arrays need aligned offsets; byte-swapping needs a buffer we may write (we own `bytes`).
  if ((region.byteOffset % dt.bytes) !== 0) region = region.slice();
  if (swap) {
    const b = Buffer.from(region.buffer, region.byteOffset, region.byteLength);
    if (dt.bytes === 2) b.swap16();
    else if (dt.bytes === 4) b.swap32();
    else b.swap64();
  }
  return { dt, values: dt.view(region.buffer, region.byteOffset, count) };
}

/** nibabel's rule: slope 0 or not finite means no scaling. */
function scaling(header: NiftiHeader, path: string): { slope: number; inter: number } | null {
  const { sclSlope: slope, sclInter: inter } = header;
  if (slope === 0 || !Number.isFinite(slope)) return null;
  if (!Number.isFinite(inter)) throw new InputError(`${path}: scl_slope is ${slope} but scl_inter is ${inter}; expected a finite intercept`);
  if (slope === 1 && inter === 0) return null;
  return { slope, inter };
}

function fillScaled(
  out: VolumeData,
  values: ArrayLike<number> | BigInt64Array | BigUint64Array,
  bigint: boolean,
  scale: { slope: number; inter: number } | null,
): void {
  const n = out.length;
  if (bigint) {
    const v = values as BigInt64Array;
    for (let i = 0; i < n; i++) out[i] = Number(v[i]!);
  } else {
    out.set(values as ArrayLike<number>);
  }
  if (scale) {
    const { slope, inter } = scale;
    for (let i = 0; i < n; i++) out[i] = out[i]! * slope + inter;
  }
}

function volumeFromHeader(path: string, header: NiftiHeader, dims: [number, number, number, number], data: VolumeData): Volume {
  const { affine, source } = bestAffine(header, dims);
  const { tr, note } = repetitionTime(header, dims);
  return {
    path,
    dims,
    data,
    affine,
    affineSource: source,
    voxelSizeMm: affineVoxelSizes(affine),
    repetitionTimeS: tr,
    ...(note ? { repetitionTimeNote: note } : {}),
    header,
  };
}

/** Read a NIfTI-1/-2 image (.nii, .nii.gz, .hdr/.img[.gz]) with scaling applied. */
export function readNifti(path: string, options: ReadNiftiOptions = {}): Volume {
  const raw = loadRaw(path);
  const dims = checkedDims(path, raw.header);
  const count = dims[0] * dims[1] * dims[2] * dims[3];
  const { dt, values } = storedValues(path, raw, count);
  const precision = options.precision ?? 'auto';
  const use64 = precision === 'float64' || (precision === 'auto' && !dt.exactInFloat32);
  const data = use64 ? new Float64Array(count) : new Float32Array(count);
  fillScaled(data, values, dt.bigint === true, scaling(raw.header, path));
  return volumeFromHeader(path, raw.header, dims, data);
}

/**
 * A 3D image given as a mask, label image, atlas or template: refused, naming the file and its
 * role, when it holds several volumes (e.g. a 4D BOLD or beta file passed by mistake).
 */
export function readVolume3d(path: string, role: string): Volume {
  const v = readNifti(path);
  if (v.dims[3] !== 1) throw new InputError(`${path}: ${role} must be one 3D volume; this image has ${v.dims[3]} volumes (${v.dims.join('x')})`);
  return v;
}

/** Header, dims, affine and TR of an image without converting its voxel values. */
export function readNiftiInfo(path: string): Omit<Volume, 'data'> {
  const raw = loadRaw(path);
  const dims = checkedDims(path, raw.header);
  const v = volumeFromHeader(path, raw.header, dims, new Float32Array(0));
  const { data: _unused, ...rest } = v;
  return rest;
}

export interface ReadVoxelsOptions {
  /**
   * 'time-major' (default): value of voxel i at volume t is data[t * n + i]. 'voxel-major': each
   * voxel's series is contiguous, data[i * nt + t] (what the GLM fits).
   */
  layout?: 'time-major' | 'voxel-major';
  /** Put `data` in a SharedArrayBuffer (for worker threads). */
  shared?: boolean;
  /** Refuse the image unless it is on this grid (checked before any voxel is read). */
  sameGridAs?: { grid: Grid; what: string };
  /** The file's bytes from `preloadNifti` (read ahead); otherwise the file is read now. */
  preloaded?: PreloadedNifti;
}

/**
 * Read the time series of chosen voxels of a 4D image (`voxels`: linear indices into one volume),
 * without building the whole 4D float array, so a 1 GB run costs its file bytes plus the series.
 */
export function readNiftiVoxels(path: string, voxels: Int32Array | Uint32Array, options: ReadVoxelsOptions = {}): Omit<Volume, 'data'> & { data: Float32Array } {
  const raw = loadRaw(path, options.preloaded);
  const dims = checkedDims(path, raw.header);
  const info = volumeFromHeader(path, raw.header, dims, new Float32Array(0));
  if (options.sameGridAs) assertSameGrid(options.sameGridAs.grid, info, options.sameGridAs.what);
  const nvox = dims[0] * dims[1] * dims[2];
  const nt = dims[3];
  const { dt, values } = storedValues(path, raw, nvox * nt);
  const n = voxels.length;
  for (let i = 0; i < n; i++) {
    const v = voxels[i]!;
    if (!(v >= 0 && v < nvox)) throw new RangeError(`readNiftiVoxels: voxel index ${v} outside 0..${nvox - 1}`);
  }
  const scale = scaling(raw.header, path);
  const slope = scale?.slope ?? 1;
  const inter = scale?.inter ?? 0;
  const out = options.shared ? new Float32Array(new SharedArrayBuffer(n * nt * 4)) : new Float32Array(n * nt);
  const get: (j: number) => number = dt.bigint
    ? (j) => Number((values as BigInt64Array)[j]!)
    : (j) => (values as Float32Array)[j]!; // any numeric typed array; indexed reads only
  if (options.layout === 'voxel-major') {
    // Blocks of voxels: reads stay near each other within a volume, writes stay in cache.
    const B = 256;
    const src = values as Float32Array;
    for (let i0 = 0; i0 < n; i0 += B) {
      const i1 = Math.min(n, i0 + B);
      for (let t = 0; t < nt; t++) {
        const base = t * nvox;
        if (dt.bigint) for (let i = i0; i < i1; i++) out[i * nt + t] = get(base + voxels[i]!) * slope + inter;
        else for (let i = i0; i < i1; i++) out[i * nt + t] = src[base + voxels[i]!]! * slope + inter;
      }
    }
  } else {
    const src = values as Float32Array;
    for (let t = 0; t < nt; t++) {
      const base = t * nvox;
      const o = t * n;
      if (dt.bigint) for (let i = 0; i < n; i++) out[o + i] = get(base + voxels[i]!) * slope + inter;
      else for (let i = 0; i < n; i++) out[o + i] = src[base + voxels[i]!]! * slope + inter;
    }
  }
  return { ...info, data: out };
}

/**
 * The temporal mean of every voxel of a 4D image (scaling applied) as one float32 volume, without
 * building the 4D float array: a mean EPI for report backgrounds costs the file's bytes only.
 */
export function readNiftiMeanVolume(path: string): Omit<Volume, 'data'> & { data: Float32Array } {
  const raw = loadRaw(path);
  const dims = checkedDims(path, raw.header);
  const info = volumeFromHeader(path, raw.header, dims, new Float32Array(0));
  const nvox = dims[0] * dims[1] * dims[2];
  const nt = dims[3];
  const { dt, values } = storedValues(path, raw, nvox * nt);
  const sum = new Float64Array(nvox);
  if (dt.bigint) {
    const v = values as BigInt64Array;
    for (let t = 0; t < nt; t++) for (let i = 0, o = t * nvox; i < nvox; i++) sum[i] = sum[i]! + Number(v[o + i]!);
  } else {
    const v = values as Float32Array; // any numeric typed array; indexed reads only
    for (let t = 0; t < nt; t++) for (let i = 0, o = t * nvox; i < nvox; i++) sum[i] = sum[i]! + v[o + i]!;
  }
  const scale = scaling(raw.header, path);
  const slope = scale?.slope ?? 1;
  const inter = scale?.inter ?? 0;
  const data = new Float32Array(nvox);
  for (let i = 0; i < nvox; i++) data[i] = (sum[i]! / nt) * slope + inter;
  return { ...info, dims: [dims[0], dims[1], dims[2], 1], data };
}

/** Orientation of an image as nibabel's `aff2axcodes`, e.g. "RAS", "LAS". */
export function volumeAxisCodes(v: { affine: Affine }): string {
  return affineAxisCodes(v.affine);
}

// ---------------------------------------------------------------------------------------------
// Grids

function describeGrid(g: Grid): string {
  const vs = affineVoxelSizes(g.affine).map((s) => +s.toFixed(3));
  const o = applyAffine(g.affine, 0, 0, 0).map((x) => +x.toFixed(2));
  return `${g.dims.slice(0, 3).join('x')} voxels of ${vs.join('x')} mm, ${affineAxisCodes(g.affine)}, voxel 0 at (${o.join(', ')})`;
}

/** Same spatial dims and affines equal within 1e-4 mm + 1e-5 relative (float32 header rounding). */
export function sameGrid(a: Grid, b: Grid): boolean {
  for (let i = 0; i < 3; i++) if ((a.dims[i] ?? 1) !== (b.dims[i] ?? 1)) return false;
  for (let i = 0; i < 16; i++) {
    const x = a.affine[i]!;
    const y = b.affine[i]!;
    if (!(Math.abs(x - y) <= 1e-4 + 1e-5 * Math.max(Math.abs(x), Math.abs(y)))) return false;
  }
  return true;
}

/** Throw a one-line InputError naming both files unless they share a voxel grid. */
export function assertSameGrid(a: Grid, b: Grid, what: string): void {
  if (sameGrid(a, b)) return;
  throw new InputError(
    `${what}: ${a.path || '(image)'} and ${b.path || '(image)'} are on different voxel grids (${describeGrid(a)} vs ${describeGrid(b)}); resample one onto the other first`,
  );
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface WriteNiftiOptions {
  /** Stored datatype (default float32); integer types round and refuse values out of range. */
  datatype?: NiftiOutputDatatype;
  intent?: NiftiIntent;
  /** intent_p1..p3, e.g. [dof] for `ttest` and `correlation`. */
  intentParams?: number[];
  intentName?: string;
  /**
   * Header the image derives from (e.g. the BOLD run of a beta map): its sform/qform codes are
   * kept. Without it both codes are 2 (aligned anatomy).
   */
  reference?: Pick<NiftiHeader, 'qformCode' | 'sformCode'>;
  description?: string;
  /** pixdim[4] of a 4D image, in seconds. */
  repetitionTimeS?: number;
  /** gzip level for .nii.gz (default 6). */
  gzipLevel?: number;
}

export interface NiftiImage {
  dims: readonly number[];
  data: ArrayLike<number>;
  affine: Affine;
}

function putString(b: Uint8Array, at: number, max: number, s: string): void {
  const bytes = new TextEncoder().encode(s).subarray(0, max - 1);
  b.set(bytes, at);
}

/**
 * The 352 header bytes of a single-file NIfTI-1 image (little-endian, vox_offset 352, no
 * extensions) for `image`'s dims and affine; the values follow them in the file.
 */
export function encodeNiftiHeader(image: Omit<NiftiImage, 'data'>, options: WriteNiftiOptions = {}): Uint8Array {
  const [nx = 1, ny = 1, nz = 1, ntRaw = 1] = image.dims;
  const nt = ntRaw;
  for (const d of [nx, ny, nz, nt]) if (!(Number.isInteger(d) && d >= 1 && d <= 32767)) throw new RangeError(`encodeNifti: dims ${image.dims.join('x')} do not fit NIfTI-1`);
  const datatype = options.datatype ?? 'float32';
  const code = NIFTI_OUTPUT_CODES[datatype];
  const dt = NIFTI_DATATYPES[code]!;
  const out = new Uint8Array(NIFTI_HEADER_BYTES);
  const dv = new DataView(out.buffer);
  const le = true;
  dv.setInt32(0, 348, le);
  const ndim = nt > 1 ? 4 : 3;
  const dim = [ndim, nx, ny, nz, nt, 1, 1, 1];
  dim.forEach((v, i) => dv.setInt16(40 + 2 * i, v, le));
  const intent = NIFTI_INTENTS[options.intent ?? 'none'];
  const params = options.intentParams ?? [];
  for (let i = 0; i < 3; i++) dv.setFloat32(56 + 4 * i, params[i] ?? 0, le);
  dv.setInt16(68, intent.code, le);
  dv.setInt16(70, code, le);
  dv.setInt16(72, dt.bytes * 8, le);
  const q = affineToQform(image.affine);
  const pixdim = [q.qfac, q.zooms[0], q.zooms[1], q.zooms[2], nt > 1 ? (options.repetitionTimeS ?? 0) : 0, 0, 0, 0];
  pixdim.forEach((v, i) => dv.setFloat32(76 + 4 * i, v, le));
  dv.setFloat32(108, 352, le);
  dv.setFloat32(112, 1, le); // scl_slope 1, scl_inter 0: values are stored as they are
  dv.setFloat32(116, 0, le);
  out[123] = 2 | 8; // mm, s
  putString(out, 148, 80, options.description ?? 'orthostim');
  const ref = options.reference;
  const sformCode = ref && ref.sformCode > 0 ? ref.sformCode : ref && ref.qformCode > 0 ? ref.qformCode : 2;
  const qformCode = ref && ref.qformCode > 0 ? ref.qformCode : sformCode;
  dv.setInt16(252, qformCode, le);
  dv.setInt16(254, sformCode, le);
  [q.quaternB, q.quaternC, q.quaternD, q.qoffsetX, q.qoffsetY, q.qoffsetZ].forEach((v, i) => dv.setFloat32(256 + 4 * i, v, le));
  for (let i = 0; i < 12; i++) dv.setFloat32(280 + 4 * i, image.affine[i]!, le);
  putString(out, 328, 16, options.intentName ?? '');
  putString(out, 344, 4, 'n+1');
  // bytes 348-351 stay 0: no extensions
  return out;
}

/** The bytes of an uncompressed single-file NIfTI-1 image (little-endian, vox_offset 352). */
export function encodeNifti(image: NiftiImage, options: WriteNiftiOptions = {}): Uint8Array {
  const nvox = image.dims.slice(0, 4).reduce((a: number, b) => a * (b ?? 1), 1);
  if (image.data.length !== nvox) throw new RangeError(`encodeNifti: ${image.data.length} values for dims ${image.dims.join('x')} (${nvox})`);
  const datatype = options.datatype ?? 'float32';
  const dt = NIFTI_DATATYPES[NIFTI_OUTPUT_CODES[datatype]]!;
  const out = new Uint8Array(NIFTI_HEADER_BYTES + nvox * dt.bytes);
  out.set(encodeNiftiHeader(image, options));
  const target = dt.view(out.buffer, NIFTI_HEADER_BYTES, nvox) as Float32Array | Int16Array | Uint8Array;
  const dv = new DataView(out.buffer);
  const le = true;
  let calMin = Infinity;
  let calMax = -Infinity;
  if (datatype === 'float32') {
    target.set(image.data);
  } else {
    const lo = datatype === 'int16' ? -32768 : 0;
    const hi = datatype === 'int16' ? 32767 : 255;
    for (let i = 0; i < nvox; i++) {
      const v = Math.round(image.data[i]!);
      if (!(v >= lo && v <= hi)) throw new RangeError(`encodeNifti: value ${image.data[i]} at index ${i} does not fit ${datatype} (${lo}..${hi})`);
      target[i] = v;
    }
  }
  if (options.intent === 'label') {
    for (let i = 0; i < nvox; i++) {
      const v = target[i]!;
      if (v < calMin) calMin = v;
      if (v > calMax) calMax = v;
    }
    dv.setFloat32(124, calMax, le);
    dv.setFloat32(128, calMin, le);
  }
  return out;
}

function isGzPath(path: string): boolean {
  return /\.gz$/i.test(path);
}

function checkOutputPath(path: string): void {
  if (!/\.nii(\.gz)?$/i.test(path)) throw new RangeError(`writeNifti: ${path} must end in .nii or .nii.gz`);
}

/** Write a NIfTI-1 image atomically; `.nii.gz` paths are gzip-compressed. */
export function writeNifti(path: string, image: NiftiImage, options: WriteNiftiOptions = {}): void {
  checkOutputPath(path);
  const bytes = encodeNifti(image, options);
  writeFileAtomic(path, isGzPath(path) ? gzipSync(bytes, { level: options.gzipLevel ?? 6, memLevel: GZIP_MEM_LEVEL }) : bytes);
}

/** As `writeNifti`, compressing on libuv's thread pool so several maps compress in parallel. */
export async function writeNiftiAsync(path: string, image: NiftiImage, options: WriteNiftiOptions = {}): Promise<void> {
  checkOutputPath(path);
  await writeNiftiBytesAsync(path, encodeNifti(image, options), options.gzipLevel);
}

/** Write the bytes of an encoded image, gzipped on libuv's pool for .nii.gz. */
export async function writeNiftiBytesAsync(path: string, bytes: Uint8Array, gzipLevel = 6): Promise<void> {
  checkOutputPath(path);
  writeFileAtomic(path, isGzPath(path) ? await gzipAsync(bytes, { level: gzipLevel, memLevel: GZIP_MEM_LEVEL }) : bytes);
}

/** The gzip level a map at `path` gets: `level` for .nii.gz, null (stored as is) for .nii. */
export function niftiGzipLevel(path: string, level: number): number | null {
  checkOutputPath(path);
  return isGzPath(path) ? level : null;
}
