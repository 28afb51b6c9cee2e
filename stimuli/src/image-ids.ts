/**
 * Image ids of a set made from existing photos: numbered (`stim-01`, `stim-02`, ..., the default)
 * or the file name without its extension (`stem`: `face.jpg` -> `face`), so the ids match the
 * condition names a dataset's events already use. Ids must be unique and valid image ids
 * (docs/formats/stimulus-set.md); a clash names both files.
 */
import { basename, extname } from 'node:path';
import { IMAGE_ID_PATTERN, IMAGE_ID_RULE_TEXT, InputError } from '@orthostim/protocol';
import { stimulusIds } from './stimulus-set-writer';

export const IMAGE_ID_RULES = {
  numbered: (files: readonly string[]) => stimulusIds(files.length),
  stem: (files: readonly string[]) => files.map((f) => basename(f, extname(f))),
} satisfies Record<string, (files: readonly string[]) => string[]>;

export type ImageIdRule = keyof typeof IMAGE_ID_RULES;
export const IMAGE_ID_RULE_NAMES = Object.keys(IMAGE_ID_RULES) as ImageIdRule[];

/** The ids of `files` (paths in set order) under `rule`; an InputError for an invalid or repeated id. */
export function imageIdsFor(files: readonly string[], rule: ImageIdRule): string[] {
  const ids = IMAGE_ID_RULES[rule](files);
  const first = new Map<string, string>();
  ids.forEach((id, i) => {
    const file = files[i]!;
    if (!IMAGE_ID_PATTERN.test(id))
      throw new InputError(`${file}: image id "${id}" (its ${rule}) is not valid; expected ${IMAGE_ID_RULE_TEXT}`);
    const other = first.get(id);
    if (other !== undefined)
      throw new InputError(`${other} and ${file} both give the image id "${id}"; image ids must be unique`);
    first.set(id, file);
  });
  return ids;
}
