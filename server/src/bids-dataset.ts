import { constants, copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, relative, sep } from 'node:path';
import { InputError, checkBidsLabel, formatEventsTsv, type EventsRow, type RunLabels } from '@orthostim/protocol';
import { sha256File, type LoadedStimulusSet } from '@orthostim/protocol/node';

/**
 * The BIDS dataset the session writes into. It only ever adds files: an existing
 * dataset_description.json (the scanner's dataset) is left alone, and no file is overwritten.
 */
export const RAW_LOG_ROOT = join('sourcedata', 'orthostim');

/** Check labels as BIDS labels (accepting a `sub-`/`ses-`/`task-` prefix) before they name files. */
export function normalizeRunLabels(input: { participant: unknown; session?: unknown; task?: unknown; run: unknown }): RunLabels {
  const strip = (v: unknown, prefix: string) => (typeof v === 'string' && v.startsWith(prefix) ? v.slice(prefix.length) : v);
  const participant = checkBidsLabel(strip(input.participant, 'sub-'), 'participant');
  const session = input.session === undefined || input.session === null || input.session === '' ? null : checkBidsLabel(strip(input.session, 'ses-'), 'session');
  const task = checkBidsLabel(strip(input.task ?? 'orthostim', 'task-'), 'task');
  if (typeof input.run !== 'number' || !Number.isInteger(input.run) || input.run < 1 || input.run > 999) {
    throw new InputError(`run: must be a whole number from 1 to 999; got ${JSON.stringify(input.run)}`);
  }
  return { participant, session, task, run: input.run };
}

export function runPrefix(l: RunLabels): string {
  return `sub-${l.participant}${l.session ? `_ses-${l.session}` : ''}_task-${l.task}_run-${l.run}`;
}

export function funcDir(l: RunLabels): string {
  return join(`sub-${l.participant}`, ...(l.session ? [`ses-${l.session}`] : []), 'func');
}

export interface RunPaths {
  /** Relative to the dataset root. */
  events: string;
  sidecar: string;
  rawLog: string;
}

export function runPaths(l: RunLabels): RunPaths {
  const prefix = runPrefix(l);
  return {
    events: join(funcDir(l), `${prefix}_events.tsv`),
    sidecar: join(funcDir(l), `${prefix}_events.json`),
    rawLog: join(RAW_LOG_ROOT, funcDir(l), `${prefix}_log.jsonl`),
  };
}

/** Create the dataset folder and, only if it has none, a dataset_description.json. */
export function ensureDataset(dataDir: string, version: string): void {
  mkdirSync(dataDir, { recursive: true });
  const desc = join(dataDir, 'dataset_description.json');
  if (existsSync(desc)) return;
  writeFileExclusive(
    desc,
    `${JSON.stringify({ Name: 'orthostim session data', BIDSVersion: '1.9.0', DatasetType: 'raw', GeneratedBy: [{ Name: 'orthostim', Version: version }] }, null, 2)}\n`,
  );
}

/**
 * Write a new file atomically, refusing to replace one that exists: a temporary file, then a hard
 * link to the final name (which fails if the name is taken).
 */
export function writeFileExclusive(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  writeFileSync(tmp, data);
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new InputError(`${path}: already exists; orthostim never overwrites files in a dataset`);
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Copy the stimulus set once into `stimuli/orthostim-<first 12 hex of its sha256>/`. A copy that
 * is already there is checked file by file and reused. Returns, per image, the path relative to
 * the dataset's stimuli/ folder (BIDS `stim_file`), and the set file's path relative to the dataset.
 */
export function copyStimulusSet(dataDir: string, loaded: LoadedStimulusSet): { stimFiles: string[]; setFile: string; folder: string } {
  const folderName = `orthostim-${loaded.set.sha256.slice(0, 12)}`;
  const folder = join(dataDir, 'stimuli', folderName);
  const files = [{ src: loaded.path, rel: 'stimulus-set.json' }, ...loaded.set.images.map((img, i) => ({ src: loaded.imagePaths[i]!, rel: img.file }))];
  for (const f of files) {
    const dst = join(folder, f.rel);
    if (existsSync(dst)) {
      if (sha256File(dst) !== sha256File(f.src)) throw new InputError(`${dst}: exists with different contents than ${f.src}; the dataset's copy of the stimulus set was changed`);
      continue;
    }
    mkdirSync(dirname(dst), { recursive: true });
    copyFileSync(f.src, dst, constants.COPYFILE_EXCL);
  }
  const toPosix = (p: string) => p.split(sep).join('/');
  return {
    stimFiles: loaded.set.images.map((img) => `${folderName}/${img.file}`),
    setFile: toPosix(relative(dataDir, join(folder, 'stimulus-set.json'))),
    folder,
  };
}

/** Write a run's events.tsv and events.json, refusing existing files. Returns the events path. */
export function writeRunEvents(dataDir: string, labels: RunLabels, rows: readonly EventsRow[], sidecar: Record<string, unknown>): string {
  const paths = runPaths(labels);
  const events = join(dataDir, paths.events);
  const json = join(dataDir, paths.sidecar);
  if (existsSync(json)) throw new InputError(`${json}: already exists; orthostim never overwrites files in a dataset`);
  writeFileExclusive(events, formatEventsTsv(rows));
  writeFileExclusive(json, `${JSON.stringify(sidecar, null, 2)}\n`);
  return events;
}

/** Every raw run log under sourcedata/orthostim, sorted. */
export function listRunLogs(dataDir: string): string[] {
  const root = join(dataDir, RAW_LOG_ROOT);
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('_log.jsonl')) out.push(p);
    }
  };
  walk(root);
  return out;
}

