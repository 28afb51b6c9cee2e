/**
 * MATLAB MAT-file v7.3 (HDF5 with a 512-byte text header), read with h5wasm into the same values
 * as the level-5 reader. MATLAB stores an array of dims [d1, ..., dk] column-major as an HDF5
 * dataset of shape [dk, ..., d1] in C order, so the dataset's bytes are already MATLAB's element
 * order: only the shape is reversed. The `MATLAB_class` attribute names the class; structs are
 * groups (struct arrays: a dataset of object references per field), cells are datasets of object
 * references into `#refs#`, and empty arrays are a uint64 dataset of their dims with
 * `MATLAB_empty` set.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from '@orthostim/protocol';
import type { MatValue, MatVariable } from './mat-v5';

type H5 = typeof import('h5wasm/node');
let h5Promise: Promise<H5['default']> | null = null;

/** h5wasm, loaded and initialised once, on first use. */
async function loadH5(): Promise<H5['default']> {
  h5Promise ??= import('h5wasm/node').then(async (m) => {
    await m.default.ready;
    return m.default;
  });
  return h5Promise;
}

/** True when the bytes are an HDF5 file, with or without MATLAB's 512-byte user block. */
export function isHdf5(bytes: Uint8Array): boolean {
  const sig = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
  for (const at of [0, 512, 1024, 2048]) {
    if (bytes.length >= at + 8 && sig.every((b, i) => bytes[at + i] === b)) return true;
  }
  return false;
}

type Entity = NonNullable<ReturnType<InstanceType<H5['default']['File']>['get']>>;

function attrText(e: { attrs: Record<string, { value: unknown }> }, name: string): string | null {
  const a = e.attrs[name];
  if (!a) return null;
  const v = a.value;
  return typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : v == null ? null : String(v);
}

function toValue(
  h5: H5['default'],
  file: InstanceType<H5['default']['File']>,
  e: Entity,
  source: string,
  depth: number,
): MatValue {
  if (depth > 16) throw new InputError(`${source}: MAT-file nesting deeper than 16 levels`);
  if (e instanceof h5.Group) {
    const cls = attrText(e, 'MATLAB_class') ?? 'struct';
    const fields = e.keys().filter((k) => !k.startsWith('#'));
    if (cls !== 'struct')
      return { kind: 'unsupported', className: cls, dims: [1, 1], reason: `${cls} objects are not read` };
    // A struct array stores each field as a dataset of references, one per element.
    const members = fields.map((f) => [f, e.get(f)] as const);
    const refField = members.find(([, m]) => m instanceof h5.Dataset && isReferenceDataset(m));
    if (refField) {
      const shape = (refField[1] as InstanceType<H5['default']['Dataset']>).shape ?? [1];
      const dims = [...shape].reverse();
      const count = dims.reduce((a, b) => a * b, 1);
      const elements: Record<string, MatValue>[] = Array.from({ length: count }, () => ({}));
      for (const [f, m] of members) {
        const refs = (m as InstanceType<H5['default']['Dataset']>).value as unknown[];
        refs.forEach((ref, i) => {
          const target = file.dereference(ref as never);
          if (target) elements[i]![f] = toValue(h5, file, target as unknown as Entity, source, depth + 1);
        });
      }
      return { kind: 'struct', dims, fields, elements };
    }
    const rec: Record<string, MatValue> = {};
    for (const [f, m] of members) if (m) rec[f] = toValue(h5, file, m as Entity, source, depth + 1);
    return { kind: 'struct', dims: [1, 1], fields, elements: [rec] };
  }
  if (!(e instanceof h5.Dataset))
    return { kind: 'unsupported', className: 'link', dims: [0, 0], reason: 'links are not read' };
  const cls = attrText(e, 'MATLAB_class') ?? 'double';
  const shape = e.shape ?? [];
  const dims = shape.length === 0 ? [1, 1] : shape.length === 1 ? [shape[0]!, 1] : [...shape].reverse();
  const empty = e.attrs.MATLAB_empty && Number(e.attrs.MATLAB_empty.value) !== 0;
  if (empty) {
    const stored = Array.from(e.value as ArrayLike<number | bigint>, Number);
    return { kind: 'numeric', className: cls, dims: stored.length ? stored : [0, 0], data: new Float64Array(0) };
  }
  if (cls === 'cell') {
    const refs = e.value as unknown[];
    return {
      kind: 'cell',
      dims,
      elements: refs.map((ref) =>
        toValue(h5, file, file.dereference(ref as never) as unknown as Entity, source, depth + 1),
      ),
    };
  }
  if (cls === 'char') {
    const codes = Array.from(e.value as ArrayLike<number>);
    return { kind: 'char', dims, text: String.fromCharCode(...codes) };
  }
  const meta = e.metadata as { type?: number; complex?: boolean; compound_type?: unknown };
  if (meta.compound_type || meta.complex)
    return { kind: 'unsupported', className: `complex ${cls}`, dims, reason: 'complex arrays are not read' };
  if (e.attrs.MATLAB_sparse)
    return { kind: 'unsupported', className: 'sparse', dims, reason: 'sparse arrays are not read' };
  const raw = e.value as ArrayLike<number | bigint> | number | bigint | null;
  if (raw === null || typeof raw === 'string')
    return { kind: 'unsupported', className: cls, dims, reason: 'not numeric data' };
  const data =
    typeof raw === 'number' || typeof raw === 'bigint'
      ? Float64Array.of(Number(raw))
      : Float64Array.from(raw as ArrayLike<number>, Number);
  return { kind: 'numeric', className: cls === 'logical' ? 'logical' : cls, dims, data };
}

function isReferenceDataset(d: { dtype: unknown; value?: unknown }): boolean {
  return String(d.dtype) === 'Reference' || (d as { metadata?: { type?: number } }).metadata?.type === 7; // H5T_REFERENCE
}

/** Every top-level variable of a v7.3 MAT-file (any HDF5 file: its top-level datasets and groups). */
export async function readMatV73(path: string): Promise<MatVariable[]> {
  const bytes = readFileSync(path);
  if (!isHdf5(bytes)) throw new InputError(`${path}: not an HDF5 (MAT-file v7.3) file`);
  const h5 = await loadH5();
  let file: InstanceType<H5['default']['File']>;
  try {
    file = new h5.File(resolve(path), 'r');
  } catch (err) {
    throw new InputError(`${path}: HDF5 file could not be opened (${(err as Error).message})`);
  }
  try {
    return file
      .keys()
      .filter((k) => !k.startsWith('#'))
      .map((name) => ({ name, value: toValue(h5, file, file.get(name) as Entity, path, 0) }));
  } finally {
    file.close();
  }
}
