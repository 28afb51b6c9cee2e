// Regenerates docs/formats/*.schema.json from the zod schemas: `npm run docs:schemas`.
import { writeFileSync } from 'node:fs';
import { stimulusSetJsonSchema } from '../protocol/src/json-schemas';

writeFileSync(
  new URL('../docs/formats/stimulus-set.schema.json', import.meta.url),
  `${JSON.stringify(stimulusSetJsonSchema(), null, 2)}\n`,
);
