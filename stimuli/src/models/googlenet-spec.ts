/**
 * The BVLC GoogLeNet (Inception-V1) deploy architecture as data (from deploy.prototxt): every conv
 * layer in canonical order with its geometry. The builder, the weight loaders (raw, ONNX, cache)
 * and the weights digest all walk this one list, so they cannot disagree on order or shapes.
 */
export interface ConvSpec {
  /** Caffe layer name, e.g. `inception_3a/3x3_reduce`. */
  name: string;
  kernel: number;
  stride: number;
  pad: number;
  inChannels: number;
  outChannels: number;
}

/** Inception block widths: input, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool projection. */
const INCEPTION_BLOCKS: ReadonlyArray<readonly [string, number, number, number, number, number, number, number]> = [
  ['inception_3a', 192, 64, 96, 128, 16, 32, 32],
  ['inception_3b', 256, 128, 128, 192, 32, 96, 64],
  ['inception_4a', 480, 192, 96, 208, 16, 48, 64],
  ['inception_4b', 512, 160, 112, 224, 24, 64, 64],
  ['inception_4c', 512, 128, 128, 256, 24, 64, 64],
  ['inception_4d', 512, 112, 144, 288, 32, 64, 64],
  ['inception_4e', 528, 256, 160, 320, 32, 128, 128],
  ['inception_5a', 832, 256, 160, 320, 32, 128, 128],
  ['inception_5b', 832, 384, 192, 384, 48, 128, 128],
];

export interface InceptionSpec {
  name: string;
  inChannels: number;
  /** Output channels of the four branches in concatenation order: 1x1, 3x3, 5x5, pool_proj. */
  branchChannels: [number, number, number, number];
  outChannels: number;
}

export const INCEPTION_SPECS: readonly InceptionSpec[] = INCEPTION_BLOCKS.map(([name, inC, c1, , c3, , c5, cp]) => ({
  name,
  inChannels: inC,
  branchChannels: [c1, c3, c5, cp],
  outChannels: c1 + c3 + c5 + cp,
}));

function conv(
  name: string,
  kernel: number,
  stride: number,
  pad: number,
  inChannels: number,
  outChannels: number,
): ConvSpec {
  return { name, kernel, stride, pad, inChannels, outChannels };
}

/** All 57 conv layers in the order of deploy.prototxt (within a block: 1x1, 3x3_reduce, 3x3, 5x5_reduce, 5x5, pool_proj). */
export const GOOGLENET_CONVS: readonly ConvSpec[] = [
  conv('conv1/7x7_s2', 7, 2, 3, 3, 64),
  conv('conv2/3x3_reduce', 1, 1, 0, 64, 64),
  conv('conv2/3x3', 3, 1, 1, 64, 192),
  ...INCEPTION_BLOCKS.flatMap(([b, inC, c1, r3, c3, r5, c5, cp]) => [
    conv(`${b}/1x1`, 1, 1, 0, inC, c1),
    conv(`${b}/3x3_reduce`, 1, 1, 0, inC, r3),
    conv(`${b}/3x3`, 3, 1, 1, r3, c3),
    conv(`${b}/5x5_reduce`, 1, 1, 0, inC, r5),
    conv(`${b}/5x5`, 5, 1, 2, r5, c5),
    conv(`${b}/pool_proj`, 1, 1, 0, inC, cp),
  ]),
];

export const GOOGLENET_CLASSIFIER = { name: 'loss3/classifier', inFeatures: 1024, outFeatures: 1000 } as const;

/** BGR channel means of the training set, subtracted from 0-255 inputs (Caffe convention). */
export const GOOGLENET_BGR_MEAN = [104, 117, 123] as const;
export const GOOGLENET_INPUT_SIZE = 224;
/** LRN after pool1 and after conv2/3x3: Caffe across-channel, alpha is divided by local_size. */
export const GOOGLENET_LRN = { localSize: 5, alpha: 1e-4, beta: 0.75, k: 1 } as const;
