import { z } from 'zod';
import { stimulusSetSchema } from './stimulus-set';

/**
 * JSON Schemas of the shared file formats, generated from the zod schemas (the single source).
 * docs/formats/*.schema.json are these, committed so non-TypeScript tools can validate files;
 * a test keeps them in sync.
 */
export function stimulusSetJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://orthostim.dev/schemas/stimulus-set-1.json',
    title: 'orthostim stimulus set (orthostim.stimulus-set/1)',
    ...z.toJSONSchema(stimulusSetSchema, { target: 'draft-2020-12', unrepresentable: 'any' }),
  };
}
