/**
 * MATLAB MAT-file level 5 (the `-v5`/`-v6`/`-v7` formats; v7 adds zlib-compressed elements),
 * parsed from bytes: numeric and logical arrays, char arrays, structs (also struct arrays) and
 * cell arrays, as MATLAB's documentation "MAT-File Format" (R2024) describes them. Complex, sparse
 * and object arrays are reported as unsupported values rather than misread. Either byte order.
 * Arrays keep MATLAB's dimensions and column-major element order.
 */
import { inflateSync } from 'node:zlib';
import { InputError } from '@orthostim/protocol';

export type MatValue =
  | { kind: 'numeric'; className: string; dims: number[]; data: Float64Array }
  | { kind: 'char'; dims: number[]; text: string }
  | { kind: 'struct'; dims: number[]; fields: string[]; elements: Record<string, MatValue>[] }
  | { kind: 'cell'; dims: number[]; elements: MatValue[] }
  | { kind: 'unsupported'; className: string; dims: number[]; reason: string };

export interface MatVariable {
  name: string;
  value: MatValue;
}

const MI = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  SINGLE: 7,
  DOUBLE: 9,
  INT64: 12,
  UINT64: 13,
  MATRIX: 14,
  COMPRESSED: 15,
  UTF8: 16,
  UTF16: 17,
  UTF32: 18,
} as const;

/** mxClass codes. */
export const MX_CLASS_NAMES: Record<number, string> = {
  1: 'cell',
  2: 'struct',
  3: 'object',
  4: 'char',
  5: 'sparse',
  6: 'double',
  7: 'single',
  8: 'int8',
  9: 'uint8',
  10: 'int16',
  11: 'uint16',
  12: 'int32',
  13: 'uint32',
  14: 'int64',
  15: 'uint64',
};

const ELEMENT_BYTES: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 2,
  5: 4,
  6: 4,
  7: 4,
  9: 8,
  12: 8,
  13: 8,
  16: 1,
  17: 2,
  18: 4,
};

/** True when the bytes start like a level-5 MAT-file (text header, version 0x0100). */
export function isMatV5(bytes: Uint8Array): boolean {
  if (bytes.length < 128) return false;
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 10));
  const le = bytes[126] === 0x49 && bytes[127] === 0x4d; // "IM": written little-endian
  const be = bytes[126] === 0x4d && bytes[127] === 0x49;
  if (!head.startsWith('MATLAB') || !(le || be)) return false;
  const version = le ? bytes[124]! | (bytes[125]! << 8) : (bytes[124]! << 8) | bytes[125]!;
  return version === 0x0100;
}

interface Element {
  type: number;
  data: Uint8Array;
}

class Reader {
  readonly view: DataView;
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly le: boolean,
    readonly source: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  fail(what: string): never {
    throw new InputError(`${this.source}: not a readable MAT-file (${what} at byte ${this.pos})`);
  }
  /** The next data element (small or regular format), advancing past its padding. */
  next(): Element {
    if (this.pos + 8 > this.bytes.length) this.fail('truncated element tag');
    const first = this.view.getUint32(this.pos, this.le);
    const small = first >>> 16;
    if (small !== 0) {
      // Small data element: 2-byte size, 2-byte type, up to 4 bytes of data in the tag itself.
      const type = first & 0xffff;
      const data = this.bytes.subarray(this.pos + 4, this.pos + 4 + small);
      this.pos += 8;
      return { type, data };
    }
    const type = first;
    const n = this.view.getUint32(this.pos + 4, this.le);
    const start = this.pos + 8;
    if (start + n > this.bytes.length) this.fail(`element of ${n} bytes past the end of the file`);
    this.pos = start + (type === MI.COMPRESSED ? n : Math.ceil(n / 8) * 8);
    return { type, data: this.bytes.subarray(start, start + n) };
  }
}

function numbers(el: Element, le: boolean, r: Reader): Float64Array {
  const size = ELEMENT_BYTES[el.type];
  if (size === undefined || el.type === MI.UTF8 || el.type === MI.UTF16 || el.type === MI.UTF32)
    r.fail(`numeric data of type ${el.type}`);
  const n = Math.floor(el.data.length / size);
  const dv = new DataView(el.data.buffer, el.data.byteOffset, el.data.byteLength);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * size;
    switch (el.type) {
      case MI.INT8:
        out[i] = dv.getInt8(o);
        break;
      case MI.UINT8:
        out[i] = dv.getUint8(o);
        break;
      case MI.INT16:
        out[i] = dv.getInt16(o, le);
        break;
      case MI.UINT16:
        out[i] = dv.getUint16(o, le);
        break;
      case MI.INT32:
        out[i] = dv.getInt32(o, le);
        break;
      case MI.UINT32:
        out[i] = dv.getUint32(o, le);
        break;
      case MI.SINGLE:
        out[i] = dv.getFloat32(o, le);
        break;
      case MI.DOUBLE:
        out[i] = dv.getFloat64(o, le);
        break;
      case MI.INT64:
        out[i] = Number(dv.getBigInt64(o, le));
        break;
      case MI.UINT64:
        out[i] = Number(dv.getBigUint64(o, le));
        break;
    }
  }
  return out;
}

function text(el: Element, le: boolean): string {
  if (el.type === MI.UTF8 || el.type === MI.INT8 || el.type === MI.UINT8)
    return new TextDecoder('utf-8').decode(el.data);
  if (el.type === MI.UTF16 || el.type === MI.UINT16)
    return String.fromCharCode(
      ...Array.from({ length: el.data.length / 2 }, (_, i) =>
        new DataView(el.data.buffer, el.data.byteOffset).getUint16(2 * i, le),
      ),
    );
  if (el.type === MI.UTF32)
    return String.fromCodePoint(
      ...Array.from({ length: el.data.length / 4 }, (_, i) =>
        new DataView(el.data.buffer, el.data.byteOffset).getUint32(4 * i, le),
      ),
    );
  return '';
}

/** Parse the contents of one miMATRIX element. */
function parseMatrix(data: Uint8Array, le: boolean, source: string): { name: string; value: MatValue } {
  const r = new Reader(data, le, source);
  if (data.length === 0)
    return { name: '', value: { kind: 'numeric', className: 'double', dims: [0, 0], data: new Float64Array(0) } };
  const flagsEl = r.next();
  const fv = new DataView(flagsEl.data.buffer, flagsEl.data.byteOffset, flagsEl.data.byteLength);
  const flagWord = fv.getUint32(0, le);
  const classCode = flagWord & 0xff;
  const complex = (flagWord & 0x0800) !== 0;
  const className = MX_CLASS_NAMES[classCode] ?? `class ${classCode}`;
  const dims = Array.from(numbers(r.next(), le, r));
  const name = text(r.next(), le);
  const count = dims.reduce((a, b) => a * b, 1);
  if (classCode === 5 || classCode === 3 || complex) {
    return {
      name,
      value: {
        kind: 'unsupported',
        className: complex ? `complex ${className}` : className,
        dims,
        reason: `${complex ? 'complex' : className} arrays are not read`,
      },
    };
  }
  if (classCode === 4) {
    return { name, value: { kind: 'char', dims, text: count === 0 ? '' : columnMajorText(text(r.next(), le), dims) } };
  }
  if (classCode === 1) {
    const elements: MatValue[] = [];
    for (let i = 0; i < count; i++) {
      const el = r.next();
      if (el.type !== MI.MATRIX) r.fail('a cell element that is not a matrix');
      elements.push(parseMatrix(el.data, le, source).value);
    }
    return { name, value: { kind: 'cell', dims, elements } };
  }
  if (classCode === 2) {
    const lengthEl = r.next();
    const fieldLength = numbers(lengthEl, le, r)[0] ?? 0;
    const namesEl = r.next();
    const nFields = fieldLength > 0 ? Math.floor(namesEl.data.length / fieldLength) : 0;
    const fields = Array.from({ length: nFields }, (_, f) => {
      const raw = namesEl.data.subarray(f * fieldLength, (f + 1) * fieldLength);
      const end = raw.indexOf(0);
      return new TextDecoder('latin1').decode(end < 0 ? raw : raw.subarray(0, end));
    });
    const elements: Record<string, MatValue>[] = [];
    for (let i = 0; i < count; i++) {
      const rec: Record<string, MatValue> = {};
      for (const f of fields) {
        const el = r.next();
        if (el.type !== MI.MATRIX) r.fail('a struct field that is not a matrix');
        rec[f] = parseMatrix(el.data, le, source).value;
      }
      elements.push(rec);
    }
    return { name, value: { kind: 'struct', dims, fields, elements } };
  }
  if (count === 0) return { name, value: { kind: 'numeric', className, dims, data: new Float64Array(0) } };
  const values = numbers(r.next(), le, r);
  if (values.length !== count) r.fail(`${values.length} values for dimensions ${dims.join('x')}`);
  return {
    name,
    value: { kind: 'numeric', className: (flagWord & 0x0200) !== 0 ? 'logical' : className, dims, data: values },
  };
}

/** A char array's rows, read from column-major storage (one row: the string itself). */
function columnMajorText(s: string, dims: number[]): string {
  const rows = dims[0] ?? 1;
  if (rows <= 1) return s;
  const cols = s.length / rows;
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    let line = '';
    for (let j = 0; j < cols; j++) line += s[j * rows + i] ?? '';
    lines.push(line.trimEnd());
  }
  return lines.join('\n');
}

/** Every variable of a level-5 MAT-file. */
export function parseMatV5(bytes: Uint8Array, source: string): MatVariable[] {
  if (!isMatV5(bytes))
    throw new InputError(`${source}: not a level-5 MAT-file (no "MATLAB 5.0 MAT-file" header with version 0x0100)`);
  const le = bytes[126] === 0x49;
  const r = new Reader(bytes, le, source);
  r.pos = 128;
  const out: MatVariable[] = [];
  while (r.pos + 8 <= bytes.length) {
    let el = r.next();
    if (el.type === MI.COMPRESSED) {
      let inflated: Uint8Array;
      try {
        inflated = inflateSync(el.data);
      } catch (err) {
        throw new InputError(`${source}: a compressed variable does not inflate (${(err as Error).message})`);
      }
      el = new Reader(inflated, le, source).next();
    }
    if (el.type !== MI.MATRIX) continue; // other top-level elements carry no variables
    const { name, value } = parseMatrix(el.data, le, source);
    out.push({ name, value });
  }
  return out;
}
