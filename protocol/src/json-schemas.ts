import { z } from 'zod';
import { stimulusSetSchema } from './stimulus-set';

/**
 * JSON Schemas of the shared file formats, generated from the zod schemas (the single source).
 * docs/formats/*.schema.json are these, committed so non-TypeScript tools can validate files;
 * a test keeps them in sync.
 */
export function stimulusSetJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://orthostim.dev/schemas/stimulus-set.json',
    title: 'orthostim stimulus set (orthostim.stimulus-set/1: RDMs inline; /2: RDMs in the rdmsFile sidecar)',
    ...z.toJSONSchema(stimulusSetSchema, { target: 'draft-2020-12', unrepresentable: 'any' }),
  };
}
