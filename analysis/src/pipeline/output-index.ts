/**
 * `index.json`, schema `orthostim.outputs/1`: the list of files in an output folder
 * (`sub-<label>/`, `group/`, a `searchlight --out` folder) with what each one holds, so programs
 * (the group level, the viewer, a user's script) find maps without parsing file names.
 *
 *   { "schema": "orthostim.outputs/1",
 *     "files": [ { "path": "<relative to index.json>", "level": "participant" | "group",
 *                  "participant": "01", "layer": "inception_3a", "method": "standard" | "residual",
 *                  "residual": "semipartial" | "partial" | ... (residual maps: the variant),
 *                  "stat": "r" | "z" | "t" | "p" | "fwe-p" | ..., "space": "..." }, ... ] }
 *
 * `layer` keeps the layer's real name; file names carry its BIDS label (`desc-inception3a`). Maps of
 * a user-given model RDM (`--model-rdm faces=...`) carry `"model": "faces"` instead of `layer`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError } from '@orthostim/protocol';
import { writeFileAtomic } from '@orthostim/protocol/node';
import { methodFields, type ModelMethod } from '../rsa/compare-models';
import { RESIDUAL_VARIANT_NAMES } from '../rsa/residual-variants';

export const OUTPUTS_SCHEMA = 'orthostim.outputs/1';
export const OUTPUT_INDEX_FILE = 'index.json';

/** A relative path inside the folder: no absolute paths, no `..`. */
const relativePath = z
  .string()
  .min(1)
  .refine(
    (p) => !p.startsWith('/') && !p.includes('\\') && !p.split('/').some((s) => s === '..' || s === ''),
    'a relative path inside the folder',
  );

export const outputFileSchema = z.object({
  path: relativePath,
  level: z.enum(['participant', 'group']),
  participant: z.string().optional(),
  layer: z.string().optional(),
  /** A user-given model RDM (`--model-rdm <name>=<file>`): its name, in place of `layer`. */
  model: z.string().optional(),
  method: z.enum(['standard', 'residual']).optional(),
  /** Residual maps: the variant (docs/residual.md); absent in outputs older than the variants (semipartial). */
  residual: z.enum(RESIDUAL_VARIANT_NAMES as [string, ...string[]]).optional(),
  stat: z.string().min(1),
  space: z.string().optional(),
  /** What the values are, in words (e.g. "semipartial Spearman r"). */
  description: z.string().optional(),
  /** GLM outputs: the run and image a map belongs to. */
  run: z.string().optional(),
  image: z.string().optional(),
  /** Maps: NIfTI image; tables: TSV or JSON; the report: HTML; figures: SVG. */
  format: z.enum(['nifti', 'tsv', 'json', 'html', 'svg']).optional(),
});

export const outputIndexSchema = z.object({
  schema: z.literal(OUTPUTS_SCHEMA),
  files: z.array(outputFileSchema),
});

export type OutputFile = z.infer<typeof outputFileSchema>;
export type OutputIndex = z.infer<typeof outputIndexSchema>;

function formatOf(path: string): OutputFile['format'] {
  if (/\.nii(\.gz)?$/.test(path)) return 'nifti';
  if (path.endsWith('.tsv')) return 'tsv';
  if (path.endsWith('.json')) return 'json';
  if (path.endsWith('.html')) return 'html';
  if (path.endsWith('.svg')) return 'svg';
  return undefined;
}

/** What writers give for one file: `method` is the model method (standard or a residual variant). */
export type IndexEntry = Omit<OutputFile, 'level' | 'method' | 'residual'> &
  Partial<Pick<OutputFile, 'level'>> & { method?: ModelMethod | undefined };

/** Collects the entries of one folder's index.json as its files are written. */
export class OutputIndexBuilder {
  readonly files: OutputFile[] = [];
  constructor(
    private readonly defaults: Pick<OutputFile, 'level'> & Partial<Pick<OutputFile, 'participant' | 'space'>>,
  ) {}

  /** An entry; a model method becomes index.json's `method` and `residual` fields. */
  add(entry: IndexEntry): void {
    const format = entry.format ?? formatOf(entry.path);
    const { method, ...rest } = entry;
    const full: OutputFile = {
      ...this.defaults,
      ...rest,
      ...(method ? methodFields(method) : {}),
      ...(format ? { format } : {}),
    };
    // Drop undefined fields so the JSON stays minimal and stable.
    for (const k of Object.keys(full) as (keyof OutputFile)[]) if (full[k] === undefined) delete full[k];
    this.files.push(full);
  }

  toJSON(): OutputIndex {
    return { schema: OUTPUTS_SCHEMA, files: this.files };
  }

  write(dir: string): void {
    writeFileAtomic(join(dir, OUTPUT_INDEX_FILE), `${JSON.stringify(this.toJSON(), null, 2)}\n`);
  }
}

/** Read and validate `<dir>/index.json`. */
export function readOutputIndex(dir: string): OutputIndex {
  const path = join(dir, OUTPUT_INDEX_FILE);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(`${path}: cannot read the output index (${(err as Error).message})`);
  }
  const parsed = outputIndexSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`${path}: field ${issue.path.map(String).join('.') || '(top level)'}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * A BIDS-derivatives file name from ordered entities (`undefined`/null entries are left out):
 * `bidsFileName([['sub', '01'], ['desc', 'inception3a']], 'statmap', '.nii.gz')`.
 */
export function bidsFileName(
  entities: readonly (readonly [string, string | null | undefined])[],
  suffix: string,
  extension: string,
): string {
  const parts = entities
    .filter((e): e is readonly [string, string] => typeof e[1] === 'string' && e[1] !== '')
    .map(([k, v]) => `${k}-${v}`);
  return `${[...parts, suffix].join('_')}${extension}`;
}
