/**
 * Model RDMs a user gives by name (`--model-rdm faces=faces.tsv`): categorical, behavioural or any
 * other hypothesis about the images, compared with the brain like the layers. One RDM per file, in
 * the stimulus set's image order unless the file names the images: a TSV or CSV square matrix
 * (optionally with a header row of image ids and a column of labels) or condensed vector (one row
 * or one column of P = n(n-1)/2 values), JSON (an RDM as a list, or an object holding one), or a
 * MAT-file with one RDM variable. The readers are brain-rdms.ts's.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { pairCount } from '@orthostim/rdm';
import { InputError, UsageError, describeValue } from '@orthostim/protocol';
import { readBrainRdms, rdmsFromJson, regionsFromTsv, type BrainRegionRdms, type Json } from './brain-rdms';

export interface ModelRdm {
  name: string;
  /** Condensed RDM in the stimulus set's order. */
  rdm: Float64Array;
  path: string;
}

/** `name=file` as given on the command line; the name labels maps, tables and figures. */
export function parseModelRdmSpec(spec: string, flag = '--model-rdm'): { name: string; path: string } {
  const at = spec.indexOf('=');
  const name = at > 0 ? spec.slice(0, at) : '';
  const path = at > 0 ? spec.slice(at + 1) : '';
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) || !path)
    throw new UsageError(
      `${flag}: expected <name>=<file> with a name of letters, digits, '_', '-' or '.' (e.g. faces=faces.tsv); got ${JSON.stringify(spec)}`,
    );
  return { name, path };
}

const readText = (path: string, flag: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(
      `${flag}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
};

/** A condensed vector in a table: every cell numeric, one row or one column, P values. */
function condensedFromTable(rows: string[][], P: number, path: string): Float64Array | null {
  const values = rows.flat();
  const oneLine = rows.length === 1 || rows.every((r) => r.length === 1);
  if (!oneLine || values.length !== P || !values.every((c) => c.trim() !== '' && Number.isFinite(Number(c))))
    return null;
  const v = Float64Array.from(values, Number);
  if (P === 1 && rows.length === 1 && rows[0]!.length === 1) return v;
  if (!v.some((x) => x !== v[0]))
    throw new InputError(`${path}: all ${P} dissimilarities are equal; a model RDM must vary`);
  return v;
}

function rdmsOfTable(text: string, ext: string, setIds: readonly string[], path: string): BrainRegionRdms[] {
  const tsv = ext === '.csv' ? text.replace(/,/g, '\t') : text;
  const rows = tsv
    .split(/\r?\n/)
    .filter((l) => l.trim().length > 0)
    .map((l) => l.split('\t').map((c) => c.trim()));
  const vector = condensedFromTable(rows, pairCount(setIds.length), path);
  if (vector) return [{ name: path, subjects: [vector] }];
  return regionsFromTsv(tsv, setIds, path);
}

/** Read one model RDM file for the images `setIds` (set order). */
export async function readModelRdm(
  name: string,
  path: string,
  setIds: readonly string[],
  flag = '--model-rdm',
): Promise<ModelRdm> {
  const ext = extname(path).toLowerCase();
  let regions: BrainRegionRdms[];
  if (ext === '.csv' || ext === '.tsv' || ext === '.txt') {
    regions = rdmsOfTable(readText(path, flag), ext, setIds, path);
  } else if (ext === '.json') {
    let json: Json;
    try {
      json = JSON.parse(readText(path, flag)) as Json;
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError(`${path}: not valid JSON (${(err as Error).message})`);
    }
    regions = Array.isArray(json)
      ? [{ name, subjects: rdmsFromJson(json, setIds.length, path) }]
      : (await readBrainRdms(path, setIds, undefined, flag)).regions;
  } else if (ext === '.mat') {
    regions = (await readBrainRdms(path, setIds, undefined, flag)).regions;
  } else {
    throw new InputError(
      `${flag} ${name}: ${path}: unknown file type ${describeValue(ext || '(none)')}; expected .tsv, .csv, .json or .mat`,
    );
  }
  const rdms = regions.flatMap((r) => r.subjects);
  if (rdms.length !== 1)
    throw new InputError(
      `${flag} ${name}: ${path} holds ${rdms.length} RDMs (${regions.map((r) => `${r.name}: ${r.subjects.length}`).join(', ')}); a model RDM file holds one`,
    );
  return { name, rdm: rdms[0]!, path };
}

/** Read every `name=file` spec; names must differ. */
export async function readModelRdms(
  specs: readonly string[],
  setIds: readonly string[],
  flag = '--model-rdm',
): Promise<ModelRdm[]> {
  const parsed = specs.map((s) => parseModelRdmSpec(s, flag));
  const names = parsed.map((p) => p.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice)
    throw new UsageError(
      `${flag}: the name ${JSON.stringify(twice)} is given twice; each model RDM needs its own name`,
    );
  return Promise.all(parsed.map((p) => readModelRdm(p.name, p.path, setIds, flag)));
}
