/**
 * Reading BIDS datasets for analysis: participants, the functional runs of a task with their
 * events, the sidecar metadata each run inherits (RepetitionTime, SliceTiming, the stimulus set's
 * sha256), and fMRIPrep-style derivatives (preprocessed BOLD in a space, brain masks, confounds).
 * Every file lookup of the analysis goes through here, so statistics code never walks folders.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { InputError, describeValue } from '@orthostim/protocol';

/** BIDS entities of a file name, e.g. sub-01_task-x_run-2_bold.nii.gz -> { sub: '01', task: 'x', run: '2' }. */
export interface BidsName {
  entities: Record<string, string>;
  suffix: string;
  extension: string;
}

export function parseBidsName(fileName: string): BidsName | null {
  const m = /^((?:[a-zA-Z0-9]+-[a-zA-Z0-9]+_)*)([a-zA-Z0-9]+)(\.[a-z0-9.]+)$/.exec(fileName);
  if (!m) return null;
  const entities: Record<string, string> = {};
  for (const part of m[1]!.split('_').filter(Boolean)) {
    const i = part.indexOf('-');
    entities[part.slice(0, i)] = part.slice(i + 1);
  }
  return { entities, suffix: m[2]!, extension: m[3]! };
}

/**
 * BIDS labels (alphanumeric) for names that go into file names, e.g. a layer `inception_3a` ->
 * `desc-inception3a`: each name without its non-alphanumerics, or `<prefix>01`, `<prefix>02`, ...
 * for every name when that would collide or leave one empty.
 */
export function bidsLabels(names: readonly string[], fallbackPrefix: string): Map<string, string> {
  const stripped = names.map((id) => id.replace(/[^A-Za-z0-9]/g, ''));
  const unique = new Set(stripped).size === names.length && stripped.every((s) => s.length > 0);
  const width = String(names.length).length;
  return new Map(
    names.map((id, i) => [id, unique ? stripped[i]! : `${fallbackPrefix}${String(i + 1).padStart(width, '0')}`]),
  );
}

/** Entity values compare as strings, except run indices, which compare as numbers (run-1 == run-01). */
function sameEntity(key: string, a: string, b: string): boolean {
  if (a === b) return true;
  return key === 'run' && /^\d+$/.test(a) && /^\d+$/.test(b) && Number(a) === Number(b);
}

export interface BidsDataset {
  root: string;
  /** Participant labels (without `sub-`), sorted. */
  participants: string[];
}

export function readBidsDataset(root: string): BidsDataset {
  const dir = resolve(root);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`bids_dir: ${root} is not a folder`);
  if (!existsSync(join(dir, 'dataset_description.json'))) {
    throw new InputError(`bids_dir: ${root} has no dataset_description.json; expected the root of a BIDS dataset`);
  }
  const participants = readdirSync(dir)
    .filter((f) => /^sub-[a-zA-Z0-9]+$/.test(f) && statSync(join(dir, f)).isDirectory())
    .map((f) => f.slice(4))
    .sort();
  if (participants.length === 0) throw new InputError(`bids_dir: ${root} has no sub-<label> folders`);
  return { root: dir, participants };
}

/**
 * The participants to analyse: all, or the requested labels (`01` or `sub-01`). Unknown labels
 * are listed in one error with the labels that exist.
 */
export function selectParticipants(ds: BidsDataset, requested?: readonly string[]): string[] {
  if (!requested || requested.length === 0) return ds.participants;
  const labels = requested.map((r) => r.replace(/^sub-/, ''));
  const unknown = labels.filter((l) => !ds.participants.includes(l));
  if (unknown.length > 0) {
    throw new InputError(
      `--participant-label: ${unknown.map((u) => `"${u}"`).join(', ')} not found in ${ds.root}; participants are ${ds.participants.join(', ')}`,
    );
  }
  return [...new Set(labels)];
}

function readJson(path: string): Record<string, unknown> {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new InputError(`${path}: not a valid JSON object (${(err as Error).message})`);
  }
}

/**
 * Metadata a data file inherits (BIDS inheritance principle): every `<entities>_<suffix>.json` in
 * the file's folder or a folder above it (up to the dataset root) whose entities all match the
 * file's, merged from the root down, deeper and more specific files overriding.
 */
export function inheritedSidecar(
  root: string,
  filePath: string,
  suffix: string,
): { metadata: Record<string, unknown>; files: string[] } {
  const name = parseBidsName(basename(filePath));
  if (!name) return { metadata: {}, files: [] };
  const rel = relative(root, dirname(filePath));
  const parts = rel === '' ? [] : rel.split(sep);
  const dirs = [root, ...parts.map((_, i) => join(root, ...parts.slice(0, i + 1)))];
  const files: string[] = [];
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    const level = readdirSync(d)
      .map((f) => ({ f, n: parseBidsName(f) }))
      .filter(({ n }) => n && n.suffix === suffix && n.extension === '.json')
      .filter(({ n }) =>
        Object.entries(n!.entities).every(
          ([k, v]) => name.entities[k] !== undefined && sameEntity(k, v, name.entities[k]!),
        ),
      )
      .sort((a, b) => Object.keys(a.n!.entities).length - Object.keys(b.n!.entities).length);
    for (const { f } of level) files.push(join(d, f));
  }
  const metadata: Record<string, unknown> = {};
  for (const f of files) Object.assign(metadata, readJson(f));
  return { metadata, files };
}

export interface StudyRun {
  participant: string;
  session: string | null;
  task: string;
  /** Run label as written in the file name (e.g. "1", "01"); null when the task has one run. */
  run: string | null;
  /** The BOLD series to fit: the preprocessed one from derivatives when given, else the raw one. */
  boldPath: string;
  rawBoldPath: string;
  eventsPath: string | null;
  /** Metadata inherited by the events file (`StimulusSetSha256` from the session server). */
  eventsMetadata: Record<string, unknown>;
  /** RepetitionTime from the BOLD sidecars (s); null when no sidecar gives it. */
  repetitionTimeS: number | null;
  /** SliceTiming (s) from the sidecars; null when absent. */
  sliceTimingS: number[] | null;
  /** fMRIPrep confounds TSV; null without derivatives. */
  confoundsPath: string | null;
  /** Brain mask for the run; null when none is found. */
  maskPath: string | null;
  space: string | null;
}

export interface FindRunsOptions {
  /** Task label; default: the only task of the participant (an error if there are several). */
  task?: string;
  /** fMRIPrep (or other) derivative folders holding preprocessed BOLD, masks and confounds. */
  derivatives?: readonly string[];
  /** Space of the preprocessed BOLD (default MNI152NLin2009cAsym when derivatives are given). */
  space?: string;
}

function walkFiles(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walkFiles(p, out);
    else out.push(p);
  }
  return out;
}

const NIFTI_EXT = /^\.nii(\.gz)?$/;

/** Entities that identify a run; a derivative matches a run when these agree. */
const RUN_KEYS = ['sub', 'ses', 'task', 'acq', 'ce', 'dir', 'rec', 'run', 'echo'] as const;

function matchesRun(candidate: Record<string, string>, run: Record<string, string>, keys: readonly string[]): boolean {
  for (const k of keys) {
    const c = candidate[k];
    const r = run[k];
    if (c === undefined) continue; // a less specific file (e.g. a participant-wide mask) applies
    if (r === undefined || !sameEntity(k, c, r)) return false;
  }
  return true;
}

function specificity(e: Record<string, string>): number {
  return RUN_KEYS.filter((k) => e[k] !== undefined).length;
}

function numberList(v: unknown): number[] | null {
  return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x)) ? (v as number[]) : null;
}

/** The functional runs of one participant for a task, with everything the GLM needs to find. */
export function findStudyRuns(ds: BidsDataset, participant: string, options: FindRunsOptions = {}): StudyRun[] {
  const subDir = join(ds.root, `sub-${participant}`);
  if (!existsSync(subDir)) throw new InputError(`participant ${participant}: ${subDir} does not exist`);
  const bolds = walkFiles(subDir)
    .map((p) => ({ p, n: parseBidsName(basename(p)) }))
    .filter(({ p, n }) => n && n.suffix === 'bold' && NIFTI_EXT.test(n.extension) && basename(dirname(p)) === 'func');
  const tasks = [...new Set(bolds.map(({ n }) => n!.entities.task).filter((t): t is string => !!t))].sort();
  if (bolds.length === 0)
    throw new InputError(`participant ${participant}: no func/*_bold.nii[.gz] files under ${subDir}`);
  let task = options.task;
  if (task === undefined) {
    if (tasks.length !== 1)
      throw new InputError(`participant ${participant}: several tasks (${tasks.join(', ')}); choose one with --task`);
    task = tasks[0]!;
  } else if (!tasks.includes(task)) {
    throw new InputError(
      `--task: ${describeValue(task)} not found for participant ${participant}; tasks are ${tasks.join(', ') || '(none)'}`,
    );
  }
  const derivFiles = (options.derivatives ?? []).flatMap((d) => {
    if (!existsSync(d)) throw new InputError(`--derivatives: ${d} does not exist`);
    return walkFiles(resolve(d));
  });
  // Masks may also sit in the dataset's own derivatives/ (e.g. derivatives/masks).
  const maskFiles = [...derivFiles, ...(options.derivatives ? [] : walkFiles(join(ds.root, 'derivatives')))]
    .map((p) => ({ p, n: parseBidsName(basename(p)) }))
    .filter(
      ({ n }) =>
        n &&
        n.suffix === 'mask' &&
        NIFTI_EXT.test(n.extension) &&
        n.entities.sub !== undefined &&
        sameEntity('sub', n.entities.sub, participant),
    );
  const space = options.space ?? (options.derivatives ? 'MNI152NLin2009cAsym' : undefined);
  const parsedDeriv = derivFiles.map((p) => ({ p, n: parseBidsName(basename(p)) })).filter(({ n }) => n !== null);

  const runs: StudyRun[] = [];
  for (const { p: raw, n } of bolds) {
    const e = n!.entities;
    if (e.task !== task) continue;
    const stem = basename(raw).replace(/_bold\.nii(\.gz)?$/, '');
    const eventsPath = join(dirname(raw), `${stem}_events.tsv`);
    const boldMeta = inheritedSidecar(ds.root, raw, 'bold').metadata;
    let boldPath = raw;
    let confoundsPath: string | null = null;
    let runSpace: string | null = null;
    let metadata = boldMeta;
    if (options.derivatives) {
      const pre = parsedDeriv.find(
        ({ n: d }) =>
          d!.suffix === 'bold' &&
          NIFTI_EXT.test(d!.extension) &&
          d!.entities.desc === 'preproc' &&
          d!.entities.space === space &&
          matchesRun(d!.entities, e, RUN_KEYS) &&
          specificity(d!.entities) === specificity(e),
      );
      if (!pre) {
        throw new InputError(
          `--derivatives: no *_space-${space}_desc-preproc_bold.nii[.gz] for ${basename(raw)} in ${options.derivatives.join(', ')}`,
        );
      }
      boldPath = pre.p;
      runSpace = space ?? null;
      const preJson = pre.p.replace(/\.nii(\.gz)?$/, '.json');
      if (existsSync(preJson)) metadata = { ...boldMeta, ...readJson(preJson) };
      const conf =
        parsedDeriv.find(
          ({ n: d }) =>
            d!.suffix === 'timeseries' &&
            d!.extension === '.tsv' &&
            d!.entities.desc === 'confounds' &&
            matchesRun(d!.entities, e, RUN_KEYS) &&
            specificity(d!.entities) === specificity(e),
        ) ??
        parsedDeriv.find(
          ({ n: d }) =>
            d!.suffix === 'regressors' &&
            d!.extension === '.tsv' &&
            d!.entities.desc === 'confounds' &&
            matchesRun(d!.entities, e, RUN_KEYS),
        );
      confoundsPath = conf?.p ?? null;
    }
    const masks = maskFiles
      .filter(
        ({ n: m }) =>
          m!.entities.desc === 'brain' &&
          matchesRun(m!.entities, e, RUN_KEYS) &&
          (runSpace === null ? m!.entities.space === undefined : m!.entities.space === runSpace),
      )
      .sort((a, b) => specificity(b.n!.entities) - specificity(a.n!.entities));
    const tr = metadata.RepetitionTime;
    runs.push({
      participant,
      session: e.ses ?? null,
      task,
      run: e.run ?? null,
      boldPath,
      rawBoldPath: raw,
      eventsPath: existsSync(eventsPath) ? eventsPath : null,
      eventsMetadata: existsSync(eventsPath) ? inheritedSidecar(ds.root, eventsPath, 'events').metadata : {},
      repetitionTimeS: typeof tr === 'number' && tr > 0 ? tr : null,
      sliceTimingS: numberList(metadata.SliceTiming),
      confoundsPath,
      maskPath: masks[0]?.p ?? null,
      space: runSpace,
    });
  }
  const key = (r: StudyRun) => [r.session ?? '', r.run === null ? -1 : Number(r.run)] as const;
  runs.sort((a, b) => {
    const [sa, ra] = key(a);
    const [sb, rb] = key(b);
    return sa < sb ? -1 : sa > sb ? 1 : ra - rb;
  });
  return runs;
}

/** Parsed TSV with a header row; `n/a` becomes null. */
export function readTsv(path: string): { header: string[]; rows: (string | null)[][] } {
  if (!existsSync(path)) throw new InputError(`${path}: does not exist`);
  const lines = readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.length > 0);
  const header = (lines[0] ?? '').split('\t');
  const rows = lines.slice(1).map((l, i) => {
    const cells = l.split('\t');
    if (cells.length !== header.length)
      throw new InputError(`${path}: line ${i + 2}: expected ${header.length} cells, got ${cells.length}`);
    return cells.map((c) => (c === 'n/a' || c === '' ? null : c));
  });
  return { header, rows };
}

/** The default confounds: fMRIPrep's six rigid-body motion parameters. */
export const DEFAULT_CONFOUNDS = ['trans_x', 'trans_y', 'trans_z', 'rot_x', 'rot_y', 'rot_z'] as const;

/** Chosen columns of an fMRIPrep confounds TSV as numbers; n/a (e.g. first-row derivatives) is an error. */
export function readConfounds(
  path: string,
  columns: readonly string[],
  nScans: number,
): { names: string[]; values: Float64Array[] } {
  const { header, rows } = readTsv(path);
  if (rows.length !== nScans) throw new InputError(`${path}: ${rows.length} rows, but the run has ${nScans} volumes`);
  const values = columns.map((c) => {
    const i = header.indexOf(c);
    if (i < 0)
      throw new InputError(
        `${path}: no column "${c}"; columns are ${header.slice(0, 12).join(', ')}${header.length > 12 ? ', ...' : ''}`,
      );
    return Float64Array.from(rows, (r, li) => {
      const v = r[i] === null ? Number.NaN : Number(r[i]);
      if (!Number.isFinite(v))
        throw new InputError(
          `${path}: line ${li + 2}: column ${c}: expected a number; got ${describeValue(r[i] ?? 'n/a')}`,
        );
      return v;
    });
  });
  return { names: [...columns], values };
}
