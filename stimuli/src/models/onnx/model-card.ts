/**
 * A model card: a small JSON file beside an ONNX model (`<name>.card.json` for `<name>.onnx`) that
 * says how the network wants its input and which of its tensors are the layers worth mapping.
 *
 *     { "normalize": "imagenet", "size": 224,
 *       "layers": ["conv1", "layer1", "layer2"],
 *       "aliases": { "conv1": "resnetv15_conv0_fwd", "layer1": "resnetv15_stage1__plus2" } }
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { InputError } from '@orthostim/protocol';
import { NORMALIZATION_NAMES, type NormalizationName } from '../preprocess';

const cardSchema = z.strictObject({
  name: z.string().min(1).optional(),
  normalize: z.enum(NORMALIZATION_NAMES as [NormalizationName, ...NormalizationName[]]).optional(),
  size: z.number().int().min(8).max(4096).optional(),
  /** Default layers (aliases or tensor names) when --layers is not given. */
  layers: z.array(z.string().min(1)).optional(),
  /** Short names for tensors of the graph. */
  aliases: z.record(z.string().min(1), z.string().min(1)).optional(),
});

export type ModelCard = z.infer<typeof cardSchema>;

/** The card file that belongs to an ONNX model file. */
export function modelCardPath(onnxPath: string): string {
  return `${onnxPath.replace(/\.onnx$/i, '')}.card.json`;
}

/** Read the card beside `onnxPath`; an empty card when there is none. */
export function readModelCard(onnxPath: string): ModelCard {
  const path = modelCardPath(onnxPath);
  if (!existsSync(path)) return {};
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = cardSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`${path}: field ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return parsed.data;
}
