import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  readHeader as nrjReadHeader,
  readImage as nrjReadImage,
  decompress as nrjDecompress,
  isCompressed as nrjIsCompressed,
} from 'nifti-reader-js';
import { InputError } from '@orthostim/protocol';
import { createRng } from '@orthostim/rdm';
import { hasShared, requireShared } from '@orthostim/test';
import { applyAffine, affineAxisCodes } from './affine';
import {
  assertSameGrid,
  encodeNifti,
  NiftiReadAhead,
  readNifti,
  readVolume3d,
  readNiftiInfo,
  readNiftiVoxels,
  volumeAxisCodes,
  writeNifti,
  writeNiftiAsync,
} from './nifti';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-nifti-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Header facts from ../shared/data/MANIFEST.md (read there with nibabel 5.0.0): dims, datatype,
 * pixdim, qform/sform codes, orientation, stored (unscaled) value range, scl slope/intercept.
 */
interface Known {
  file: string;
  version: 1 | 2;
  endian: 'LE' | 'BE';
  dims: number[];
  datatype: string;
  pixdim: number[];
  codes: [number, number];
  orient: string;
  stored: [number, number];
  slope: number;
  inter: number;
}
const KNOWN: Known[] = [
  {
    file: 'brainiak/mask.nii.gz',
    version: 1,
    endian: 'LE',
    dims: [64, 64, 26, 1],
    datatype: 'int32',
    pixdim: [3.5, 3.5, 5.0],
    codes: [0, 0],
    orient: 'LAS',
    stored: [0, 1],
    slope: 1,
    inter: 0,
  },
  {
    file: 'brainiak/subject1_bet.nii.gz',
    version: 1,
    endian: 'LE',
    dims: [64, 64, 26, 10],
    datatype: 'float32',
    pixdim: [3.5, 3.5, 5.0, 1.0],
    codes: [1, 1],
    orient: 'LAS',
    stored: [0, 502],
    slope: 1,
    inter: 0,
  },
  {
    file: 'mricron/AICHAmc.nii.gz',
    version: 1,
    endian: 'LE',
    dims: [91, 109, 91, 1],
    datatype: 'uint8',
    pixdim: [2, 2, 2],
    codes: [2, 2],
    orient: 'LAS',
    stored: [0, 192],
    slope: 1,
    inter: 0,
  },
  {
    file: 'mricron/JHU-WhiteMatter-labels-2mm.nii.gz',
    version: 1,
    endian: 'LE',
    dims: [91, 109, 91, 1],
    datatype: 'uint8',
    pixdim: [2, 2, 2],
    codes: [4, 4],
    orient: 'RAS',
    stored: [0, 48],
    slope: 1,
    inter: 0,
  },
  {
    file: 'mricron/aal.nii.gz',
    version: 1,
    endian: 'LE',
    dims: [181, 217, 181, 1],
    datatype: 'uint8',
    pixdim: [1, 1, 1],
    codes: [0, 4],
    orient: 'RAS',
    stored: [0, 116],
    slope: 1,
    inter: 0,
  },
  {
    file: 'nifti-reader-js/5D_small.nii',
    version: 1,
    endian: 'LE',
    dims: [1, 2, 3, 3],
    datatype: 'uint8',
    pixdim: [1, 1, 1],
    codes: [2, 1],
    orient: 'PSR',
    stored: [0, 255],
    slope: 0.002758,
    inter: 0.076919,
  },
  {
    file: 'nifti-reader-js/air.hdr.gz',
    version: 1,
    endian: 'LE',
    dims: [79, 67, 64, 1],
    datatype: 'float32',
    pixdim: [2.3897, 2.3665, 2.3852],
    codes: [0, 1],
    orient: 'AIR',
    stored: [0, 92.5539],
    slope: 1,
    inter: 0,
  },
  {
    file: 'nifti-reader-js/air2.hdr.gz',
    version: 2,
    endian: 'LE',
    dims: [79, 67, 64, 1],
    datatype: 'float32',
    pixdim: [2.3897, 2.3665, 2.3852],
    codes: [0, 1],
    orient: 'AIR',
    stored: [0, 92.5539],
    slope: 1,
    inter: 0,
  },
  {
    file: 'nifti-reader-js/avg152T1_LR_nifti.nii.gz',
    version: 1,
    endian: 'BE',
    dims: [91, 109, 91, 1],
    datatype: 'uint8',
    pixdim: [2, 2, 2],
    codes: [0, 4],
    orient: 'LAS',
    stored: [0, 255],
    slope: 0,
    inter: 0,
  },
  {
    file: 'nifti-reader-js/avg152T1_LR_nifti2.nii.gz',
    version: 2,
    endian: 'LE',
    dims: [91, 109, 91, 1],
    datatype: 'float32',
    pixdim: [2, 2, 2],
    codes: [0, 4],
    orient: 'LAS',
    stored: [0, 255],
    slope: 0,
    inter: 0,
  },
  {
    file: 'nifti-reader-js/big.nii.gz',
    version: 1,
    endian: 'BE',
    dims: [64, 64, 21, 1],
    datatype: 'float32',
    pixdim: [4, 4, 6],
    codes: [1, 0],
    orient: 'LAS',
    stored: [-8.71075, 18.5825],
    slope: 0,
    inter: 0,
  },
  {
    file: 'nifti-reader-js/with_extension.nii.gz',
    version: 1,
    endian: 'BE',
    dims: [161, 191, 151, 1],
    datatype: 'uint8',
    pixdim: [1, 1, 1],
    codes: [3, 3],
    orient: 'LPI',
    stored: [0, 1],
    slope: 1,
    inter: 0,
  },
  {
    file: 'niivue/AIL.nii.gz',
    version: 1,
    endian: 'LE',
    dims: [79, 67, 64, 1],
    datatype: 'uint8',
    pixdim: [2.3897, 2.3665, 2.3852],
    codes: [0, 1],
    orient: 'AIL',
    stored: [0, 255],
    slope: 0.362956,
    inter: 0,
  },
  {
    file: 'niivue/minimal.nii.gz',
    version: 1,
    endian: 'BE',
    dims: [64, 64, 10, 1],
    datatype: 'uint8',
    pixdim: [3, 3, 3],
    codes: [0, 0],
    orient: 'LAS',
    stored: [0, 63],
    slope: 0,
    inter: 0,
  },
  {
    file: 'niivue/nifti_space_LPI.nii.gz',
    version: 1,
    endian: 'LE',
    dims: [64, 79, 67, 1],
    datatype: 'uint8',
    pixdim: [2.3852, 2.3897, 2.3665],
    codes: [0, 1],
    orient: 'LPI',
    stored: [0, 255],
    slope: 0.362956,
    inter: 0,
  },
  {
    file: 'niivue/pcasl.nii.gz',
    version: 1,
    endian: 'LE',
    dims: [52, 68, 20, 10],
    datatype: 'int16',
    pixdim: [3, 3, 6, 2.54],
    codes: [2, 2],
    orient: 'RAS',
    stored: [0, 2640],
    slope: 1,
    inter: 0,
  },
  {
    file: 'niivue/ras.hdr',
    version: 1,
    endian: 'LE',
    dims: [62, 41, 34, 1],
    datatype: 'uint8',
    pixdim: [2.3852, 2.3897, 2.3665],
    codes: [1, 1],
    orient: 'RAS',
    stored: [0, 255],
    slope: 1,
    inter: 0,
  },
  {
    file: 'niivue/shear.nii.gz',
    version: 1,
    endian: 'LE',
    dims: [306, 422, 54, 1],
    datatype: 'uint8',
    pixdim: [0.4824, 0.4824, 2.3708],
    codes: [2, 2],
    orient: 'RAS',
    stored: [0, 255],
    slope: 7.1098,
    inter: -1024,
  },
  {
    file: 'niivue/spmMotor.nii.gz',
    version: 1,
    endian: 'LE',
    dims: [79, 95, 79, 1],
    datatype: 'int16',
    pixdim: [2, 2, 2],
    codes: [2, 2],
    orient: 'LAS',
    stored: [-18497, 32767],
    slope: 0.000371,
    inter: 0,
  },
  {
    file: 'nilearn/image_10426.nii.gz',
    version: 1,
    endian: 'LE',
    dims: [53, 63, 46, 1],
    datatype: 'float32',
    pixdim: [3, 3, 3],
    codes: [0, 2],
    orient: 'LAS',
    stored: [-7.94144, 7.94135],
    slope: 1,
    inter: 0,
  },
  {
    file: 'nitime/fmri1.nii.gz',
    version: 1,
    endian: 'LE',
    dims: [10, 10, 18, 40],
    datatype: 'int16',
    pixdim: [2.0833, 2.0833, 2.3, 1.35],
    codes: [1, 1],
    orient: 'LSP',
    stored: [0, 1147],
    slope: 1,
    inter: 0,
  },
];

function range(a: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

const closeTo = (got: number, want: number, rel = 1e-4) =>
  expect(Math.abs(got - want)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(want)));

describe.skipIf(!hasShared('data/nifti'))(
  'readNifti on the real files of ../shared/data/nifti (MANIFEST facts)',
  () => {
    for (const k of KNOWN) {
      it(k.file, () => {
        const v = readNifti(requireShared(`data/nifti/${k.file}`));
        expect(v.header.version).toBe(k.version);
        expect(v.header.littleEndian).toBe(k.endian === 'LE');
        expect(v.dims).toEqual(k.dims);
        expect(v.header.datatypeName).toBe(k.datatype);
        k.pixdim.forEach((p, i) => closeTo(v.header.pixdim[i + 1]!, p));
        expect([v.header.qformCode, v.header.sformCode]).toEqual(k.codes);
        expect(volumeAxisCodes(v)).toBe(k.orient);
        closeTo(v.header.sclSlope, k.slope, 1e-3);
        const scaled = k.slope !== 0 ? k.stored.map((s) => s * v.header.sclSlope + v.header.sclInter) : k.stored;
        const [lo, hi] = range(v.data);
        closeTo(lo, scaled[0]!, 1e-4);
        closeTo(hi, scaled[1]!, 1e-4);
        if (k.pixdim.length === 4) closeTo(v.repetitionTimeS!, k.pixdim[3]!);
        else expect(v.repetitionTimeS).toBeNull();
      });
    }

    it("takes the sform when sform_code > 0, else the qform, else nibabel's pixdim fallback", () => {
      const aal = readNifti(requireShared('data/nifti/mricron/aal.nii.gz')); // q/s 0/4
      expect(aal.affineSource).toBe('sform');
      expect(aal.affine).toEqual(aal.header.sform);
      const big = readNifti(requireShared('data/nifti/nifti-reader-js/big.nii.gz')); // q/s 1/0
      expect(big.affineSource).toBe('qform');
      // nibabel get_base_affine for a 64x64x10 grid of 3 mm voxels: x flipped, origin at the centre.
      const minimal = readNifti(requireShared('data/nifti/niivue/minimal.nii.gz')); // q/s 0/0
      expect(minimal.affineSource).toBe('pixdim');
      expect(minimal.affine).toEqual([-3, 0, 0, 94.5, 0, 3, 0, -94.5, 0, 0, 3, -13.5, 0, 0, 0, 1]);
      expect(applyAffine(minimal.affine, 31.5, 31.5, 4.5)).toEqual([0, 0, 0]);
    });

    it('agrees with nifti-reader-js on the affine where both choose the same transform', () => {
      // nifti-reader-js picks the qform when qform_code > sform_code, the sform when sform_code > 0 otherwise.
      for (const f of [
        'nifti-reader-js/big.nii.gz',
        'mricron/aal.nii.gz',
        'niivue/shear.nii.gz',
        'nitime/fmri1.nii.gz',
        'niivue/AIL.nii.gz',
      ]) {
        const path = requireShared(`data/nifti/${f}`);
        let buf = new Uint8Array(readFileSync(path)).buffer;
        if (nrjIsCompressed(buf)) buf = nrjDecompress(buf) as ArrayBuffer;
        const theirs = nrjReadHeader(buf).affine.flat();
        const ours = readNifti(path).affine;
        ours.forEach((v, i) => expect(Math.abs(v - theirs[i]!)).toBeLessThan(1e-4));
      }
    });

    it('reads the same voxel values as nifti-reader-js plus scl scaling, in either byte order', () => {
      for (const f of [
        'nifti-reader-js/big.nii.gz',
        'niivue/spmMotor.nii.gz',
        'niivue/shear.nii.gz',
        'nitime/fmri1.nii.gz',
        'brainiak/mask.nii.gz',
      ]) {
        const path = requireShared(`data/nifti/${f}`);
        let buf = new Uint8Array(readFileSync(path)).buffer;
        if (nrjIsCompressed(buf)) buf = nrjDecompress(buf) as ArrayBuffer;
        const h = nrjReadHeader(buf);
        const img = new DataView(nrjReadImage(h, buf));
        const bytes = h.numBitsPerVoxel / 8;
        const get = (i: number) => {
          const o = i * bytes;
          switch (h.datatypeCode) {
            case 2:
              return img.getUint8(o);
            case 4:
              return img.getInt16(o, h.littleEndian);
            case 8:
              return img.getInt32(o, h.littleEndian);
            case 16:
              return img.getFloat32(o, h.littleEndian);
            default:
              throw new Error(`datatype ${h.datatypeCode}`);
          }
        };
        const slope = h.scl_slope === 0 || !Number.isFinite(h.scl_slope) ? 1 : h.scl_slope;
        const inter = h.scl_slope === 0 || !Number.isFinite(h.scl_slope) ? 0 : h.scl_inter;
        const v = readNifti(path);
        const rng = createRng(7);
        for (let s = 0; s < 2000; s++) {
          const i = Math.floor(rng() * v.data.length);
          expect(v.data[i]).toBeCloseTo(Math.fround(get(i) * slope + inter), 3);
        }
      }
    });

    it('reads the same image from little- and big-endian, NIfTI-1 and NIfTI-2, pair and single files', () => {
      const pairs: [string, string][] = [
        ['nifti-reader-js/big.nii.gz', 'nifti-reader-js/little.nii.gz'], // BE vs LE float32
        ['nifti-reader-js/air.hdr.gz', 'nifti-reader-js/air2.hdr.gz'], // NIfTI-1 vs NIfTI-2 pairs
        ['nifti-reader-js/avg152T1_LR_nifti.nii.gz', 'nifti-reader-js/avg152T1_LR_nifti2.nii.gz'], // BE uint8 NIfTI-1 vs float32 NIfTI-2
        ['niivue/ras.hdr', 'niivue/ras.img'], // either half of a pair names it
      ];
      for (const [a, b] of pairs) {
        const x = readNifti(requireShared(`data/nifti/${a}`));
        const y = readNifti(requireShared(`data/nifti/${b}`));
        expect(y.dims.slice(0, 3)).toEqual(x.dims.slice(0, 3));
        expect(Array.from(y.data)).toEqual(Array.from(x.data));
        x.affine.forEach((v, i) => expect(Math.abs(v - y.affine[i]!)).toBeLessThan(1e-5));
      }
    });

    it('refuses complex and RGB images with a one-line error naming the datatype', () => {
      expect(() => readNifti(requireShared('data/nifti/niivue/complex.nii.gz'))).toThrow(
        /complex\.nii\.gz: datatype complex64/,
      );
      expect(() => readNifti(requireShared('data/nifti/niivue/ct_perfusion.nii.gz'))).toThrow(/datatype rgb24/);
      expect(() => readNifti(requireShared('data/nifti/niivue/ct_perfusion.nii.gz'))).toThrow(InputError);
    });

    it('reads chosen voxels time-major, equal to the full read', () => {
      const path = requireShared('data/nifti/nitime/fmri1.nii.gz');
      const full = readNifti(path);
      const voxels = Int32Array.from([0, 17, 999, 1799]);
      const part = readNiftiVoxels(path, voxels);
      expect(part.dims).toEqual(full.dims);
      const nvox = 10 * 10 * 18;
      for (let t = 0; t < 40; t++) voxels.forEach((v, i) => expect(part.data[t * 4 + i]).toBe(full.data[t * nvox + v]));
    });

    it('assertSameGrid accepts a BOLD run and its mask, refuses an image on another grid naming both files', () => {
      const run = readNiftiInfo(requireShared('data/bids/haxby2001/sub-1/func/sub-1_task-objects_run-1_bold.nii.gz'));
      const mask = readNiftiInfo(
        requireShared('data/bids/haxby2001/derivatives/masks/sub-1/sub-1_desc-brain_mask.nii.gz'),
      );
      expect(() => assertSameGrid(run, mask, 'brain mask')).not.toThrow();
      const other = readNiftiInfo(requireShared('data/nifti/nitime/fmri1.nii.gz'));
      expect(() => assertSameGrid(run, other, 'brain mask')).toThrow(
        /^brain mask: .*run-1_bold\.nii\.gz and .*fmri1\.nii\.gz are on different voxel grids \(6x10x10 voxels of 25x25x25 mm, LAS.* vs 10x10x18/,
      );
    });
  },
);

/** A NIfTI-1 file built field by field, independently of encodeNifti, for datatypes no real file here has. */
function craftNifti(o: {
  code: number;
  bytes: number;
  le: boolean;
  dims: number[];
  values: number[];
  slope?: number;
  inter?: number;
  units?: number;
  pixdim4?: number;
}): Uint8Array {
  const n = o.values.length;
  const out = new Uint8Array(352 + n * o.bytes);
  const dv = new DataView(out.buffer);
  dv.setInt32(0, 348, o.le);
  [o.dims.length, ...o.dims, 0, 0, 0, 0].slice(0, 8).forEach((v, i) => dv.setInt16(40 + 2 * i, v, o.le));
  dv.setInt16(70, o.code, o.le);
  dv.setInt16(72, o.bytes * 8, o.le);
  [1, 2, 3, 4, o.pixdim4 ?? 0].forEach((v, i) => dv.setFloat32(76 + 4 * i, v, o.le));
  dv.setFloat32(108, 352, o.le);
  dv.setFloat32(112, o.slope ?? 1, o.le);
  dv.setFloat32(116, o.inter ?? 0, o.le);
  out[123] = o.units ?? 10;
  out.set([0x6e, 0x2b, 0x31, 0], 344);
  o.values.forEach((v, i) => {
    const at = 352 + i * o.bytes;
    switch (o.code) {
      case 256:
        dv.setInt8(at, v);
        break;
      case 512:
        dv.setUint16(at, v, o.le);
        break;
      case 8:
        dv.setInt32(at, v, o.le);
        break;
      case 768:
        dv.setUint32(at, v, o.le);
        break;
      case 64:
        dv.setFloat64(at, v, o.le);
        break;
      case 1024:
        dv.setBigInt64(at, BigInt(v), o.le);
        break;
      case 1280:
        dv.setBigUint64(at, BigInt(v), o.le);
        break;
      case 4:
        dv.setInt16(at, v, o.le);
        break;
      default:
        throw new Error(`code ${o.code}`);
    }
  });
  return out;
}

describe('readNifti on crafted files (datatypes, byte orders, scaling, TR units)', () => {
  const cases = [
    { code: 256, bytes: 1, name: 'int8', values: [-128, -1, 0, 5, 127, 3], f64: false },
    { code: 512, bytes: 2, name: 'uint16', values: [0, 1, 65535, 300, 2, 9], f64: false },
    { code: 8, bytes: 4, name: 'int32', values: [-2147483648, 16777217, 0, 1, -5, 2147483647], f64: true },
    { code: 768, bytes: 4, name: 'uint32', values: [4294967295, 16777217, 0, 1, 7, 8], f64: true },
    { code: 64, bytes: 8, name: 'float64', values: [0.1, -1e300, 1 / 3, 0, 2, Math.PI], f64: true },
    { code: 1024, bytes: 8, name: 'int64', values: [-(2 ** 53), 2 ** 40 + 1, 0, -1, 3, 4], f64: true },
    { code: 1280, bytes: 8, name: 'uint64', values: [2 ** 53, 1, 0, 2, 3, 4], f64: true },
  ];
  for (const c of cases) {
    for (const le of [true, false]) {
      it(`${c.name} ${le ? 'little' : 'big'}-endian`, () => {
        const p = join(tmp, `${c.name}-${le ? 'le' : 'be'}.nii`);
        writeFileSync(p, craftNifti({ code: c.code, bytes: c.bytes, le, dims: [1, 2, 3], values: c.values }));
        const v = readNifti(p);
        expect(v.header.datatypeName).toBe(c.name);
        expect(v.data instanceof Float64Array).toBe(c.f64);
        expect(Array.from(v.data)).toEqual(c.values.map((x) => (c.f64 ? x : Math.fround(x))));
      });
    }
  }

  it('applies scl_slope/scl_inter, and a slope of 0 or NaN means none (gzip too)', () => {
    const vals = [0, 10, -20, 300];
    const scaled = join(tmp, 'scaled.nii.gz');
    writeFileSync(
      scaled,
      gzipSync(craftNifti({ code: 4, bytes: 2, le: false, dims: [2, 2, 1], values: vals, slope: 0.5, inter: -3 })),
    );
    expect(Array.from(readNifti(scaled).data)).toEqual([-3, 2, -13, 147]);
    for (const slope of [0, Number.NaN]) {
      const p = join(tmp, `noscale-${slope}.nii`);
      writeFileSync(p, craftNifti({ code: 4, bytes: 2, le: true, dims: [2, 2, 1], values: vals, slope, inter: 7 }));
      expect(Array.from(readNifti(p).data)).toEqual(vals);
    }
  });

  it('reads TR from pixdim[4] with its unit, and a TR in ms labelled seconds as ms', () => {
    const mk = (name: string, units: number, pixdim4: number) => {
      const p = join(tmp, name);
      writeFileSync(
        p,
        craftNifti({ code: 4, bytes: 2, le: true, dims: [1, 1, 1, 3], values: [1, 2, 3], units, pixdim4 }),
      );
      return readNifti(p);
    };
    expect(mk('tr-s.nii', 2 | 8, 2.5).repetitionTimeS).toBeCloseTo(2.5, 6);
    expect(mk('tr-ms.nii', 2 | 16, 2500).repetitionTimeS).toBeCloseTo(2.5, 6);
    expect(mk('tr-us.nii', 2 | 24, 800000).repetitionTimeS).toBeCloseTo(0.8, 6);
    const mislabelled = mk('tr-mislabelled.nii', 2 | 8, 2000);
    expect(mislabelled.repetitionTimeS).toBeCloseTo(2, 6);
    expect(mislabelled.repetitionTimeNote).toMatch(/2000 labelled seconds read as milliseconds/);
  });

  it('refuses truncated, non-NIfTI and corrupt gzip files with the file named', () => {
    const good = craftNifti({ code: 4, bytes: 2, le: true, dims: [4, 4, 4], values: new Array(64).fill(1) });
    const cut = join(tmp, 'cut.nii');
    writeFileSync(cut, good.subarray(0, 352 + 50));
    expect(() => readNifti(cut)).toThrow(
      /cut\.nii: file holds 50 bytes of voxel data after offset 352; the header needs 128/,
    );
    const junk = join(tmp, 'junk.nii');
    writeFileSync(junk, new Uint8Array(400).fill(7));
    expect(() => readNifti(junk)).toThrow(/junk\.nii: not a NIfTI file \(sizeof_hdr is/);
    const badGz = join(tmp, 'bad.nii.gz');
    writeFileSync(badGz, Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3]));
    expect(() => readNifti(badGz)).toThrow(/bad\.nii\.gz: gzip data is corrupt/);
    expect(() => readNifti(join(tmp, 'nothing.nii'))).toThrow(/nothing\.nii: cannot read \(ENOENT\)/);
  });
});

describe('writeNifti', () => {
  // An oblique affine (rotation about z by 20 degrees, unequal zooms, x flipped) on a 7x8x9 grid.
  const c = Math.cos(0.349);
  const s = Math.sin(0.349);
  const oblique = [-2 * c, -2.5 * s, 0, 80, -2 * s, 2.5 * c, 0, -110, 0, 0, 3, -60, 0, 0, 0, 1];
  const dims = [7, 8, 9];
  const rng = createRng(11);
  const data = Float32Array.from({ length: 7 * 8 * 9 }, () => rng() * 200 - 100);

  it('round-trips float32 data, the affine (sform and qform), units, intent and codes through .nii and .nii.gz', async () => {
    for (const name of ['rt.nii', 'rt.nii.gz']) {
      const p = join(tmp, name);
      writeNifti(
        p,
        { dims, data, affine: oblique },
        { intent: 'ttest', intentParams: [41], reference: { qformCode: 1, sformCode: 1 } },
      );
      const v = readNifti(p);
      expect(v.dims).toEqual([7, 8, 9, 1]);
      expect(Array.from(v.data)).toEqual(Array.from(data));
      oblique.forEach((x, i) => expect(Math.abs(v.affine[i]! - x)).toBeLessThan(1e-5));
      // The qform holds only b, c, d in float32; a = sqrt(1 - b² - c² - d²) loses precision near a
      // half-turn (as here: a = 0), a limit of the format, so it matches to 1e-3 mm per mm.
      oblique.forEach((x, i) => expect(Math.abs(v.header.qform[i]! - x)).toBeLessThan(3e-3));
      expect([v.header.qformCode, v.header.sformCode]).toEqual([1, 1]);
      expect([v.header.spatialUnit, v.header.temporalUnit]).toEqual(['mm', 's']);
      expect(v.header.intentCode).toBe(3);
      expect(v.header.intentParams[0]).toBe(41);
      expect([v.header.sclSlope, v.header.sclInter]).toEqual([1, 0]);
      expect(volumeAxisCodes(v)).toBe(affineAxisCodes(oblique));
    }
    const gz = readFileSync(join(tmp, 'rt.nii.gz'));
    expect([gz[0], gz[1]]).toEqual([0x1f, 0x8b]);
    const pa = join(tmp, 'rt-async.nii.gz');
    await writeNiftiAsync(pa, { dims, data, affine: oblique }, { intent: 'zscore' });
    const va = readNifti(pa);
    expect(Array.from(va.data)).toEqual(Array.from(data));
    expect([va.header.qformCode, va.header.sformCode, va.header.intentCode]).toEqual([2, 2, 5]);
  });

  it('keeps the reference codes: sform 4 (MNI) with qform 0 becomes 4/4', () => {
    const p = join(tmp, 'mni.nii.gz');
    writeNifti(p, { dims, data, affine: oblique }, { reference: { qformCode: 0, sformCode: 4 } });
    const v = readNifti(p);
    expect([v.header.qformCode, v.header.sformCode]).toEqual([4, 4]);
  });

  it('writes a sheared affine exactly in the sform and the nearest rigid one in the qform', () => {
    const shear = [2, 0.3, 0, -50, 0, 2, 0, -60, 0, 0, 2, -40, 0, 0, 0, 1];
    const p = join(tmp, 'shear.nii');
    writeNifti(p, { dims, data, affine: shear });
    const v = readNifti(p);
    shear.forEach((x, i) => expect(Math.abs(v.affine[i]! - x)).toBeLessThan(1e-6));
    expect(affineAxisCodes(v.header.qform)).toBe('RAS');
    // The qform columns are orthogonal.
    const q = v.header.qform;
    expect(Math.abs(q[0]! * q[1]! + q[4]! * q[5]! + q[8]! * q[9]!)).toBeLessThan(1e-5);
  });

  it('writes 4D images with the TR, and int16/uint8 label images rounding values', () => {
    const p4 = join(tmp, 'four.nii.gz');
    const d4 = Float32Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => i);
    writeNifti(p4, { dims: [2, 3, 4, 5], data: d4, affine: oblique }, { repetitionTimeS: 1.5 });
    const v4 = readNifti(p4);
    expect(v4.dims).toEqual([2, 3, 4, 5]);
    expect(v4.repetitionTimeS).toBeCloseTo(1.5, 6);
    expect(Array.from(v4.data)).toEqual(Array.from(d4));
    const labels = Float32Array.from({ length: 7 * 8 * 9 }, (_, i) => (i % 5) + 0.2);
    for (const datatype of ['int16', 'uint8'] as const) {
      const p = join(tmp, `labels-${datatype}.nii.gz`);
      writeNifti(p, { dims, data: labels, affine: oblique }, { datatype, intent: 'label' });
      const v = readNifti(p);
      expect(v.header.datatypeName).toBe(datatype);
      expect(v.header.intentCode).toBe(1002);
      expect([v.header.calMin, v.header.calMax]).toEqual([0, 4]);
      expect(Array.from(v.data)).toEqual(Array.from(labels, (x) => Math.round(x)));
    }
    expect(() => encodeNifti({ dims: [1, 1, 2], data: [1, 300], affine: oblique }, { datatype: 'uint8' })).toThrow(
      /value 300 at index 1 does not fit uint8/,
    );
    expect(() => writeNifti(join(tmp, 'x.img'), { dims, data, affine: oblique })).toThrow(
      /must end in \.nii or \.nii\.gz/,
    );
  });
});

describe('NiftiReadAhead (files read one ahead into reused memory)', () => {
  const rng = createRng(11);
  const affine = [2, 0, 0, -10, 0, 2, 0, -12, 0, 0, 2, -8];
  const write = (name: string, dims: number[], opts: { gz?: boolean; pair?: boolean } = {}) => {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, () => rng() * 10 - 5);
    const path = join(tmp, `${name}${opts.pair ? '.hdr' : opts.gz ? '.nii.gz' : '.nii'}`);
    if (opts.pair) {
      // A .hdr/.img pair: the single file's header (magic n+1 -> ni1) and its data after 352 bytes.
      const bytes = encodeNifti({ dims, data, affine });
      const hdr = bytes.slice(0, 348);
      hdr.set(new TextEncoder().encode('ni1\0'), 344);
      new DataView(hdr.buffer).setFloat32(108, 0, true);
      writeFileSync(path, hdr);
      writeFileSync(path.replace(/\.hdr$/, '.img'), bytes.subarray(352));
    } else {
      writeNifti(path, { dims, data, affine });
    }
    return path;
  };

  it('gives the same voxels as direct reads through small, larger, gzip and pair files, reusing memory only where it fits', async () => {
    const paths = [
      write('ra-small', [4, 5, 6, 3]),
      write('ra-large', [6, 7, 8, 4]), // larger than the first file's memory: a fresh buffer
      write('ra-same', [6, 7, 8, 4]), // fits the first file's freed memory
      write('ra-gz', [4, 5, 6, 2], { gz: true }),
      write('ra-pair', [4, 5, 6, 2], { pair: true }),
      write('ra-last', [4, 5, 6, 3]),
    ];
    const voxels = Int32Array.from([0, 7, 33, 119]);
    const ahead = new NiftiReadAhead(paths).start();
    const backings: Buffer[][] = [];
    for (const path of paths) {
      const pre = await ahead.take(path);
      backings.push(pre.backings);
      const got = readNiftiVoxels(path, voxels, { preloaded: pre });
      ahead.release(pre);
      const want = readNiftiVoxels(path, voxels);
      expect(got.dims).toEqual(want.dims);
      expect(Array.from(got.data)).toEqual(Array.from(want.data));
      expect(got.affine).toEqual(want.affine);
    }
    ahead.close();
    // Memory comes back and is reused (when a later read's size is known, after its stat), never
    // memory too small for the file; a gzip file's compressed bytes go back to the pool at once.
    paths.forEach((path, k) => {
      const sizes =
        k === 4 ? [statSync(path).size, statSync(path.replace(/\.hdr$/, '.img')).size] : [statSync(path).size];
      expect(backings[k]).toHaveLength(k === 3 ? 0 : sizes.length);
      for (const b of backings[k]!) expect(b.length).toBeGreaterThanOrEqual(Math.min(...sizes));
    });
    const all = backings.flat();
    expect(new Set(all).size).toBeLessThan(all.length);
  });

  it('reports a missing file when it is taken, with the file named, and leaves no unhandled rejection when it never is', async () => {
    const ok = write('ra-ok', [2, 2, 2, 1]);
    const missing = join(tmp, 'ra-missing.nii');
    const ahead = new NiftiReadAhead([ok, missing]).start();
    const first = await ahead.take(ok); // starts reading the missing file
    expect(first.files.get(ok)!.length).toBeGreaterThan(352);
    await expect(ahead.take(missing)).rejects.toThrow(/ra-missing\.nii: cannot read \(ENOENT\)/);
    const unused = new NiftiReadAhead([ok, join(tmp, 'ra-never.nii')]).start();
    await unused.take(ok); // the prefetch of ra-never fails, and nobody takes it
    await new Promise((r) => setTimeout(r, 50));
  });

  it('refuses preloaded bytes of another file', async () => {
    const a = write('ra-a', [2, 2, 2, 1]);
    const b = write('ra-b', [2, 2, 2, 1]);
    const pre = await new NiftiReadAhead([a]).take(a);
    expect(() => readNiftiVoxels(b, Int32Array.from([0]), { preloaded: pre })).toThrow(
      /preloaded bytes are of .*ra-a\.nii/,
    );
  });
});

describe('readVolume3d', () => {
  it('reads a 3D image and refuses a 4D one, naming the file, its role and its volumes', () => {
    const affine = [2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0];
    const p3 = join(tmp, 'mask3d.nii');
    const p4 = join(tmp, 'bold4d.nii');
    writeNifti(p3, { dims: [2, 3, 4], data: new Float32Array(24).fill(1), affine });
    writeNifti(p4, { dims: [2, 3, 4, 5], data: new Float32Array(120), affine });
    expect(readVolume3d(p3, '--mask').dims).toEqual([2, 3, 4, 1]);
    expect(() => readVolume3d(p4, '--mask')).toThrow(InputError);
    expect(() => readVolume3d(p4, '--mask')).toThrow(
      /bold4d\.nii: --mask must be one 3D volume; this image has 5 volumes \(2x3x4x5\)/,
    );
  });
});
