import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@orthostim/test';
import { stimulusSetJsonSchema } from './json-schemas';

describe('committed JSON Schemas', () => {
  it('docs/formats/stimulus-set.schema.json matches the zod schema (regenerate: npm run docs:schemas)', () => {
    const committed = JSON.parse(readFileSync(join(REPO_ROOT, 'docs/formats/stimulus-set.schema.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(stimulusSetJsonSchema())));
  });
});
