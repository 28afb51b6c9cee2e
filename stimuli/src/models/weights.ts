/**
 * The in-memory form of a network's weights, whatever file they came from (raw per-layer files,
 * ONNX, the converted cache). Loaders produce it; the GoogLeNet builder consumes it.
 *
 * Layouts are TF.js-native so the builder never transposes: conv filters HWIO
 * [kh, kw, in, out], the classifier [in, out].
 */
export interface ConvWeights {
  /** [kh, kw, inChannels, outChannels] */
  shape: [number, number, number, number];
  filter: Float32Array;
  bias: Float32Array;
}

export interface DenseWeights {
  /** [in, out] */
  shape: [number, number];
  kernel: Float32Array;
  bias: Float32Array;
}

export interface GoogLeNetWeights {
  /** Conv layers by Caffe name, e.g. `conv1/7x7_s2`, `inception_3a/3x3_reduce`. */
  convs: Map<string, ConvWeights>;
  /** `loss3/classifier`, 1024 -> 1000. */
  classifier: DenseWeights;
  /**
   * SHA-256 of the weights themselves, independent of the container: see `computeWeightsSha256`.
   * The same network read from raw files, ONNX or the cache has the same digest.
   */
  sha256: string;
  /** Which loader produced them: `raw`, `onnx`, `cache`. */
  format: string;
  /** The file or folder they were read from. */
  source: string;
}
