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
import { isMainThread } from 'node:worker_threads';
import { InputError } from '@orthostim/protocol';
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

/** The digest of the BVLC GoogLeNet (Caffe model zoo, ../shared/models/bvlc-googlenet), the network orthostim is built for. */
export const BVLC_GOOGLENET_SHA256 = 'af4a68467434585ceeee2ae6d6a47de9079af3cb0ff7baa14728cfcfe7aec26d';

function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
}

/** Refuse weights holding NaN or Inf (a damaged file would otherwise give NaN or garbage RDMs), naming where. */
export function assertFiniteWeights(
  convs: ReadonlyMap<string, ConvWeights>,
  classifier: DenseWeights,
  source: string,
): void {
  const arrays: [string, Float32Array][] = [];
  for (const [name, w] of convs) arrays.push([`${name} filter`, w.filter], [`${name} bias`, w.bias]);
  arrays.push(
    [`${GOOGLENET_CLASSIFIER.name} kernel`, classifier.kernel],
    [`${GOOGLENET_CLASSIFIER.name} bias`, classifier.bias],
  );
  for (const [what, a] of arrays) {
    const i = firstNonFinite(a);
    if (i >= 0)
      throw new InputError(
        `${source}: ${what} holds ${a[i]} at value ${i}; weights must be finite numbers (the file is damaged)`,
      );
  }
}

/**
 * Weights that nothing vouches for (no SHA256SUMS beside them) and whose digest is not the BVLC
 * GoogLeNet's: say so once per source, naming both digests (a flipped byte changes the digest).
 */
const warned = new Set<string>();
export function warnUnvouchedWeights(sha256: string, source: string, sumsFile: string | null): void {
  if (sumsFile !== null || sha256 === BVLC_GOOGLENET_SHA256 || warned.has(source) || !isMainThread) return;
  warned.add(source);
  process.stderr.write(
    `warning: ${source}: weights digest ${sha256} is not the BVLC GoogLeNet's (${BVLC_GOOGLENET_SHA256}) and no SHA256SUMS beside them vouches for the files; if they should be BVLC GoogLeNet they are damaged\n`,
  );
}
