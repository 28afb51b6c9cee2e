/**
 * A small level-5 MAT-file writer: double/single arrays, char rows, structs (and struct arrays)
 * and cells, optionally zlib-compressed (MATLAB's -v7) and in either byte order. It writes the
 * files the readers' tests load, and brain RDMs a lab wants as .mat. Element layout from MATLAB's
 * "MAT-File Format" document; independent of the reader's code.
 */
import { deflateSync } from 'node:zlib';

export type MatWriteValue =
  | { dims: number[]; data: ArrayLike<number>; className?: 'double' | 'single' }
  | { text: string }
  | { dims: number[]; struct: Record<string, MatWriteValue>[] }
  | { dims: number[]; cell: MatWriteValue[] };

export interface MatWriteOptions {
  compress?: boolean;
  bigEndian?: boolean;
}

class Bytes {
  parts: Uint8Array[] = [];
  push(b: Uint8Array): void {
    this.parts.push(b);
  }
  concat(): Uint8Array {
    const n = this.parts.reduce((s, p) => s + p.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

function element(type: number, payload: Uint8Array, le: boolean): Uint8Array {
  const padded = Math.ceil(payload.length / 8) * 8;
  const out = new Uint8Array(8 + padded);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, le);
  dv.setUint32(4, payload.length, le);
  out.set(payload, 8);
  return out;
}

function typed(
  values: ArrayLike<number>,
  kind: 'int32' | 'uint32' | 'double' | 'single' | 'uint16',
  le: boolean,
): Uint8Array {
  const size = kind === 'double' ? 8 : kind === 'uint16' ? 2 : 4;
  const out = new Uint8Array(values.length * size);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (kind === 'double') dv.setFloat64(i * size, v, le);
    else if (kind === 'single') dv.setFloat32(i * size, v, le);
    else if (kind === 'int32') dv.setInt32(i * size, v, le);
    else if (kind === 'uint16') dv.setUint16(i * size, v, le);
    else dv.setUint32(i * size, v, le);
  }
  return out;
}

const MI = { INT8: 1, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9, MATRIX: 14, COMPRESSED: 15 };
const MX = { cell: 1, struct: 2, char: 4, double: 6, single: 7 };

function matrix(name: string, v: MatWriteValue, le: boolean): Uint8Array {
  const b = new Bytes();
  const flags = (cls: number) => element(MI.UINT32, typed([cls, 0], 'uint32', le), le);
  const nameEl = element(MI.INT8, new TextEncoder().encode(name), le);
  if ('text' in v) {
    b.push(flags(MX.char));
    b.push(element(MI.INT32, typed([1, v.text.length], 'int32', le), le));
    b.push(nameEl);
    b.push(
      element(
        MI.UINT16,
        typed(
          Array.from(v.text, (c) => c.charCodeAt(0)),
          'uint16',
          le,
        ),
        le,
      ),
    );
  } else if ('struct' in v) {
    const fields = v.struct.length ? Object.keys(v.struct[0]!) : [];
    const len = Math.max(0, ...fields.map((f) => f.length)) + 1;
    b.push(flags(MX.struct));
    b.push(element(MI.INT32, typed(v.dims, 'int32', le), le));
    b.push(nameEl);
    b.push(element(MI.INT32, typed([len], 'int32', le), le));
    const names = new Uint8Array(len * fields.length);
    fields.forEach((f, i) => names.set(new TextEncoder().encode(f), i * len));
    b.push(element(MI.INT8, names, le));
    for (const rec of v.struct) for (const f of fields) b.push(matrix('', rec[f]!, le));
  } else if ('cell' in v) {
    b.push(flags(MX.cell));
    b.push(element(MI.INT32, typed(v.dims, 'int32', le), le));
    b.push(nameEl);
    for (const c of v.cell) b.push(matrix('', c, le));
  } else {
    const single = v.className === 'single';
    b.push(flags(single ? MX.single : MX.double));
    b.push(element(MI.INT32, typed(v.dims, 'int32', le), le));
    b.push(nameEl);
    b.push(element(single ? MI.SINGLE : MI.DOUBLE, typed(v.data, single ? 'single' : 'double', le), le));
  }
  return element(MI.MATRIX, b.concat(), le);
}

/** The bytes of a MAT-file holding `variables` (column-major data, MATLAB dims). */
export function encodeMatV5(
  variables: readonly { name: string; value: MatWriteValue }[],
  options: MatWriteOptions = {},
): Uint8Array {
  const le = !options.bigEndian;
  const out = new Bytes();
  const header = new Uint8Array(128).fill(0x20);
  header.set(new TextEncoder().encode('MATLAB 5.0 MAT-file, Platform: orthostim, Created by: orthostim'), 0);
  header.fill(0, 116, 124);
  const hv = new DataView(header.buffer);
  hv.setUint16(124, 0x0100, le);
  header[126] = le ? 0x49 : 0x4d;
  header[127] = le ? 0x4d : 0x49;
  out.push(header);
  for (const { name, value } of variables) {
    const m = matrix(name, value, le);
    if (options.compress) {
      const z = deflateSync(m);
      const tag = new Uint8Array(8);
      const dv = new DataView(tag.buffer);
      dv.setUint32(0, MI.COMPRESSED, le);
      dv.setUint32(4, z.length, le);
      out.push(tag);
      out.push(z);
    } else {
      out.push(m);
    }
  }
  return out.concat();
}
