/**
 * Brain RDMs a lab already has, from JSON, TSV or MATLAB (.mat level 5 or v7.3), as condensed
 * RDMs in the stimulus set's image order, grouped by region, one per subject. docs/compare.md lists
 * the accepted layouts; every other shape is a one-line error naming the variable, its shape and
 * what is accepted. Shapes are interpreted on MATLAB dims with column-major data (JSON and TSV
 * are converted to that), so one function decides for every format.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { condensedIndex, pairCount } from '@orthostim/rdm';
import { InputError, describeValue } from '@orthostim/protocol';
import { isMatV5, parseMatV5, type MatValue, type MatVariable } from './mat-v5';
import { isHdf5, readMatV73 } from './mat-v73';

export interface BrainRegionRdms {
  name: string;
  /** One condensed RDM (set order) per subject. */
  subjects: Float64Array[];
}

export interface BrainRdms {
  path: string;
  format: 'json' | 'tsv' | 'mat-v5' | 'mat-v7.3';
  regions: BrainRegionRdms[];
  /** Variables or entries that are not RDMs of these images and were left out (name: reason). */
  ignored: string[];
}

/** The accepted array shapes, for error messages (n images, P = n(n-1)/2 pairs, S subjects). */
export const ACCEPTED_SHAPES = 'n x n, 1 x P or P x 1 (condensed), S x P or P x S, n x n x S or S x n x n';

/** Relative tolerance for symmetry and a zero diagonal. */
const TOLERANCE = 1e-6;

/**
 * Condensed RDM from a square matrix accessor, checking symmetry and a zero (or NaN) diagonal.
 * `at(i, j)` is element (i, j); `where` names the matrix in errors (1-based positions there).
 */
function condensedFromSquare(n: number, at: (i: number, j: number) => number, where: string): Float64Array {
  let scale = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) if (i !== j && Number.isFinite(at(i, j))) scale = Math.max(scale, Math.abs(at(i, j)));
  const tol = TOLERANCE * scale + 1e-12;
  const out = new Float64Array(pairCount(n));
  for (let i = 0; i < n; i++) {
    const d = at(i, i);
    if (!Number.isNaN(d) && Math.abs(d) > tol) {
      throw new InputError(
        `${where}: diagonal element (${i + 1},${i + 1}) is ${d}; an RDM holds dissimilarities with a zero diagonal (a similarity matrix r needs 1 - r)`,
      );
    }
    for (let j = i + 1; j < n; j++) {
      const a = at(i, j);
      const b = at(j, i);
      if (!Number.isFinite(a) || !Number.isFinite(b))
        throw new InputError(
          `${where}: element (${i + 1},${j + 1}) is ${Number.isFinite(a) ? b : a}; every off-diagonal dissimilarity must be a finite number`,
        );
      if (Math.abs(a - b) > tol)
        throw new InputError(`${where}: not symmetric: (${i + 1},${j + 1}) is ${a} but (${j + 1},${i + 1}) is ${b}`);
      out[condensedIndex(i, j, n)] = (a + b) / 2;
    }
  }
  return out;
}

function checkCondensed(v: Float64Array, where: string): Float64Array {
  v.forEach((x, k) => {
    if (!Number.isFinite(x))
      throw new InputError(
        `${where}: value ${k + 1} of the condensed RDM is ${x}; every dissimilarity must be a finite number`,
      );
  });
  return v;
}

/**
 * The subjects' RDMs in a MATLAB-shaped array (dims, column-major data) for n images. Accepted:
 * n x n; 1 x P or P x 1; S x P (a row per subject) or P x S (a column per subject); n x n x S or
 * S x n x n. A square n x n wins when n x n could also read as condensed (n = 3). When both
 * stack layouts fit (S = n, or S = P), `subjectsFirst` (JSON's nesting) picks S x ..., else MATLAB's
 * n x n x S; a P x P array without that hint is an error.
 */
export function rdmsFromArray(
  dimsIn: readonly number[],
  data: ArrayLike<number>,
  n: number,
  where: string,
  subjectsFirst = false,
): Float64Array[] {
  const P = pairCount(n);
  const dims = [...dimsIn];
  while (dims.length > 2 && dims[dims.length - 1] === 1) dims.pop();
  const shape = dims.join(' x ');
  const fail = (): never => {
    throw new InputError(
      `${where}: an array of ${shape} is not an RDM stack for ${n} images (P = ${P} pairs); accepted shapes: ${ACCEPTED_SHAPES}`,
    );
  };
  if (dims.length === 2) {
    const [r, c] = dims as [number, number];
    if (r === n && c === n) return [condensedFromSquare(n, (i, j) => data[i + j * n]!, where)];
    if ((r === 1 && c === P) || (r === P && c === 1)) return [checkCondensed(Float64Array.from(data), where)];
    if (c === P && r !== P)
      return Array.from({ length: r }, (_, s) =>
        checkCondensed(
          Float64Array.from({ length: P }, (_, k) => data[s + k * r]!),
          `${where}, subject ${s + 1}`,
        ),
      );
    if (r === P && c !== P)
      return Array.from({ length: c }, (_, s) =>
        checkCondensed(
          Float64Array.from({ length: P }, (_, k) => data[k + s * P]!),
          `${where}, subject ${s + 1}`,
        ),
      );
    if (r === P && c === P && subjectsFirst)
      return Array.from({ length: r }, (_, s) =>
        checkCondensed(
          Float64Array.from({ length: P }, (_, k) => data[s + k * r]!),
          `${where}, subject ${s + 1}`,
        ),
      );
    if (r === P && c === P)
      throw new InputError(
        `${where}: a ${shape} array is ambiguous (subjects in rows or columns?); store it as ${P} x S with S != ${P}, or as n x n x S`,
      );
    return fail();
  }
  if (dims.length === 3) {
    const [a, b, c] = dims as [number, number, number];
    if (subjectsFirst && b === n && c === n)
      return Array.from({ length: a }, (_, s) =>
        condensedFromSquare(n, (i, j) => data[s + i * a + j * a * n]!, `${where}, subject ${s + 1}`),
      );
    if (a === n && b === n)
      return Array.from({ length: c }, (_, s) =>
        condensedFromSquare(n, (i, j) => data[i + j * n + s * n * n]!, `${where}, subject ${s + 1}`),
      );
    if (b === n && c === n)
      return Array.from({ length: a }, (_, s) =>
        condensedFromSquare(n, (i, j) => data[s + i * a + j * a * n]!, `${where}, subject ${s + 1}`),
      );
  }
  return fail();
}

// ---------------------------------------------------------------------------------------------
// MATLAB

function regionsFromMat(
  vars: readonly MatVariable[],
  n: number,
  path: string,
  only?: readonly string[],
): { regions: BrainRegionRdms[]; ignored: string[] } {
  const byName = new Map<string, Float64Array[]>();
  const ignored: string[] = [];
  const add = (name: string, rdms: Float64Array[]) => byName.set(name, [...(byName.get(name) ?? []), ...rdms]);
  const visit = (label: string, value: MatValue, depth: number): void => {
    if (value.kind === 'numeric') {
      add(label, rdmsFromArray(value.dims, value.data, n, `${path}: variable ${label}`));
    } else if (value.kind === 'struct' && value.fields.includes('RDM')) {
      // The MATLAB RSA toolbox's RDM structs: RDMs(k).RDM with RDMs(k).name; equal names are subjects of one region.
      value.elements.forEach((el, k) => {
        const rdm = el.RDM!;
        const name =
          el.name?.kind === 'char' && el.name.text.trim()
            ? el.name.text.trim()
            : value.elements.length > 1
              ? `${label}(${k + 1})`
              : label;
        if (rdm.kind !== 'numeric')
          throw new InputError(`${path}: variable ${label}(${k + 1}).RDM is a ${rdm.kind}, not a numeric array`);
        add(name, rdmsFromArray(rdm.dims, rdm.data, n, `${path}: variable ${label}(${k + 1}).RDM`));
      });
    } else if (value.kind === 'struct' && value.elements.length === 1 && depth < 4) {
      for (const f of value.fields) visit(`${label}.${f}`, value.elements[0]![f]!, depth + 1);
    } else {
      ignored.push(`${label}: ${value.kind === 'unsupported' ? value.reason : `a ${value.kind} array`}`);
    }
  };
  for (const v of vars) {
    if (only && !only.includes(v.name)) ignored.push(`${v.name}: not among --regions`);
    else visit(v.name, v.value, 0);
  }
  return { regions: [...byName].map(([name, subjects]) => ({ name, subjects })), ignored };
}

// ---------------------------------------------------------------------------------------------
// JSON

export type Json = null | number | string | boolean | Json[] | { [k: string]: Json };

/** Nested JSON arrays of numbers (null allowed, as NaN) as MATLAB-like dims + column-major data. */
function jsonArray(v: Json, where: string): { dims: number[]; data: Float64Array } {
  const dims: number[] = [];
  let level: Json = v;
  while (Array.isArray(level)) {
    dims.push(level.length);
    level = level.length ? level[0]! : null;
  }
  const flat: number[] = [];
  const walk = (x: Json, d: number, at: string): void => {
    if (d === dims.length) {
      if (x === null) flat.push(Number.NaN);
      else if (typeof x === 'number') flat.push(x);
      else throw new InputError(`${where}: ${at}: expected a number; got ${describeValue(x)}`);
      return;
    }
    if (!Array.isArray(x) || x.length !== dims[d])
      throw new InputError(`${where}: ${at}: rows of unequal length (expected ${dims[d]} values)`);
    x.forEach((y, i) => walk(y, d + 1, `${at}[${i}]`));
  };
  walk(v, 0, 'value');
  // JSON nests row-major (last index fastest); MATLAB's order is column-major on the same dims.
  const k = dims.length;
  if (k <= 1) return { dims: [1, dims[0] ?? 0], data: Float64Array.from(flat) };
  const total = flat.length;
  const data = new Float64Array(total);
  const idx = new Array<number>(k).fill(0);
  for (let r = 0; r < total; r++) {
    let cm = 0;
    let stride = 1;
    for (let a = 0; a < k; a++) {
      cm += idx[a]! * stride;
      stride *= dims[a]!;
    }
    data[cm] = flat[r]!;
    for (let a = k - 1; a >= 0; a--) {
      if (++idx[a]! < dims[a]!) break;
      idx[a] = 0;
    }
  }
  return { dims, data };
}

/** A JSON region value: one RDM (condensed or square) or an array of them (subjects). */
export function rdmsFromJson(v: Json, n: number, where: string): Float64Array[] {
  const { dims, data } = jsonArray(v, where);
  // A list of RDMs nests subjects first (S x P, S x n x n).
  return rdmsFromArray(dims, data, n, where, true);
}

function reorderCondensed(rdm: Float64Array, order: readonly number[], n: number): Float64Array {
  // order[k] = position in the file of the set's image k.
  const out = new Float64Array(rdm.length);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = order[i]!;
      const b = order[j]!;
      out[condensedIndex(i, j, n)] = rdm[a < b ? condensedIndex(a, b, n) : condensedIndex(b, a, n)]!;
    }
  }
  return out;
}

/** Where each set image sits in the file's own image order (an error unless it is a permutation of the set's ids). */
function imageOrder(fileIds: readonly string[], setIds: readonly string[], where: string): number[] {
  const missing = setIds.filter((id) => !fileIds.includes(id));
  const extra = fileIds.filter((id) => !setIds.includes(id));
  if (fileIds.length !== setIds.length || missing.length || extra.length) {
    throw new InputError(
      `${where}: the images listed (${fileIds.length}) are not the stimulus set's ${setIds.length}` +
        `${missing.length ? `; missing ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ', ...' : ''}` : ''}${extra.length ? `; not in the set: ${extra.slice(0, 4).join(', ')}` : ''}`,
    );
  }
  return setIds.map((id) => fileIds.indexOf(id));
}

/**
 * The regions of a JSON file: an object mapping names to RDMs, or the ROI file `orthostim analyze
 * --rois` writes (`regions` an array of `{name, rdm, ...}`; a region without voxels, its RDM all
 * null, is left out and listed).
 */
function regionsFromJson(
  json: Json,
  setIds: readonly string[],
  path: string,
  only?: readonly string[],
): { regions: BrainRegionRdms[]; ignored: string[] } {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new InputError(
      `${path}: expected a JSON object of regions ({"regions": {"V1": [...]}} or {"V1": [...]}); got ${describeValue(json)}`,
    );
  const n = setIds.length;
  const images = json.images;
  const ignored: string[] = [];
  const regionsJson = namedRegions('regions' in json ? json.regions : json, path, ignored);
  let order: number[] | null = null;
  if (images !== undefined && 'regions' in json) {
    if (!Array.isArray(images) || !images.every((x) => typeof x === 'string'))
      throw new InputError(`${path}: field images: expected an array of image ids`);
    order = imageOrder(images as string[], setIds, `${path}: field images`);
  }
  const regions = Object.entries(regionsJson)
    .filter(([name]) => !only || only.includes(name))
    .map(([name, v]) => {
      const subjects = rdmsFromJson(v, n, `${path}: region ${JSON.stringify(name)}`);
      return { name, subjects: order ? subjects.map((s) => reorderCondensed(s, order!, n)) : subjects };
    });
  return { regions, ignored };
}

/** `regions` as name -> RDM: an object as it is, or analyze's array of `{name, rdm}`. */
function namedRegions(v: Json | undefined, path: string, ignored: string[]): Record<string, Json> {
  const expected = 'expected an object mapping region names to RDMs, or an array of {"name", "rdm"} objects';
  if (Array.isArray(v)) {
    const out: Record<string, Json> = {};
    v.forEach((r, k) => {
      if (typeof r !== 'object' || r === null || Array.isArray(r) || typeof r.name !== 'string' || !('rdm' in r))
        throw new InputError(`${path}: field regions[${k}]: ${expected}; got ${describeValue(r)}`);
      const rdm = r.rdm!;
      if (Array.isArray(rdm) && rdm.every((x) => x === null))
        ignored.push(`${r.name}: no voxels (its RDM is all null)`);
      else out[r.name] = rdm;
    });
    return out;
  }
  if (typeof v !== 'object' || v === null) throw new InputError(`${path}: field regions: ${expected}`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// TSV

export function regionsFromTsv(text: string, setIds: readonly string[], path: string): BrainRegionRdms[] {
  const n = setIds.length;
  const P = pairCount(n);
  const lines = text
    .split(/\r?\n/)
    .filter((l) => l.trim().length > 0)
    .map((l) => l.split('\t'));
  if (lines.length === 0) throw new InputError(`${path}: empty file`);
  const num = (s: string, where: string) => {
    const v = s === 'n/a' || s === 'NaN' || s === '' ? Number.NaN : Number(s);
    if (Number.isNaN(v) && !(s === 'n/a' || s === 'NaN' || s === ''))
      throw new InputError(`${where}: expected a number; got ${describeValue(s)}`);
    return v;
  };
  const header = lines[0]!;
  if (header[0] === 'region') {
    // One RDM per row: region [, subject], then P condensed values or n x n row-major values.
    const first = header[1] === 'subject' ? 2 : 1;
    const width = header.length - first;
    if (width !== P && width !== n * n)
      throw new InputError(
        `${path}: ${width} value columns; expected ${P} (condensed) or ${n * n} (n x n, row-major) for ${n} images`,
      );
    const byName = new Map<string, Float64Array[]>();
    lines.slice(1).forEach((cells, li) => {
      const where = `${path}: line ${li + 2}`;
      if (cells.length !== header.length)
        throw new InputError(`${where}: ${cells.length} cells; the header has ${header.length}`);
      const values = cells.slice(first).map((c, k) => num(c, `${where}, column ${k + first + 1}`));
      const rdm =
        width === P
          ? checkCondensed(Float64Array.from(values), where)
          : condensedFromSquare(n, (i, j) => values[i * n + j]!, where);
      byName.set(cells[0]!, [...(byName.get(cells[0]!) ?? []), rdm]);
    });
    return [...byName].map(([name, subjects]) => ({ name, subjects }));
  }
  // A square matrix: optional header row of image ids, optional first column of row labels.
  const hasHeader = header.some((c) => c !== '' && Number.isNaN(Number(c)) && c !== 'n/a' && c !== 'NaN');
  const body = hasHeader ? lines.slice(1) : lines;
  const labelled = body.length > 0 && body[0]!.length === n + 1;
  if (body.length !== n || body.some((r) => r.length !== (labelled ? n + 1 : n))) {
    throw new InputError(
      `${path}: a square TSV needs ${n} rows of ${n} values (optionally a header row of image ids and a first column of labels); got ${body.length} rows of ${body[0]?.length ?? 0} cells`,
    );
  }
  const values = body.map((r, i) =>
    r.slice(labelled ? 1 : 0).map((c, j) => num(c, `${path}: row ${i + 1}, column ${j + 1}`)),
  );
  let rdm = condensedFromSquare(n, (i, j) => values[i]![j]!, path);
  if (hasHeader) {
    const ids = header.slice(header.length === n + 1 ? 1 : 0);
    rdm = reorderCondensed(rdm, imageOrder(ids, setIds, `${path}: header`), n);
  }
  return [{ name: basename(path).replace(/\.[^.]+$/, ''), subjects: [rdm] }];
}

// ---------------------------------------------------------------------------------------------

/**
 * Read brain RDMs for the images `setIds` (in set order) from a .json, .tsv or .mat file.
 * `regions` keeps only those top-level variables (MAT) or regions (JSON, TSV).
 */
export async function readBrainRdms(
  path: string,
  setIds: readonly string[],
  regions?: readonly string[],
  flag = '--brain',
): Promise<BrainRdms> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new InputError(
      `${flag}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  const n = setIds.length;
  const ext = extname(path).toLowerCase();
  let result: BrainRdms;
  if (ext === '.mat' || isMatV5(bytes) || isHdf5(bytes)) {
    if (isMatV5(bytes)) {
      result = { path, format: 'mat-v5', ...regionsFromMat(parseMatV5(bytes, path), n, path, regions) };
    } else if (isHdf5(bytes)) {
      result = { path, format: 'mat-v7.3', ...regionsFromMat(await readMatV73(path), n, path, regions) };
    } else {
      throw new InputError(
        `${path}: not a MAT-file this reader knows (level 5, i.e. -v6/-v7, or v7.3); MATLAB 4 files are not read: save with -v7`,
      );
    }
  } else if (ext === '.json') {
    let json: Json;
    try {
      json = JSON.parse(bytes.toString('utf8')) as Json;
    } catch (err) {
      throw new InputError(`${path}: not valid JSON (${(err as Error).message})`);
    }
    result = { path, format: 'json', ...regionsFromJson(json, setIds, path, regions) };
  } else if (ext === '.tsv' || ext === '.txt') {
    result = {
      path,
      format: 'tsv',
      regions: regionsFromTsv(bytes.toString('utf8'), setIds, path).filter((r) => !regions || regions.includes(r.name)),
      ignored: [],
    };
  } else {
    throw new InputError(
      `${flag}: ${path}: unknown file type ${describeValue(ext || '(none)')}; expected .json, .tsv or .mat`,
    );
  }
  if (result.regions.length === 0) {
    throw new InputError(
      `${flag}: ${path} holds no RDM of ${n} images${result.ignored.length ? ` (left out: ${result.ignored.join('; ')})` : ''}; accepted shapes: ${ACCEPTED_SHAPES}`,
    );
  }
  for (const r of result.regions)
    if (r.subjects.length === 0)
      throw new InputError(`${flag}: ${path}: region ${JSON.stringify(r.name)} has no RDM (an empty stack)`);
  return result;
}

/**
 * Brain RDMs from several files (e.g. the ROI RDM file `orthostim analyze --rois` writes for each
 * participant): regions of the same name are merged, each file's RDMs added as further subjects.
 */
export async function readBrainRdmsFiles(
  paths: readonly string[],
  setIds: readonly string[],
  regions?: readonly string[],
): Promise<BrainRdms> {
  const files = await Promise.all(paths.map((p) => readBrainRdms(p, setIds, regions)));
  if (files.length === 1) return files[0]!;
  const byName = new Map<string, Float64Array[]>();
  for (const f of files) for (const r of f.regions) byName.set(r.name, [...(byName.get(r.name) ?? []), ...r.subjects]);
  const formats = [...new Set(files.map((f) => f.format))];
  return {
    path: paths.join(', '),
    format: formats.length === 1 ? formats[0]! : files[0]!.format,
    regions: [...byName].map(([name, subjects]) => ({ name, subjects })),
    ignored: files.flatMap((f) => f.ignored.map((i) => `${f.path}: ${i}`)),
  };
}
