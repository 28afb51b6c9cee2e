/**
 * The container-independent digest of GoogLeNet weights, recorded as `model.weightsSha256` in every
 * stimulus set. It hashes the numbers, not the file, so raw per-layer files, the ONNX file and the
 * converted cache of the same network give the same digest:
 *
 *   SHA-256 over, for each conv layer in GOOGLENET_CONVS order,
 *     UTF-8 `<caffe name>\n`, the HWIO filter as little-endian float32 bytes, the bias bytes;
 *   then the same for `loss3/classifier` with its [in, out] kernel and bias.
 */
import { createHash } from 'node:crypto';
import { GOOGLENET_CLASSIFIER, GOOGLENET_CONVS } from './googlenet-spec';
import type { ConvWeights, DenseWeights } from './weights';

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function floatBytes(a: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) view.setFloat32(i * 4, a[i]!, true);
  return out;
}

export function computeWeightsSha256(convs: ReadonlyMap<string, ConvWeights>, classifier: DenseWeights): string {
  const hash = createHash('sha256');
  for (const spec of GOOGLENET_CONVS) {
    const w = convs.get(spec.name);
    if (!w) throw new Error(`computeWeightsSha256: conv layer ${spec.name} is missing`);
    hash.update(`${spec.name}\n`, 'utf8');
    hash.update(floatBytes(w.filter));
    hash.update(floatBytes(w.bias));
  }
  hash.update(`${GOOGLENET_CLASSIFIER.name}\n`, 'utf8');
  hash.update(floatBytes(classifier.kernel));
  hash.update(floatBytes(classifier.bias));
  return hash.digest('hex');
}
