/**
 * BVLC GoogLeNet as an ONNX graph, from weights of any container (raw, ONNX, cache), so that a
 * second engine (onnxruntime-node) can run the forward passes of `orthostim rdms` on all cores.
 * Every layer of the vocabulary (googlenet-layers.ts) is a tensor named by its canonical name.
 *
 * Input: NCHW in Caffe's convention (BGR in [0, 255] minus the BVLC mean: `caffe` in preprocess.ts).
 * The stored filters take BGR input, as in Caffe (the TF.js GoogLeNet reverses conv1 instead).
 * Caffe semantics: max pools round up (ceil_mode), LRN across 5 channels with alpha divided by 5.
 */
import { GOOGLENET_LRN, INCEPTION_SPECS } from './googlenet-spec';
import { OnnxGraphWriter } from './onnx/onnx-writer';
import type { GoogLeNetWeights } from './weights';

const INPUT = 'input';

/** HWIO [kh, kw, in, out] -> OIHW. */
function hwioToOihw(filter: Float32Array, [kh, kw, inC, outC]: readonly number[]): Float32Array {
  const out = new Float32Array(filter.length);
  for (let y = 0; y < kh!; y++)
    for (let x = 0; x < kw!; x++)
      for (let i = 0; i < inC!; i++)
        for (let o = 0; o < outC!; o++)
          out[((o * inC! + i) * kh! + y) * kw! + x] = filter[((y * kw! + x) * inC! + i) * outC! + o]!;
  return out;
}

class GoogLeNetExport {
  readonly g = new OnnxGraphWriter();
  constructor(private readonly w: GoogLeNetWeights) {}

  /** conv + bias + ReLU, the output named `tap` when given. */
  conv(name: string, x: string, tap?: string): string {
    const c = this.w.convs.get(name);
    if (!c) throw new Error(`googlenetToOnnx: no weights for ${name}`);
    const [kh, , , outC] = c.shape;
    const stride = name === 'conv1/7x7_s2' ? 2 : 1;
    const pad = (kh - 1) / 2;
    const weight = this.g.floats([outC, c.shape[2], kh, c.shape[1]], hwioToOihw(c.filter, c.shape));
    const y = this.g.node('Conv', [x, weight, this.g.floats([outC], c.bias)], {
      kernel_shape: [kh, c.shape[1]],
      strides: [stride, stride],
      pads: [pad, pad, pad, pad],
    });
    return this.g.node('Relu', [y], {}, tap);
  }

  pool(x: string, tap: string): string {
    return this.g.node('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }, tap);
  }

  lrn(x: string, tap: string): string {
    const { localSize, alpha, beta, k } = GOOGLENET_LRN;
    return this.g.node(
      'LRN',
      [x],
      { size: localSize, alpha: { float: alpha }, beta: { float: beta }, bias: { float: k } },
      tap,
    );
  }

  inception(block: string, x: string): string {
    const b1 = this.conv(`${block}/1x1`, x, `${block}/1x1`);
    const r3 = this.conv(`${block}/3x3_reduce`, x, `${block}/3x3_reduce`);
    const b3 = this.conv(`${block}/3x3`, r3, `${block}/3x3`);
    const r5 = this.conv(`${block}/5x5_reduce`, x, `${block}/5x5_reduce`);
    const b5 = this.conv(`${block}/5x5`, r5, `${block}/5x5`);
    const pool = this.g.node(
      'MaxPool',
      [x],
      { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] },
      `${block}/pool`,
    );
    const bp = this.conv(`${block}/pool_proj`, pool, `${block}/pool_proj`);
    return this.g.node('Concat', [b1, b3, b5, bp], { axis: 1 }, block);
  }

  classifier(x: string): void {
    const pooled = this.g.node('GlobalAveragePool', [x]);
    const flat = this.g.node('Flatten', [pooled], { axis: 1 }, 'pool5');
    const { kernel, bias, shape } = this.w.classifier;
    const logits = this.g.node(
      'Gemm',
      [flat, this.g.floats([shape[0], shape[1]], kernel), this.g.floats([shape[1]], bias)],
      {},
      'logits',
    );
    this.g.node('Softmax', [logits], { axis: 1 }, 'prob');
  }
}

/** GoogLeNet as ONNX bytes whose graph outputs are `outputs` (canonical layer names; default: all stages). */
export function googlenetToOnnx(weights: GoogLeNetWeights, outputs: readonly string[]): Uint8Array {
  const e = new GoogLeNetExport(weights);
  const { g } = e;
  let h = g.node('Identity', [INPUT], {}, 'pixels');
  h = e.conv('conv1/7x7_s2', h, 'conv1');
  h = e.lrn(e.pool(h, 'pool1'), 'norm1');
  h = e.conv('conv2/3x3', e.conv('conv2/3x3_reduce', h, 'conv2/3x3_reduce'), 'conv2');
  h = e.pool(e.lrn(h, 'norm2'), 'pool2');
  for (const block of INCEPTION_SPECS) {
    h = e.inception(block.name, h);
    if (block.name === 'inception_3b') h = e.pool(h, 'pool3');
    if (block.name === 'inception_4e') h = e.pool(h, 'pool4');
  }
  e.classifier(h);
  return g.encode(INPUT, outputs);
}
