/**
 * Writing small ONNX graphs: nodes, float and int64 initializers, one NCHW image input with a
 * symbolic batch, named outputs. Used to export GoogLeNet for onnxruntime and to re-target a model
 * file's outputs at the layers a command asks for.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type ModelProto = onnxProto.onnx.IModelProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;

export type OnnxAttrValue = number | number[] | string | { float: number };

export function onnxAttribute(name: string, v: OnnxAttrValue): AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: Buffer.from(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  return { name, type: T.FLOAT, f: v.float };
}

export class OnnxGraphWriter {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private count = 0;

  /** Add a node; its output is `output` when given (a named tap), else a fresh name. */
  node(op: string, inputs: string[], attrs: Record<string, OnnxAttrValue> = {}, output?: string): string {
    const name = output ?? `t${++this.count}`;
    const attribute_ = Object.entries(attrs).map(([k, v]) => onnxAttribute(k, v));
    this.nodes.push({ opType: op, name: `n${++this.count}`, input: inputs, output: [name], attribute: attribute_ });
    return name;
  }

  floats(dims: number[], values: Float32Array): string {
    const name = `w${++this.count}`;
    this.initializers.push(floatTensor(name, dims, values, 'raw'));
    return name;
  }

  ints(values: number[]): string {
    const name = `i${++this.count}`;
    this.initializers.push({
      name,
      dims: [values.length],
      dataType: onnx.TensorProto.DataType.INT64,
      int64Data: values,
    });
    return name;
  }

  encode(input: string, outputs: readonly string[], opset = 13): Uint8Array {
    const tensorType = (dims: onnxProto.onnx.TensorShapeProto.IDimension[]) => ({
      tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims } },
    });
    const model: ModelProto = {
      irVersion: 8,
      opsetImport: [{ domain: '', version: opset }],
      producerName: 'orthostim',
      graph: {
        name: 'orthostim-export',
        node: this.nodes,
        initializer: this.initializers,
        input: [
          { name: input, type: tensorType([{ dimParam: 'N' }, { dimValue: 3 }, { dimParam: 'H' }, { dimParam: 'W' }]) },
        ],
        output: outputs.map((name) => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } })),
      },
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }
}

/** The same model with its graph outputs replaced by `outputs` (any tensors of the graph). */
export function withOutputs(bytes: Uint8Array, outputs: readonly string[]): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  model.graph!.output = outputs.map((name) => onnx.ValueInfoProto.create({ name }));
  return onnx.ModelProto.encode(model).finish();
}

/** A float32 initializer, stored as raw little-endian bytes or in the typed `float_data` field. */
export function floatTensor(
  name: string,
  dims: number[],
  values: Float32Array,
  encoding: 'raw' | 'float',
): onnxProto.onnx.ITensorProto {
  const t: onnxProto.onnx.ITensorProto = { name, dims, dataType: onnx.TensorProto.DataType.FLOAT };
  if (encoding === 'float') t.floatData = [...values];
  else t.rawData = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  return t;
}
