/**
 * The NIfTI datatype codes orthostim reads, in one table: element size, the typed array that views
 * the stored values, and whether float32 holds every stored value exactly (else reading defaults to
 * float64). Codes that are not scalar real numbers (complex, RGB, bit, float128) are listed with the
 * reason they are refused, so the error can say so.
 */
type NumericArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

export interface NiftiDatatype {
  code: number;
  name: string;
  bytes: number;
  /** View `count` stored values at `byteOffset` of `buffer` (native byte order, aligned). */
  view(buffer: ArrayBufferLike, byteOffset: number, count: number): NumericArray;
  /** Every stored value is exactly representable in float32. */
  exactInFloat32: boolean;
  /** 64-bit integers come as bigint and are converted one by one. */
  bigint?: boolean;
}

export const NIFTI_DATATYPES: Readonly<Record<number, NiftiDatatype>> = {
  2: { code: 2, name: 'uint8', bytes: 1, view: (b, o, n) => new Uint8Array(b, o, n), exactInFloat32: true },
  256: { code: 256, name: 'int8', bytes: 1, view: (b, o, n) => new Int8Array(b, o, n), exactInFloat32: true },
  4: { code: 4, name: 'int16', bytes: 2, view: (b, o, n) => new Int16Array(b, o, n), exactInFloat32: true },
  512: { code: 512, name: 'uint16', bytes: 2, view: (b, o, n) => new Uint16Array(b, o, n), exactInFloat32: true },
  8: { code: 8, name: 'int32', bytes: 4, view: (b, o, n) => new Int32Array(b, o, n), exactInFloat32: false },
  768: { code: 768, name: 'uint32', bytes: 4, view: (b, o, n) => new Uint32Array(b, o, n), exactInFloat32: false },
  16: { code: 16, name: 'float32', bytes: 4, view: (b, o, n) => new Float32Array(b, o, n), exactInFloat32: true },
  64: { code: 64, name: 'float64', bytes: 8, view: (b, o, n) => new Float64Array(b, o, n), exactInFloat32: false },
  1024: {
    code: 1024,
    name: 'int64',
    bytes: 8,
    view: (b, o, n) => new BigInt64Array(b, o, n),
    exactInFloat32: false,
    bigint: true,
  },
  1280: {
    code: 1280,
    name: 'uint64',
    bytes: 8,
    view: (b, o, n) => new BigUint64Array(b, o, n),
    exactInFloat32: false,
    bigint: true,
  },
};

/** Datatypes that exist in NIfTI but are not scalar real numbers. */
export const UNSUPPORTED_NIFTI_DATATYPES: Readonly<Record<number, string>> = {
  0: 'unknown (0)',
  1: 'binary (1 bit per voxel)',
  32: 'complex64 (take the magnitude or real part first)',
  128: 'rgb24 (a colour image, not a scalar map)',
  1536: 'float128',
  1792: 'complex128 (take the magnitude or real part first)',
  2048: 'complex256',
  2304: 'rgba32 (a colour image, not a scalar map)',
};

/** Datatypes orthostim writes. */
export type NiftiOutputDatatype = 'float32' | 'int16' | 'uint8';
export const NIFTI_OUTPUT_CODES: Readonly<Record<NiftiOutputDatatype, number>> = { float32: 16, int16: 4, uint8: 2 };

/**
 * NIfTI intent codes for the maps orthostim writes (nifti1.h). `params` names the intent_p*
 * values the code takes.
 */
export const NIFTI_INTENTS = {
  none: { code: 0, params: [] },
  correlation: { code: 2, params: ['dof'] },
  ttest: { code: 3, params: ['dof'] },
  zscore: { code: 5, params: [] },
  pvalue: { code: 22, params: [] },
  estimate: { code: 1001, params: [] },
  label: { code: 1002, params: [] },
} as const satisfies Record<string, { code: number; params: readonly string[] }>;
export type NiftiIntent = keyof typeof NIFTI_INTENTS;

/** Bytes of a NIfTI-1 header with its 4-byte extension flag: where a single-file image's voxels start. */
export const NIFTI_HEADER_BYTES = 352;

/** zlib's largest hash table: 20% faster on float maps than the default 8, same format. */
export const GZIP_MEM_LEVEL = 9;
