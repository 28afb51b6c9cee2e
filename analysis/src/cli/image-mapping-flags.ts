/** `--image-column` and `--image-map` of `analyze ... participant` as the GLM's image mapping. */
import { readFileSync } from 'node:fs';
import { InputError } from '@orthostim/protocol';
import { DEFAULT_IMAGE_COLUMN, parseImageMap, type ImageMapping } from '../glm/image-mapping';
import type { AnalysisFlags } from '../pipeline/settings';

/** The mapping the flags ask for, or undefined for the events' own rule (neither flag given). */
export function resolveImageMapping(
  flags: Pick<AnalysisFlags, 'imageColumn' | 'imageMap'>,
  imageIds: readonly string[],
): ImageMapping | undefined {
  if (flags.imageColumn === undefined && flags.imageMap === undefined) return undefined;
  const column = flags.imageColumn ?? DEFAULT_IMAGE_COLUMN;
  if (flags.imageMap === undefined) return { column };
  let text: string;
  try {
    text = readFileSync(flags.imageMap, 'utf8');
  } catch (err) {
    throw new InputError(`--image-map: cannot read ${flags.imageMap} (${(err as NodeJS.ErrnoException).code})`);
  }
  return { column, map: parseImageMap(text, flags.imageMap, imageIds) };
}
