/**
 * Reading an ONNX model file into plain data: nodes with their attributes, initializers as typed
 * arrays (raw_data or the typed fields, either encoding; external data files beside the model,
 * which must stay inside its folder), graph inputs and outputs, and the default opset.
 *
 * Nothing here knows TensorFlow.js; `onnx-graph.ts` runs what this returns.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import onnxProto from 'onnx-proto';
import { InputError } from '@orthostim/protocol';

const { onnx } = onnxProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;
type LongLike = number | { toNumber(): number };

const DT = onnx.TensorProto.DataType;

/** Values of one initializer or constant: float data as float32, integer data as int32. */
export interface OnnxTensorData {
  dims: number[];
  dtype: 'float32' | 'int32';
  values: Float32Array | Int32Array;
}

export type OnnxAttribute =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'float'; value: number }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: OnnxTensorData };

export interface OnnxNode {
  /** Position in the graph, for messages about unnamed nodes. */
  index: number;
  op: string;
  /** The node's name, or `#<index> <op>` when it has none. */
  label: string;
  /** Input tensor names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attrs: Map<string, OnnxAttribute>;
}

export interface OnnxModelFile {
  path: string;
  /** The default-domain opset the graph was exported for. */
  opset: number;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensorData>;
  /** Graph inputs that are not initializers, with their dims (symbolic dims as -1). */
  inputs: { name: string; dims: number[] }[];
  outputs: string[];
  /** Some initializer lives in an external data file beside the model. */
  hasExternalData: boolean;
}

const toInt = (v: LongLike | null | undefined): number =>
  v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber();

/** int64 values that mean "to the end" (INT64_MAX) clamp into int32 range. */
const clampInt32 = (v: number): number => Math.max(-2147483648, Math.min(2147483647, v));

function fail(path: string, what: string, message: string): never {
  throw new InputError(`${path}: ${what} ${message}`);
}

/** Bytes of an external-data tensor, read from a file that must stay inside the model's folder. */
function externalBytes(modelPath: string, t: TensorProto, what: string): Uint8Array {
  const entries = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = entries.get('location');
  if (!location) fail(modelPath, what, 'is stored externally but names no location');
  const folder = realpathSync(dirname(resolve(modelPath)));
  const file = resolve(folder, location);
  if (!existsSync(file)) fail(modelPath, what, `is stored in ${location}, which does not exist beside the model`);
  const real = realpathSync(file);
  if (!real.startsWith(folder + sep))
    fail(modelPath, what, `is stored in ${location}, which resolves outside the model's folder (${real}); refused`);
  const offset = Number(entries.get('offset') ?? 0);
  const length = entries.has('length') ? Number(entries.get('length')) : statSync(real).size - offset;
  const out = new Uint8Array(length);
  const fd = openSync(real, 'r');
  try {
    const got = readSync(fd, out, 0, length, offset);
    if (got !== length) fail(modelPath, what, `needs ${length} bytes at offset ${offset} of ${location}; got ${got}`);
  } finally {
    closeSync(fd);
  }
  return out;
}

function fromRaw(raw: Uint8Array, dtype: number, count: number): Float32Array | Int32Array | null {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const need = (bytes: number) => raw.byteLength === count * bytes;
  if (dtype === DT.FLOAT && need(4))
    return Float32Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true));
  if (dtype === DT.DOUBLE && need(8))
    return Float32Array.from({ length: count }, (_, i) => view.getFloat64(i * 8, true));
  if (dtype === DT.INT64 && need(8))
    return Int32Array.from({ length: count }, (_, i) => clampInt32(Number(view.getBigInt64(i * 8, true))));
  if (dtype === DT.INT32 && need(4)) return Int32Array.from({ length: count }, (_, i) => view.getInt32(i * 4, true));
  return null;
}

function fromFields(t: TensorProto, dtype: number): Float32Array | Int32Array | null {
  if (dtype === DT.FLOAT) return Float32Array.from(t.floatData ?? []);
  if (dtype === DT.DOUBLE) return Float32Array.from(t.doubleData ?? []);
  if (dtype === DT.INT64) return Int32Array.from((t.int64Data ?? []).map((v) => clampInt32(toInt(v as LongLike))));
  if (dtype === DT.INT32) return Int32Array.from(t.int32Data ?? []);
  return null;
}

/** A TensorProto as typed values (float32 for float and double, int32 for int32 and int64). */
export function readTensorProto(modelPath: string, t: TensorProto, what: string): OnnxTensorData {
  const dims = (t.dims ?? []).map((d) => toInt(d as LongLike));
  const count = dims.reduce((a, b) => a * b, 1);
  const dtype = t.dataType ?? 0;
  const supported = [DT.FLOAT, DT.DOUBLE, DT.INT64, DT.INT32];
  if (!supported.includes(dtype))
    fail(modelPath, what, `has data type ${DT[dtype] ?? dtype}; supported: FLOAT, DOUBLE, INT64, INT32`);
  const external = t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL;
  const raw = external ? externalBytes(modelPath, t, what) : t.rawData;
  const values = raw && raw.length > 0 ? fromRaw(raw, dtype, count) : fromFields(t, dtype);
  if (!values || values.length !== count)
    fail(modelPath, what, `holds ${values?.length ?? raw?.length ?? 0} values or bytes; expected ${count} values`);
  return { dims, dtype: values instanceof Float32Array ? 'float32' : 'int32', values };
}

function readAttribute(modelPath: string, a: AttributeProto, what: string): OnnxAttribute | null {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.INT:
      return { kind: 'int', value: clampInt32(toInt(a.i as LongLike)) };
    case T.INTS:
      return { kind: 'ints', value: (a.ints ?? []).map((v) => clampInt32(toInt(v as LongLike))) };
    case T.FLOAT:
      return { kind: 'float', value: a.f ?? 0 };
    case T.FLOATS:
      return { kind: 'floats', value: [...(a.floats ?? [])] };
    case T.STRING:
      return { kind: 'string', value: Buffer.from(a.s ?? new Uint8Array()).toString('utf8') };
    case T.TENSOR:
      return { kind: 'tensor', value: readTensorProto(modelPath, a.t ?? {}, `${what} attribute ${a.name}`) };
    default:
      return null; // graphs, sparse tensors: no supported op reads them
  }
}

function decodeModel(path: string): onnxProto.onnx.ModelProto {
  if (!existsSync(path) || !statSync(path).isFile()) throw new InputError(`${path}: ONNX file not found`);
  try {
    return onnx.ModelProto.decode(readFileSync(path));
  } catch (err) {
    throw new InputError(`${path}: not a readable ONNX file (${(err as Error).message}); it may be truncated`);
  }
}

/** Read and decode an ONNX model file (InputError naming the file for anything unreadable). */
export function readOnnxModelFile(path: string): OnnxModelFile {
  const model = decodeModel(path);
  const graph = model.graph;
  if (!graph || (graph.node ?? []).length === 0) throw new InputError(`${path}: not an ONNX model (no graph nodes)`);
  const opsetEntry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  const opset = opsetEntry ? toInt(opsetEntry.version as LongLike) : 7;
  const initializers = new Map<string, OnnxTensorData>();
  for (const t of graph.initializer ?? [])
    initializers.set(t.name ?? '', readTensorProto(path, t, `initializer ${JSON.stringify(t.name)}`));
  const nodes = (graph.node ?? []).map((n, index): OnnxNode => {
    const op = n.opType ?? '';
    const label = n.name ? n.name : `#${index} ${op}`;
    const attrs = new Map<string, OnnxAttribute>();
    for (const a of n.attribute ?? []) {
      const value = readAttribute(path, a, `node ${label}`);
      if (value) attrs.set(a.name ?? '', value);
    }
    return { index, op, label, inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])], attrs };
  });
  const inputs = (graph.input ?? [])
    .filter((i) => !initializers.has(i.name ?? ''))
    .map((i) => ({
      name: i.name ?? '',
      dims: (i.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? -1 : toInt(d.dimValue as LongLike) || -1)),
    }));
  const hasExternalData = (graph.initializer ?? []).some(
    (t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL,
  );
  return {
    path,
    opset,
    nodes,
    initializers,
    inputs,
    outputs: (graph.output ?? []).map((o) => o.name ?? ''),
    hasExternalData,
  };
}
